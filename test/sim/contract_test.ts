/**
 * Contract: the simulated tools answer in the shape the real ones do (fixtures/README.md): keys and
 * types of their JSON, streams, colours, messages and exit codes, against outputs captured from the
 * real Docker engine, kubectl client and iproute2, and k3d's shapes written from its source.
 */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { until } from "../wait.ts";
import { freePort, type SimHost, withSimHost } from "./harness.ts";
import { pinK3d } from "./k3d_types.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

// deno-lint-ignore no-explicit-any
type Json = any;

function fixture(path: string): Json {
  return JSON.parse(Deno.readTextFileSync(`${FIXTURES}${path}`));
}

/** Keys whose object is a map (names are data): compared by the shape of their values only. */
const MAPS = new Set([
  "Labels",
  "Networks",
  "PortBindings",
  "Ports",
  "ExposedPorts",
  "Volumes",
  "Containers",
  "Options",
  "runtimeLabels",
  "portMappings",
  "data",
  "ports",
]);

function typeOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/** Every path of a JSON value with its type; map keys become `*`, array items `[]`. */
function paths(v: unknown, prefix = "", out = new Map<string, string>(), mapKey = false) {
  out.set(prefix || "$", typeOf(v));
  if (Array.isArray(v)) { for (const item of v) paths(item, `${prefix}[]`, out); }
  else if (v && typeof v === "object") {
    for (const [k, value] of Object.entries(v)) {
      paths(value, `${prefix}.${mapKey ? "*" : k}`, out, MAPS.has(k));
    }
  }
  return out;
}

/** Paths the simulator prints that the real tool does not, or with another type. */
function invented(sim: unknown, real: unknown): string[] {
  const r = paths(real);
  // a null in the real sample (e.g. a registry image without Env) says nothing about what is below
  const nullAbove = (p: string) =>
    [...r].some(([q, t]) =>
      t === "null" && (p === q || p.startsWith(`${q}.`) || p.startsWith(`${q}[`))
    );
  return [...paths(sim)].filter(([p, t]) =>
    r.get(p) !== t && !(t === "null" && r.has(p)) && !nullAbove(p)
  ).map(([p, t]) => `${p}: ${t} (real: ${r.get(p) ?? "absent"})`);
}

async function cluster(h: SimHost, name: string, args: string[] = []): Promise<void> {
  const r = await h.tool("k3d", [
    "cluster",
    "create",
    name,
    "--api-port",
    `127.0.0.1:${freePort()}`,
    ...args,
  ]);
  assertEquals(r.code, 0, r.stderr);
}

Deno.test("contract docker: inspect, network inspect and ps print what the real engine prints", async () => {
  await withSimHost({}, async (h) => {
    await cluster(h, "c");
    const inspect = await h.tool("docker", ["container", "inspect", "k3d-c-server-0"]);
    const real = fixture("docker/container-inspect.json");
    assertEquals(inspect.code, real.code);
    assertEquals(invented(JSON.parse(inspect.stdout), real.stdout_json), []);

    const missing = await h.tool("docker", ["container", "inspect", "fs-fixture-nope"]);
    const realMissing = fixture("docker/container-inspect-missing.json");
    assertEquals(
      [missing.code, missing.stdout, missing.stderr],
      [realMissing.code, realMissing.stdout, realMissing.stderr],
    );

    const net = await h.tool("docker", ["network", "inspect", "k3d-c"]);
    assertEquals(
      invented(JSON.parse(net.stdout), fixture("docker/network-inspect.json").stdout_json),
      [],
    );

    // one `docker inspect` of a container, a network and a missing name: what is found, in the
    // order asked, then one stderr line per missing name, exit 1
    const mixed = await h.tool("docker", ["inspect", "k3d-c-server-0", "k3d-c", "fs-fixture-nope"]);
    const realMixed = fixture("docker/inspect-mixed.json");
    assertEquals([mixed.code, mixed.stderr], [realMixed.code, realMixed.stderr]);
    const [ctr, network] = JSON.parse(mixed.stdout);
    assertEquals(invented(ctr, realMixed.stdout_json[0]), []);
    assertEquals(invented(network, realMixed.stdout_json[1]), []);
    assertEquals([ctr.Name, network.Name], ["/k3d-c-server-0", "k3d-c"]);

    const ps = await h.tool("docker", ["ps", "--format", "{{json .}}"]);
    const row = ps.stdout.trim().split("\n").map((l) => JSON.parse(l)).find((r) =>
      r.Names.endsWith("-serverlb")
    );
    const realRow = [fixture("docker/ps-json.json").stdout_json].flat()[0];
    assertEquals(invented(row, realRow), []);
    assertMatch(realRow.Ports, /^127\.0\.0\.1:\d+->5000\/tcp$/);
    assertMatch(row.Ports, /^(\d+\.\d+\.\d+\.\d+:\d+->\d+\/tcp(, )?)+$/);
  });
});

