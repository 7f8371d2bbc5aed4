/** The parsers of tool output, on what the real tools printed (test/sim/fixtures/README.md). */
import { assertEquals, assertOk } from "../../test/assert.ts";
import {
  addressOn,
  bridgeInterface,
  type ContainerInfo,
  type NetworkInfo,
  parsePublishedPorts,
} from "./docker.ts";
import { firstLine, k3dLogLine } from "./exec.ts";
import { apiBinding, type K3dCluster, lbBinding, registryContainer } from "./k3d.ts";

const FIXTURES = new URL("../../test/sim/fixtures/", import.meta.url).pathname;

// deno-lint-ignore no-explicit-any
function fixture(path: string): any {
  return JSON.parse(Deno.readTextFileSync(`${FIXTURES}${path}`));
}

Deno.test("firstLine: kubectl's refused connection is quoted past its klog lines", () => {
  const real = fixture("kubectl/refused-get.json");
  assertEquals(
    firstLine(real.stderr),
    "The connection to the server 127.0.0.1:45679 was refused - did you specify the right host or port?",
  );
  assertEquals(
    firstLine(fixture("kubectl/missing-context-get.json").stderr),
    "Error in configuration: context was not found for specified context: k3d-nope",
  );
  assertEquals(
    firstLine(fixture("kubectl/missing-context-create.json").stderr),
    'error: context "k3d-nope" does not exist',
  );
});

Deno.test("firstLine: k3d's failed create gives its first ERRO line, coloured or logfmt, never the warning", () => {
  const logging = fixture("k3d/logging.json");
  for (const format of ["coloured", "logfmt"]) {
    const run = logging[format].create_2_servers_failed;
    const line = firstLine(run.stderr.join("\n") + "\n");
    assertEquals(
      line.startsWith("Failed Cluster Start: Failed to add one or more helper nodes"),
      true,
    );
    assertEquals(line.endsWith("Bind for 127.0.0.1:8080 failed: port is already allocated"), true);
    assertEquals(line.includes("\x1b"), false);
  }
  assertEquals(
    k3dLogLine('time="2026-01-01T00:00:00Z" level=fatal msg="a \\"quoted\\" word"'),
    { level: "FATA", message: 'a "quoted" word' },
  );
  assertEquals(k3dLogLine('time="2026-01-01T00:00:00Z" level=info msg=plain'), {
    level: "INFO",
    message: "plain",
  });
});

Deno.test("firstLine: Docker's permission and daemon messages stay whole", () => {
  const [version] = fixture("docker/permission-denied.json");
  assertEquals(firstLine(version.stderr), version.stderr.trim());
  const down = fixture("docker/daemon-down.json");
  assertEquals(firstLine(down.stderr), down.stderr.trim());
});

Deno.test("k3d JSON: the API port from the server node or the load balancer's bare 6443; http from 80/tcp", () => {
  // k3d/cluster-list.json: 127.0.0.1 ports, numbered as they first appear (load balancer first:
  // 6443, then 443/tcp, then 80/tcp, Go's sorted map keys)
  const [cluster] = fixture("k3d/cluster-list.json").list as K3dCluster[];
  assertEquals(apiBinding(cluster), { HostIp: "127.0.0.1", HostPort: "45000" });
  const lbOnly = { ...cluster, nodes: cluster.nodes.filter((n) => n.role !== "server") };
  assertEquals(apiBinding(lbOnly), { HostIp: "127.0.0.1", HostPort: "45000" });
  assertEquals(lbBinding(cluster, "443")?.HostPort, "45001");
  assertEquals(lbBinding(cluster, "80")?.HostPort, "45002");
  assertEquals(lbBinding(cluster, "5000"), undefined);
  const [reg] = fixture("k3d/registry-list.json").list;
  assertEquals(reg.name, registryContainer("reg"));
  assertEquals(registryContainer("k3d-reg"), "k3d-k3d-reg");
});

Deno.test("docker JSON: a container's address by network, a network's bridge, published ports", () => {
  const [info] = fixture("docker/container-inspect.json").stdout_json as ContainerInfo[];
  assertEquals(addressOn(info, "fs-fixture-net"), "172.18.0.2");
  assertEquals(addressOn(info, "bridge"), undefined);
  assertEquals(info.HostConfig.PortBindings?.["5000/tcp"]?.[0].HostIp, "127.0.0.1");
  const [net] = fixture("docker/network-inspect.json").stdout_json as NetworkInfo[];
  assertEquals(bridgeInterface(net), "br-111111111111");
  assertEquals(
    parsePublishedPorts(fixture("docker/ps-json.json").stdout),
    new Map([[45678, "fs-fixture-registry"]]),
  );
  // Engine ≤ 28 keeps k3d's bare "6443", Engine 29 stores "6443/tcp": the API is found either way
  const bare = fixture("docker/port-bindings-bare-key.json").stdout_json;
  const key = Object.keys(bare)[0];
  assertOk(key === "6443" || key === "6443/tcp", key);
  for (const form of ["6443", "6443/tcp"]) {
    const cluster = {
      name: "c",
      network: { name: "k3d-c" },
      nodes: [{ role: "loadbalancer", portMappings: { [form]: bare[key] } }],
    } as unknown as K3dCluster;
    assertEquals(apiBinding(cluster), bare[key][0], form);
  }
});
