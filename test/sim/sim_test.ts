/** The simulated host itself: it must accept what the real tools accept, refuse what they refuse, in their words. */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { freePort, type SimHost, withSimHost } from "./harness.ts";

async function config(h: SimHost, text: string): Promise<string> {
  const path = `${h.root}/k3d-${crypto.randomUUID().slice(0, 6)}.yaml`;
  await Deno.writeTextFile(path, text);
  return path;
}

const GOOD = (api: number) =>
  `apiVersion: k3d.io/v1alpha5
kind: Simple
metadata:
  name: sim
servers: 1
agents: 1
image: rancher/k3s:v1.31.2-k3s1
kubeAPI:
  hostIP: 127.0.0.1
  hostPort: "${api}"
ports:
  - port: 127.0.0.1:${freePort()}:80
    nodeFilters: [loadbalancer]
registries:
  config: ""
  notInTheSchemaButAccepted: true
options:
  k3d:
    wait: true
    timeout: 60s
  kubeconfig:
    updateDefaultKubeconfig: true
    switchCurrentContext: true
`;

Deno.test("sim k3d: a valid config creates a cluster whose JSON has k3d's fields", async () => {
  await withSimHost({}, async (h) => {
    const api = freePort();
    const r = await h.tool("k3d", ["cluster", "create", "--config", await config(h, GOOD(api))]);
    assertEquals(r.code, 0, r.stderr);
    // logrus with forced colours, INFO on stdout (k3d cmd/root.go)
    assertMatch(r.stdout, "\x1b[36mINFO\x1b[0m[0000] Cluster 'sim' created successfully!");
    assertEquals(r.stderr, "");
    const [c] = JSON.parse((await h.tool("k3d", ["cluster", "list", "-o", "json"])).stdout);
    assertEquals(c.name, "sim");
    assertEquals(c.network.name, "k3d-sim");
    assertEquals(c.kubeAPI, undefined, "k3d cluster list fills no kubeAPI");
    for (const n of c.nodes.filter((n: { role: string }) => n.role === "server")) {
      assertEquals(n.serverOpts.kubeAPI.Binding, { HostIp: "127.0.0.1", HostPort: String(api) });
    }
    const lb = c.nodes.find((n: { role: string }) => n.role === "loadbalancer");
    assertEquals(lb.portMappings["6443"], [{ HostIp: "127.0.0.1", HostPort: String(api) }]);
    assertEquals(c.nodes.map((n: { role: string }) => n.role).sort(), [
      "agent",
      "loadbalancer",
      "server",
    ]);
    const server = c.nodes.find((n: { role: string }) => n.role === "server");
    assertMatch(server.image, /^sha256:[0-9a-f]{64}$/, "a node's image is Docker's image ID");
    assertEquals(server.State.Running, true);
    assertMatch(server.IP.IP, /^172\.\d+\.0\.\d+$/);
    assertEquals(server.runtimeLabels["k3d.cluster"], "sim");
    const version = await h.tool("k3d", ["version"]);
    assertMatch(
      version.stdout,
      /^k3d version v5\.\d+\.\d+\nk3s version v1\.\d+\.\d+-k3s\d+ \(default\)\n$/,
    );
    const inspect = JSON.parse(
      (await h.tool("docker", ["container", "inspect", "k3d-sim-server-0"])).stdout,
    );
    assertEquals(inspect[0].Name, "/k3d-sim-server-0");
    assertEquals(inspect[0].Config.Image, "rancher/k3s:v1.31.2-k3s1");
    assertMatch(inspect[0].NetworkSettings.Networks["k3d-sim"].IPAddress, /^172\./);
    const ip = await h.tool("docker", [
      "container",
      "inspect",
      "--format",
      '{{(index .NetworkSettings.Networks "k3d-sim").IPAddress}}',
      "k3d-sim-server-0",
    ]);
    assertEquals(ip.stdout.trim(), inspect[0].NetworkSettings.Networks["k3d-sim"].IPAddress);
    const nodes = JSON.parse(
      (await h.tool("kubectl", ["--context", "k3d-sim", "get", "nodes", "-o", "json"])).stdout,
    );
    assertEquals([nodes.kind, nodes.apiVersion, nodes.items.length], ["List", "v1", 2]);
    assertEquals(nodes.items[0].status.nodeInfo.kubeletVersion, "v1.31.2+k3s1");
    const again = await h.tool("k3d", [
      "cluster",
      "create",
      "--config",
      await config(h, GOOD(freePort())),
    ]);
    assertEquals(again.code, 1);
    assertMatch(
      again.stderr,
      "\x1b[31mFATA\x1b[0m[0000] Failed to create cluster 'sim' because a cluster with that name already exists",
    );
  });
});