Deno.test("contract docker: a denied socket and a stopped daemon, word for word", async () => {
  await withSimHost({}, async (h) => {
    h.updateWorld((w) => w.dockerDenied = true);
    for (const real of fixture("docker/permission-denied.json")) {
      const sim = await h.tool("docker", real.argv.slice(1));
      assertEquals([sim.code, sim.stdout, sim.stderr], [real.code, real.stdout, real.stderr]);
    }
    h.updateWorld((w) => {
      w.dockerDenied = false;
      w.docker.running = false;
    });
    const down = fixture("docker/daemon-down.json");
    const sim = await h.tool("docker", down.argv.slice(1));
    assertEquals(sim.code, down.code);
    assertEquals(
      sim.stderr.replace("/var/run/docker.sock", "/nonexistent/docker.sock"),
      down.stderr,
    );
  });
});

Deno.test("contract docker: k3d's bare 6443 port key as the engine stores it (≤ 28 bare, 29 as 6443/tcp), as the simulated load balancer has it", async () => {
  const real = fixture("docker/port-bindings-bare-key.json");
  const engine = Number(String(real.engine ?? "20").split(".")[0]);
  // engines differ: either form is the real one, as long as the simulator plays the same engine
  assertEquals(Object.keys(real.stdout_json), [engine >= 29 ? "6443/tcp" : "6443"]);
  for (const [version, key] of [["28.2.2", "6443"], ["29.0.0", "6443/tcp"]]) {
    await withSimHost({}, async (h) => {
      h.updateWorld((w) => w.docker.serverVersion = version);
      await cluster(h, "c");
      const lb = JSON.parse(
        (await h.tool("docker", ["container", "inspect", "k3d-c-serverlb"])).stdout,
      );
      assertEquals(Object.keys(lb[0].HostConfig.PortBindings)[0], key, version);
    });
  }
});

/** kubectl's klog header and the refused-connection lines. */
const KLOG =
  /^E\d{4} \d\d:\d\d:\d\d\.\d{6}\s+\d+ memcache\.go:\d+\] "Unhandled Error" err="couldn't get current server API group list: Get \\"https:\/\/[\d.]+:\d+\/api\?timeout=32s\\": dial tcp [\d.]+:\d+: connect: connection refused"$/;
const REFUSED =
  /^The connection to the server [\d.]+:\d+ was refused - did you specify the right host or port\?$/;