Deno.test("sim k3d: the load balancer's file sends its ports to the create's servers and agents; a server joining rewrites it for servers only", async () => {
  await withSimHost({}, async (h) => {
    const ok = async (args: string[]) => {
      const r = await h.tool("k3d", args);
      assertEquals(r.code, 0, r.stderr);
    };
    await ok([
      "cluster",
      "create",
      "lb",
      "--agents",
      "1",
      "--api-port",
      `127.0.0.1:${freePort()}`,
      "-p",
      `127.0.0.1:${freePort()}:80@loadbalancer`,
    ]);
    const config = async () =>
      JSON.parse((await h.tool("k3d", ["cluster", "list", "lb", "-o", "json"])).stdout)[0]
        .serverLoadBalancer.config;
    const [server, agent] = ["k3d-lb-server-0", "k3d-lb-agent-0"];
    // pkg/client/ports.go:46 + pkg/config/types/types.go:43: servers and agents
    assertEquals(await config(), {
      ports: { "6443.tcp": [server], "80.tcp": [server, agent] },
      settings: { workerConnections: 1024 },
    });
    // an agent joining leaves the file (pkg/client/node.go:285 updates it for servers only)
    await ok(["node", "create", "more", "--cluster", "lb", "--role", "agent"]);
    assertEquals((await config()).ports["80.tcp"], [server, agent]);
    // a server joining: LoadbalancerGenerateConfig (pkg/client/loadbalancer.go:149), the servers
    // in ClusterGet's order (the engine's: newest first)
    await ok(["node", "create", "srv", "--cluster", "lb", "--role", "server"]);
    assertEquals(await config(), {
      ports: { "6443.tcp": ["k3d-srv-0", server], "80.tcp": ["k3d-srv-0", server] },
      settings: { workerConnections: 1024 + 2 * 2 },
    });
  });
});

Deno.test("sim k3d: configs and flags the real k3d refuses are refused", async () => {
  await withSimHost({}, async (h) => {
    const cases: [string, string][] = [
      [GOOD(1).replace("kind: Simple", "kind: Cluster"), "kind must be one of the following"],
      [
        GOOD(1).replace("servers: 1", 'servers: "one"'),
        "servers: Invalid type. Expected: number, given: string",
      ],
      [
        GOOD(1).replace("agents: 1", "agents: 1\nworkers: 2"),
        "Additional property workers is not allowed",
      ],
      [
        GOOD(1).replace("nodeFilters: [loadbalancer]", "nodeFilters: [lb]"),
        "invalid format or empty subset in 'lb'",
      ],
      [
        GOOD(1).replace("    wait: true", "    wait: true\n    speed: 11"),
        "Additional property speed is not allowed",
      ],
    ];
    for (const [text, message] of cases) {
      const r = await h.tool("k3d", ["cluster", "create", "--config", await config(h, text)]);
      assertEquals(r.code, 1, `${message}: ${r.stderr}`);
      assertMatch(r.stderr, message);
    }
    assertEquals(Object.keys(h.world().clusters), [], "nothing was created");
    const flag = await h.tool("k3d", ["cluster", "create", "x", "--nodes", "3"]);
    assertEquals(flag.code, 1);
    assertMatch(flag.stderr, "unknown flag: --nodes");
    const kubectl = await h.tool("kubectl", ["get", "pods", "--colour"]);
    assertEquals(kubectl.code, 1);
    assertMatch(
      kubectl.stderr,
      "error: unknown flag: --colour\nSee 'kubectl get --help' for usage.",
    );
    const docker = await h.tool("docker", ["ps", "--bogus"]);
    assertEquals(docker.code, 125);
    assertMatch(docker.stderr, "unknown flag: --bogus");
    const missing = await h.tool("docker", ["container", "inspect", "nope"]);
    assertEquals([missing.code, missing.stdout.trim()], [1, "[]"]);
    assertMatch(missing.stderr, "Error response from daemon: No such container: nope");
    const unsimulated = await h.tool("k3d", ["image", "import", "x"]);
    assertEquals(unsimulated.code, 98, "what is not simulated fails loudly");
    const ctx = await h.tool("kubectl", ["--context", "k3d-nope", "get", "pods", "-o", "json"]);
    assertMatch(
      ctx.stderr,
      "Error in configuration: context was not found for specified context: k3d-nope",
    );
  });
});