Deno.test("contract kubectl: a refused connection, missing contexts, create secret tls, version", async () => {
  await withSimHost({}, async (h) => {
    await cluster(h, "c");
    assertEquals((await h.tool("docker", ["stop", "k3d-c-serverlb"])).code, 0);
    const real = fixture("kubectl/refused-get.json");
    const sim = await h.tool("kubectl", ["--context", "k3d-c", "get", "nodes", "-o", "json"]);
    const shape = (text: string) =>
      text.trimEnd().split("\n").map((l) =>
        KLOG.test(l) ? "klog" : REFUSED.test(l) ? "refused" : l
      );
    assertEquals([sim.code, sim.stdout, shape(sim.stderr)], [
      real.code,
      real.stdout,
      shape(real.stderr),
    ]);

    for (
      const name of [
        "missing-context-get",
        "missing-context-create",
        "logs-usage",
        "logs-selector-and-pod",
      ]
    ) {
      const want = fixture(`kubectl/${name}.json`);
      const got = await h.tool("kubectl", want.argv.slice(1));
      assertEquals([got.code, got.stdout, got.stderr], [want.code, want.stdout, want.stderr], name);
    }

    // the same call as the capture, with a fresh key pair where it had its own
    const secret = fixture("kubectl/create-secret-tls.json");
    const dir = await Deno.makeTempDir({ dir: h.root });
    const ssl = await new Deno.Command("openssl", {
      args: ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${dir}/tls.key`]
        .concat(["-out", `${dir}/tls.crt`, "-days", "1", "-subj", "/CN=fixture.local"]),
      stdout: "null",
      stderr: "null",
    }).output();
    assertEquals(ssl.code, 0, "openssl makes the key pair");
    const argv: string[] = secret.argv.slice(1).map((a: string) =>
      a.replace("/tmp/fs-fixture-kube", dir)
    );
    const made = await h.tool("kubectl", argv);
    assertEquals(made.code, secret.code, made.stderr);
    assertEquals(invented(JSON.parse(made.stdout), secret.stdout_json), []);
    assertEquals(invented(secret.stdout_json, JSON.parse(made.stdout)), []);

    const version = await h.tool("kubectl", ["version", "--client", "-o", "json"]);
    assertEquals(
      invented(JSON.parse(version.stdout), fixture("kubectl/version-client.json").stdout_json),
      [],
    );
  });
});

Deno.test("contract ip: route JSON keys and the kernel's errors", async () => {
  const real = fixture("ip/route.json");
  await withSimHost({}, async (h) => {
    const env = { ...h.env, FIRESTREAM_SIM_SUDO: "1" };
    const ip = (args: string[]) =>
      new Deno.Command(new URL("./bin/ip", import.meta.url).pathname, {
        args,
        env,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output().then((o) => ({
        code: o.code,
        stdout: new TextDecoder().decode(o.stdout),
        stderr: new TextDecoder().decode(o.stderr),
      }));
    assertEquals((await ip(["route", "add", "10.42.0.0/16", "via", "172.17.0.2"])).code, 0);
    const shown = await ip(["-j", "route", "show"]);
    assertEquals(invented(JSON.parse(shown.stdout), JSON.parse(real.show.stdout)), []);
    const one = await ip(["-j", "route", "show", "10.42.0.0/16"]);
    assertEquals(invented(JSON.parse(one.stdout), JSON.parse(real["show-cidr"].stdout)), []);
    assertEquals(
      (await ip(["-j", "route", "show", "10.99.0.0/16"])).stdout,
      real["show-none"].stdout,
    );
    const exists = await ip(["route", "add", "10.42.0.0/16", "via", "172.17.0.3"]);
    assertEquals([exists.code, exists.stderr], [
      real["add-exists"].code,
      real["add-exists"].output,
    ]);
    const gateway = await ip(["route", "replace", "10.43.0.0/16", "via", "10.99.0.1"]);
    assertEquals([gateway.code, gateway.stderr], [
      real["bad-gateway"].code,
      real["bad-gateway"].output,
    ]);
    const gone = await ip(["route", "del", "10.44.0.0/16"]);
    assertEquals([gone.code, gone.stderr], [real["del-missing"].code, real["del-missing"].output]);
  });
});

Deno.test("contract k3d: cluster list, cluster list NAME and registry list are k3d's listing of what the real engine holds", async () => {
  const want = fixture("k3d/cluster-list.json");
  const wantRegs = fixture("k3d/registry-list.json");
  await withSimHost({}, async (h) => {
    // the simulated engine plays the one the fixture was read from (the 6443 key differs at 29)
    h.updateWorld((w) => w.docker.serverVersion = want.engine);
    await cluster(h, "demo", [
      "--agents",
      "1",
      "-p",
      `127.0.0.1:${freePort()}:80@loadbalancer`,
      "-p",
      `127.0.0.1:${freePort()}:443@loadbalancer`,
    ]);
    const port = `127.0.0.1:${freePort()}`;
    assertEquals((await h.tool("k3d", ["registry", "create", "reg", "--port", port])).code, 0);
    const k3d = async (args: string[]) => pinK3d(JSON.parse((await h.tool("k3d", args)).stdout));
    assertEquals(await k3d(["cluster", "list", "-o", "json"]), want.list);
    assertEquals(await k3d(["cluster", "list", "demo", "-o", "json"]), want.get);
    assertEquals(await k3d(["registry", "list", "-o", "json"]), wantRegs.list);
    // what the shape says: no kubeAPI on the cluster, the API port on the nodes, ClusterList
    // leaves registries out
    assertEquals("kubeAPI" in want.list[0], false);
    const lb = want.list[0].nodes.find((n: Json) => n.role === "loadbalancer");
    assertOk(Object.keys(lb.portMappings).some((k) => k === "6443" || k === "6443/tcp"));
    // cmd/registry/registryCreate.go:146: always "k3d-" + NAME
    assertEquals(wantRegs.list.map((r: Json) => r.name), ["k3d-reg"]);
    assertEquals((await h.tool("k3d", ["registry", "create", "k3d-reg"])).code, 0);
    const again = await h.tool("k3d", ["registry", "create", "k3d-reg"]);
    assertEquals(again.code, 1);
    assertMatch(again.stderr, "A registry node with that name already exists");
    assertOk(h.world().containers["k3d-k3d-reg"]);
  });
});

/** The level of one k3d line in either format, with the format's own checks. */
function k3dLevel(line: string, coloured: boolean): string {
  if (coloured) {
    const esc = String.fromCharCode(27);
    const coloredLine = new RegExp(
      `^${esc}\\[(\\d+)m(PANI|FATA|ERRO|WARN|INFO|DEBU|TRAC)${esc}\\[0m\\[\\d{4}\\] .{44,} $`,
    );
    const m = coloredLine.exec(
      line,
    );
    assertOk(m, `coloured k3d line: ${JSON.stringify(line)}`);
    const colours = fixture("k3d/logging.json").coloured.colours;
    assertEquals(Number(m![1]), colours[m![2]], line);
    return m![2];
  }
  const m = /^time="[^"]+" level=(\w+) msg=(".*"|\S+)$/.exec(line);
  assertOk(m, `logfmt k3d line: ${JSON.stringify(line)}`);
  return m![1];
}

Deno.test("contract k3d: a failing 2-server create logs like k3d, coloured or logfmt, split by level", async () => {
  const real = fixture("k3d/logging.json");
  for (const coloured of [true, false]) {
    await withSimHost({}, async (h) => {
      const http = freePort();
      const taken = Deno.listen({ hostname: "127.0.0.1", port: http });
      const env: Record<string, string> = coloured ? {} : { LOG_COLORS: "false" };
      const out = await new Deno.Command(new URL("./bin/k3d", import.meta.url).pathname, {
        args: [
          "cluster",
          "create",
          "demo",
          "--servers",
          "2",
          "--api-port",
          `127.0.0.1:${freePort()}`,
          "-p",
          `127.0.0.1:${http}:80@loadbalancer`,
        ],
        env: { ...h.env, ...env },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      taken.close();
      const want = coloured
        ? real.coloured.create_2_servers_failed
        : real.logfmt.create_2_servers_failed;
      assertEquals(out.code, want.code);
      const lines = (b: Uint8Array) => new TextDecoder().decode(b).replace(/\n$/, "").split("\n");
      const levels = (l: string[]) => [...new Set(l.map((x) => k3dLevel(x, coloured)))];
      assertEquals(levels(lines(out.stderr)), levels(want.stderr));
      assertEquals(levels(lines(out.stdout)), levels(want.stdout));
      const streams = real.streams;
      for (const level of levels(lines(out.stderr))) {
        assertOk(
          streams.stderr.some((s: string) =>
            s.toUpperCase().startsWith(level.slice(0, 4).toUpperCase())
          ),
          level,
        );
      }
      assertEquals(Object.keys(h.world().clusters), [], "k3d rolled back");
    });
  }
});

/** kubectl's klog line for a connection to a pod that is gone (client-go portforward.go v0.32.0). */
const LOST =
  /^E\d{4} \d\d:\d\d:\d\d\.\d{6}\s+\d+ portforward\.go:424\] "Unhandled Error" err="an error occurred forwarding (\d+) -> 8080: error forwarding port 8080 to pod [0-9a-f]{64}, uid : failed to find sandbox \\"[0-9a-f]{64}\\" in store: not found"$/;

Deno.test("contract kubectl: port-forward svc/X takes the pod ready longest, outlives it, fails the next connection, then exits", async () => {
  await withSimHost({}, async (h) => {
    await cluster(h, "pf");
    let old = "", fresh = "";
    h.kube("pf", (k, { addDeployment, addService, deploymentPods, surgePod }) => {
      addDeployment(k, { namespace: "default", name: "web" });
      addService(k, { namespace: "default", name: "web", ports: [8080] });
      [old] = deploymentPods(k, { namespace: "default", name: "web" });
      // ready since earlier: kubectl prefers it over the new pod of a rollout
      k.objects.pods[`default/${old}`].status.conditions[0].lastTransitionTime =
        "2020-01-01T00:00:00Z";
      fresh = surgePod(k, { namespace: "default", name: "web", revision: 2 });
    });
    const child = h.spawnTool("kubectl", [
      "--context",
      "k3d-pf",
      "port-forward",
      "svc/web",
      ":8080",
      "--address",
      "127.0.0.1",
    ]);
    const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const first = (await out.read()).value ?? "";
    const port = Number(/^Forwarding from 127\.0\.0\.1:(\d+) -> 8080\n/.exec(first)?.[1]);
    assertOk(port > 0, first);
    const get = async () => {
      try {
        return await (await fetch(`http://127.0.0.1:${port}/`)).text();
      } catch {
        return undefined;
      }
    };
    assertEquals(await get(), `default/${old}:8080\n`, "the pod ready longest, not the new one");
    assertMatch((await out.read()).value ?? "", /^Handling connection for \d+\n/);

    h.kube("pf", (k, { removePod }) => removePod(k, { namespace: "default", pod: old }));
    // kubectl does not look at its pod again: it still runs and listens after the sim saw the change
    // (an observation window for something that must not happen; an early exit took 300 ms)
    const early = await Promise.race([
      child.status.then(() => "exited"),
      new Promise((r) => setTimeout(() => r("running"), 1500)),
    ]);
    assertEquals(early, "running", "port-forward must keep its listener after its pod goes");
    // the next connection is accepted, then fails without a byte, and kubectl exits
    assertEquals(await get(), undefined);
    assertEquals((await out.read()).value, `Handling connection for ${port}\n`);
    const status = await child.status;
    const stderr = (new TextDecoder().decode(await new Response(child.stderr).arrayBuffer()))
      .trimEnd().split("\n");
    assertEquals(status.code, 1);
    assertEquals(stderr.length, 2, stderr.join("\n"));
    assertEquals(LOST.exec(stderr[0])?.[1], String(port), stderr[0]);
    assertEquals(stderr[1], "error: lost connection to pod");
    assertEquals(await get(), undefined, "the listener is closed");
    assertOk(h.world().clusters.pf.kube.objects.pods[`default/${fresh}`], "the new pod stays");
  });
});

/**
 * kubectl's words for answers that need an API server, from kubernetes/kubectl v0.32.0 (kubectl
 * 1.32, the simulated version): `Error from server (REASON): …` (pkg/cmd/util/helpers.go:255, the
 * NotFound text of apimachinery's NewNotFound, `RESOURCE "NAME" not found`), `error: the server
 * doesn't have a resource type "X"` (helpers.go:204), `KIND/NAME condition met` (pkg/cmd/wait/
 * wait.go:106), `KIND/NAME created|unchanged|configured` (pkg/cmd/apply/apply.go:716,751,766),
 * `KIND "NAME" deleted` (pkg/cmd/delete/delete.go:523; from v0.34 a namespaced object adds
 * ` from NS namespace`).
 */
Deno.test("contract kubectl: NotFound, unknown type, wait, apply and delete lines as kubectl 1.32 prints them", async () => {
  await withSimHost({}, async (h) => {
    await cluster(h, "c");
    const k = (args: string[]) => h.tool("kubectl", ["--context", "k3d-c", ...args]);
    const missing = await k(["get", "configmap", "nope", "-n", "default", "-o", "json"]);
    assertEquals([missing.code, missing.stderr], [
      1,
      'Error from server (NotFound): configmaps "nope" not found\n',
    ]);
    const type = await k(["get", "widgets", "-o", "json"]);
    assertEquals([type.code, type.stderr], [
      1,
      'error: the server doesn\'t have a resource type "widgets"\n',
    ]);
    const wait = await k(["wait", "--for=condition=Ready", "nodes", "--all", "--timeout=5s"]);
    assertEquals([wait.code, wait.stdout], [0, "node/k3d-c-server-0 condition met\n"]);
    const file = `${h.root}/cm.yaml`;
    const manifest = (v: string) =>
      Deno.writeTextFileSync(
        file,
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: default\ndata:\n  k: "${v}"\n`,
      );
    manifest("1");
    const applied: string[] = [];
    for (const v of ["1", "1", "2"]) {
      manifest(v);
      const r = await k(["apply", "-f", file]);
      assertEquals(r.code, 0, r.stderr);
      applied.push(r.stdout);
    }
    assertEquals(applied, [
      "configmap/app created\n",
      "configmap/app unchanged\n",
      "configmap/app configured\n",
    ]);
    const gone = await k(["delete", "configmap", "app", "-n", "default"]);
    assertEquals([gone.code, gone.stdout], [0, 'configmap "app" deleted\n']);
    const del = await k(["delete", "configmap", "nope", "--ignore-not-found"]);
    assertEquals([del.code, del.stdout], [0, ""]);
    const delMissing = await k(["delete", "configmap", "nope"]);
    assertEquals([delMissing.code, delMissing.stderr], [
      1,
      'Error from server (NotFound): configmaps "nope" not found\n',
    ]);
  });
});

/**
 * `kubectl logs` as kubectl 1.32 prints it, from kubernetes/kubectl v0.32.0 (test/sim/logs.ts
 * carries the same citations): the streams, the notes on stderr and the errors.
 */
Deno.test("contract kubectl: logs lines, prefixes, timestamps, tails, default containers, NotFound and the pod a deployment picks, as kubectl 1.32 prints them", async () => {
  await withSimHost({}, async (h) => {
    await cluster(h, "c");
    let web: string[] = [];
    h.kube("c", (k, { addDeployment, addPod, deploymentPods }) => {
      addPod(k, { namespace: "default", name: "solo", containers: ["main"] });
      k.logs["default/solo/main"] = ["one", "two", "three"];
      addPod(k, {
        namespace: "default",
        name: "duo",
        containers: ["app", "sidecar"],
        logs: { app: ["a1", "a2"], sidecar: ["s1"] },
      });
      addPod(k, {
        namespace: "default",
        name: "chatty",
        labels: { tier: "x" },
        logs: { chatty: Array.from({ length: 12 }, (_, i) => `c${i + 1}`) },
      });
      addDeployment(k, { namespace: "default", name: "web", replicas: 2, labels: { app: "web" } });
      web = deploymentPods(k, { namespace: "default", name: "web" });
      // ByLogging puts the pod with more restarts first (podutils.go:116-119)
      k.objects.pods[`default/${web[1]}`].status.containerStatuses[0].restartCount = 2;
    });
    const k = (args: string[]) => h.tool("kubectl", ["--context", "k3d-c", "logs", ...args]);
    const result = (r: { code: number; stdout: string; stderr: string }) => [
      r.code,
      r.stdout,
      r.stderr,
    ];

    // one container: its lines as they are (logs.go:468-489 copies the stream)
    assertEquals(result(await k(["solo"])), [0, "one\ntwo\nthree\n", ""]);
    // --prefix: `[pod/NAME/CONTAINER] ` before each line (logs.go:453)
    assertEquals(result(await k(["solo", "--prefix"])), [
      0,
      "[pod/solo/main] one\n[pod/solo/main] two\n[pod/solo/main] three\n",
      "",
    ]);
    // --tail: the last N lines, asked of the server (logs.go:242-243); --timestamps: the kubelet's
    // fixed-width RFC 3339 stamp after the prefix (the prefix wraps the stream, logs.go:496-503)
    const stamped = await k(["solo", "--tail=2", "--timestamps", "--prefix"]);
    assertEquals(stamped.code, 0);
    const stamp = /^\[pod\/solo\/main\] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (.*)$/;
    assertEquals(
      stamped.stdout.trimEnd().split("\n").map((l) => stamp.exec(l)?.[1]),
      ["two", "three"],
    );
    assertEquals(result(await k(["solo", "--tail=0"])), [0, "", ""]);
    assertEquals(result(await k(["solo", "--tail=-2"])), [
      1,
      "",
      "error: --tail must be greater than or equal to -1\n", // logs.go:352-354
    ]);

    // several containers without -c: the first one, and a note on stderr (logsforobject.go:107-115,
    // podcmd.go:92-104), not an error
    assertEquals(result(await k(["duo"])), [
      0,
      "a1\na2\n",
      'Defaulted container "app" out of: app, sidecar\n',
    ]);
    assertEquals(result(await k(["duo", "-c", "sidecar"])), [0, "s1\n", ""]);
    assertEquals(result(await k(["duo", "sidecar"])), [0, "s1\n", ""]); // logs.go:264-266
    assertEquals(result(await k(["duo", "-c", "nope"])), [
      1,
      "",
      "error: container nope is not valid for pod duo\n", // logsforobject.go:117-120
    ]);
    const both = await k(["duo", "--all-containers", "--prefix"]);
    assertEquals(both.code, 0);
    assertEquals(both.stdout.split("\n").filter(Boolean).sort(), [
      "[pod/duo/app] a1",
      "[pod/duo/app] a2",
      "[pod/duo/sidecar] s1",
    ]);

    // a missing object: the builder's NotFound wrapped with the namespace (logs.go:310-312), so
    // helpers.go:213-216 prints it with "error: " before it
    assertEquals(result(await k(["nope"])), [
      1,
      "",
      'error: error from server (NotFound): pods "nope" not found in namespace "default"\n',
    ]);
    assertEquals(result(await k(["deployment/nope"])), [
      1,
      "",
      'error: error from server (NotFound): deployments.apps "nope" not found in namespace "default"\n',
    ]);

    // deployment/NAME with several pods: the first in ByLogging order, said on stderr
    // (logsforobject.go:174-190, helpers.go:53-54)
    assertEquals(result(await k(["deployment/web"])), [
      0,
      [1, 2, 3].map((n) => `${web[1]}/web line ${n}\n`).join(""),
      `Found 2 pods, using pod/${web[1]}\n`,
    ]);

    // -l: every pod it selects, each stream whole, in Go's map order (logs.go:425), 10 lines per
    // container unless --tail says otherwise (logs.go:112, 240-241)
    const selected = await k(["-l", "app=web", "--prefix"]);
    assertEquals(selected.code, 0);
    assertEquals(selected.stderr, "");
    const blocks = web.map((pod) =>
      [1, 2, 3].map((n) => `[pod/${pod}/web] ${pod}/web line ${n}\n`).join("")
    );
    assertOk(
      selected.stdout === blocks.join("") || selected.stdout === [...blocks].reverse().join(""),
      selected.stdout,
    );
    const chatty = Array.from({ length: 12 }, (_, i) => `c${i + 1}\n`);
    assertEquals(result(await k(["-l", "tier=x"])), [0, chatty.slice(2).join(""), ""]);
    assertEquals(result(await k(["-l", "tier=x", "--tail=-1"])), [0, chatty.join(""), ""]);
    assertEquals(result(await k(["-l", "none=here"])), [
      0,
      "",
      "No resources found in default namespace.\n", // logs.go:319-321
    ]);
    assertEquals(result(await k(["-l", "app=web", "solo"])), [
      1,
      "",
      // logs.go:259-263 through UsageErrorf (helpers.go:339-341)
      "error: only a selector (-l) or a POD name is allowed\nSee 'kubectl logs -h' for help and examples\n",
    ]);

    // a deployment without a pod: kubectl watches for one until --pod-running-timeout (20s by
    // default, logs.go:117; helpers.go:61-78, client-go tools/watch/until.go:89 ErrWaitTimeout),
    // and reads the first that comes
    h.kube(
      "c",
      (kube, { addDeployment }) =>
        addDeployment(kube, { namespace: "default", name: "idle", replicas: 0 }),
    );
    assertEquals(result(await k(["deployment/idle", "--pod-running-timeout=1s"])), [
      1,
      "",
      "error: timed out waiting for the condition\n",
    ]);
    h.clearCalls();
    const waiting = k(["deployment/idle", "--pod-running-timeout=2m"]);
    await until("the logs call", () => h.calls().some((c) => c.argv.includes("deployment/idle")));
    h.kube(
      "c",
      (kube, { addPod }) =>
        addPod(kube, { namespace: "default", name: "idle-1", labels: { app: "idle" } }),
    );
    assertEquals(result(await waiting), [
      0,
      "idle-1/idle-1 line 1\nidle-1/idle-1 line 2\nidle-1/idle-1 line 3\n",
      "",
    ]);

    // --follow: the same lines, stamped too, then what is appended; more streams than
    // --max-log-requests (5) is refused (logs.go:372-379)
    const follow = await k(["-l", "app=web", "--follow", "--max-log-requests=1"]);
    assertEquals(result(follow), [
      1,
      "",
      "error: you are attempting to follow 2 log streams, but maximum allowed concurrency is 1, use --max-log-requests to increase the limit\n",
    ]);

    const child = h.spawnTool("kubectl", [
      "--context",
      "k3d-c",
      "logs",
      "solo",
      "--follow",
      "--timestamps",
      "--tail=1",
    ]);
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    const next = async (want: number) => {
      while (seen.split("\n").length <= want) seen += (await lines.read()).value ?? "";
      // every line stamped, appended ones too
      return seen.trimEnd().split("\n").map((l) => stamp.exec(`[pod/solo/main] ${l}`)?.[1]);
    };
    assertEquals(await next(1), ["three"]);
    h.kube("c", (kube) => kube.logs["default/solo/main"].push("four"));
    assertEquals(await next(2), ["three", "four"]);
    h.kube("c", (kube, { removePod }) => removePod(kube, { namespace: "default", pod: "solo" }));
    assertEquals((await child.status).code, 0, "the stream ends with its pod");
    await lines.cancel();
    await child.stderr.cancel();

    // what the simulator does not model ends the call, naming it
    const limited = await k(["solo", "--limit-bytes=10"]);
    assertEquals(limited.code, 98);
    assertMatch(limited.stderr, "--limit-bytes");
  });
});

/** The sections of a `resolvectl status`: each header (Link N normalised) with its table's keys. */
function resolvectlShape(text: string): string[] {
  const shape: string[] = [];
  for (const line of text.split("\n")) {
    if (/^(Global|Link \d+ \(\S+\)|Delegate \S+)$/.test(line)) {
      shape.push(line.replace(/^Link \d+ \((\S+)\)$/, "Link N ($1)"));
    } else if (/^ *[A-Za-z][A-Za-z. ]*: /.test(line)) shape.push(`  ${line.split(":")[0].trim()}`);
    else if (line.trim()) shape.push(`unexpected line: ${line}`);
  }
  return shape;
}

Deno.test("contract: the simulated resolvectl status has fixtures/resolvectl/status-260.json's sections and keys", async () => {
  const fixture = JSON.parse(Deno.readTextFileSync(`${FIXTURES}resolvectl/status-260.json`));
  await withSimHost({}, async (h) => {
    h.updateWorld((w) => {
      w.resolved = true;
      w.systemdVersion = 260;
      w.links = { eth0: { dns: ["192.0.2.53"], domains: ["example.internal"] } };
      w.delegates = { corp: { dns: ["10.8.0.1", "10.8.0.2"], domains: ["~corp.example"] } };
    });
    const r = await h.tool("resolvectl", ["status"]);
    assertEquals(r.code, fixture.code);
    assertEquals(resolvectlShape(r.stdout), resolvectlShape(fixture.stdout));
    assertEquals(
      r.stdout,
      fixture.stdout.replace("Link 2 (eth0)", `${/Link \d+ \(eth0\)/.exec(r.stdout)?.[0]}`),
    );
  });
});