Deno.test("sim ip and resolvectl: real syntax, real errors", async () => {
  await withSimHost({ resolved: true }, async (h) => {
    const bad = await h.tool("ip", ["route", "replace", "10.42.0.0/33", "via", "172.17.0.5"]);
    assertMatch(bad.stderr, 'Error: inet prefix is expected rather than "10.42.0.0/33".');
    const gw = await h.tool("ip", ["route", "replace", "10.42.0.0/16", "via", "10.99.0.1"]);
    assertEquals(gw.code, 2);
    assertMatch(gw.stderr, "Error: Nexthop has invalid gateway.");
    assertEquals(
      (await h.tool("ip", ["route", "replace", "10.42.0.0/16", "via", "172.17.0.5"])).code,
      0,
    );
    const shown = JSON.parse((await h.tool("ip", ["-j", "route", "show", "10.42.0.0/16"])).stdout);
    assertEquals(shown, [{
      dst: "10.42.0.0/16",
      gateway: "172.17.0.5",
      dev: "docker0",
      flags: [],
    }]);
    assertEquals((await h.tool("ip", ["route", "del", "10.42.0.0/16"])).code, 0);
    assertMatch(
      (await h.tool("ip", ["route", "del", "10.42.0.0/16"])).stderr,
      "RTNETLINK answers: No such process",
    );
    assertEquals((await h.tool("resolvectl", ["dns", "docker0", "10.43.0.10"])).code, 0);
    assertMatch(
      (await h.tool("resolvectl", ["dns", "nope0", "1.1.1.1"])).stderr,
      'Failed to resolve interface "nope0": No such device',
    );
  });
  await withSimHost({}, async (h) => {
    const off = await h.tool("resolvectl", ["status"]);
    assertEquals(off.code, 1, "without systemd-resolved resolvectl fails");
  });
});

/** A long-running simulated kubectl, its stdout read as text. */
function streaming(h: SimHost, args: string[]) {
  const child = new Deno.Command(new URL("./bin/kubectl", import.meta.url).pathname, {
    args,
    env: h.env,
    clearEnv: true,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  return { child, reader: child.stdout.pipeThrough(new TextDecoderStream()).getReader() };
}

Deno.test("sim kubectl port-forward: binds loopback for real and answers each TCP connection", async () => {
  await withSimHost({}, async (h) => {
    assertEquals(
      (await h.tool("k3d", ["cluster", "create", "pf", "--api-port", `127.0.0.1:${freePort()}`]))
        .code,
      0,
    );
    h.kube("pf", (k, { addService, addDeployment }) => {
      addDeployment(k, { namespace: "default", name: "web" });
      addService(k, { namespace: "default", name: "web", ports: [{ port: 8080, targetPort: 80 }] });
    });
    const local = freePort();
    const { child, reader } = streaming(h, [
      "--context",
      "k3d-pf",
      "-n",
      "default",
      "port-forward",
      "svc/web",
      `${local}:8080`,
      "--address",
      "127.0.0.1",
    ]);
    const { value } = await reader.read();
    assertEquals(value, `Forwarding from 127.0.0.1:${local} -> 80\n`);
    for (let i = 0; i < 3; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: local });
      await conn.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
      const buf = new Uint8Array(512);
      const n = await conn.read(buf);
      conn.close();
      assertMatch(
        new TextDecoder().decode(buf.subarray(0, n ?? 0)),
        // the pod's server answers on the service's targetPort
        /\r\n\r\ndefault\/web-[0-9a-f]{9}-[0-9a-f]{5}:80\n$/,
      );
    }
    child.kill("SIGTERM");
    await child.status;
    reader.releaseLock();
  });
});

Deno.test("sim kubectl get --watch -o name: the objects there, then a line per change; one type only", async () => {
  await withSimHost({}, async (h) => {
    assertEquals(
      (await h.tool("k3d", ["cluster", "create", "wa", "--api-port", `127.0.0.1:${freePort()}`]))
        .code,
      0,
    );
    const several = await h.tool("kubectl", [
      "--context",
      "k3d-wa",
      "get",
      "pods,nodes",
      "--watch",
      "-o",
      "name",
    ]);
    assertEquals(several.code, 1);
    assertMatch(several.stderr, "watch is only supported on individual resources");
    const { child, reader } = streaming(h, [
      "--context",
      "k3d-wa",
      "get",
      "pods",
      "-A",
      "--watch",
      "-o",
      "name",
    ]);
    let text = "";
    const until = async (what: string) => {
      while (!text.includes(what)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the watch ended before ${what}:\n${text}`);
        text += value;
      }
    };
    await until("pod/coredns-");
    h.kube("wa", (k, { addPod }) => addPod(k, { namespace: "default", name: "late" }));
    await until("pod/late\n");
    child.kill("SIGTERM");
    await child.status;
    reader.releaseLock();
  });
});

Deno.test("sim faults and latency: the first matching call fails as told, later ones do not; calls wait", async () => {
  await withSimHost({}, async (h) => {
    h.fault("k3d cluster list", "FATA[0000] simulated outage", { exit: 3 });
    const failed = await h.tool("k3d", ["cluster", "list", "-o", "json"]);
    assertEquals([failed.code, failed.stderr], [3, "FATA[0000] simulated outage\n"]);
    assertEquals((await h.tool("k3d", ["cluster", "list", "-o", "json"])).code, 0);
    h.latency(0, { "k3d version": 400 });
    const t0 = performance.now();
    assertEquals((await h.tool("k3d", ["version"])).code, 0);
    assertOk(performance.now() - t0 >= 400, "the call waited at least the injected latency");
    const log = h.calls();
    assertEquals(log.map((c) => `${c.tool} ${c.argv[0]} ${c.mutating}`), [
      "k3d cluster false",
      "k3d cluster false",
      "k3d version false",
    ]);
  });
});

/** `kubectl port-forward` on the simulated host, run to its end. */
async function forward(h: SimHost, target: string, extra: string[] = []) {
  return await h.tool("kubectl", [
    "--context",
    "k3d-pf",
    "port-forward",
    target,
    `${freePort()}:8080`,
    "--address",
    "127.0.0.1",
    ...extra,
  ]);
}

Deno.test("sim kubectl port-forward: needs a running pod behind the service", async () => {
  await withSimHost({}, async (h) => {
    const api = `127.0.0.1:${freePort()}`;
    assertEquals((await h.tool("k3d", ["cluster", "create", "pf", "--api-port", api])).code, 0);
    h.kube("pf", (k, { addService, addDeployment }) => {
      addService(k, { namespace: "default", name: "empty", ports: [8080] });
      addService(k, { namespace: "default", name: "bare", ports: [8080], selector: null });
      addDeployment(k, { namespace: "default", name: "slow", available: false });
      addService(k, { namespace: "default", name: "slow", ports: [8080] });
      addDeployment(k, { namespace: "default", name: "web" });
      addService(k, { namespace: "default", name: "web", ports: [8080] });
    });
    // kubectl watches for a pod until --pod-running-timeout (GetFirstPod), then gives up
    const empty = await forward(h, "svc/empty", ["--pod-running-timeout=1s"]);
    assertEquals([empty.code, empty.stderr], [1, "error: timed out waiting for the condition\n"]);
    const bare = await forward(h, "svc/bare");
    assertEquals(bare.code, 1);
    assertMatch(bare.stderr, "invalid service 'bare': Service is defined without a selector");
    const slow = await forward(h, "svc/slow");
    assertEquals(
      [slow.code, slow.stderr],
      [1, "error: unable to forward port because pod is not running. Current status=Pending\n"],
    );
    assertEquals(h.calls().filter((c) => c.argv.includes("port-forward")).length, 3);
  });
});
