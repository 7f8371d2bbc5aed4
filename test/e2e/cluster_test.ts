/** End-to-end: cluster create, delete, info, list, import on the simulated host. */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { freePort, testConfig, withSimHost } from "../sim/harness.ts";

Deno.test("create: calls, state and kube contexts; a second create changes nothing", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    const r = await h.ok(["cluster", "create", "--yes"]);
    assertMatch(r.stdout, "Cluster firestream-local is ready.");
    const mutating = h.mutatingCalls();
    assertEquals(mutating.length, 3, mutating.join("\n"));
    assertMatch(mutating[0], /^k3d registry create registry\.localhost --port 127\.0\.0\.1:\d+$/);
    assertMatch(
      mutating[1],
      /^k3d cluster create --config .*\/\.firestream\/k3d\/firestream-local\.yaml$/,
    );
    // every name of the ingress domain: the coredns-custom ConfigMap with Firestream's key
    assertEquals(mutating[2], "kubectl --context k3d-firestream-local create -f -");
    const kubectlCalls = h.calls().filter((c) =>
      c.tool === "kubectl" && !c.argv.includes("version")
    );
    assertOk(kubectlCalls.length > 0);
    for (const c of kubectlCalls) {
      assertEquals(c.argv.slice(0, 2), ["--context", "k3d-firestream-local"], c.argv.join(" "));
    }
    const state = await h.state();
    const rec = state.clusters["firestream-local"];
    assertEquals([rec.name, rec.cluster_type, rec.managed], ["firestream-local", "k3d", true]);
    assertEquals(rec.k3d_config.agents, 2);
    assertEquals(rec.resources.registry.created, true);
    assertEquals(rec.resources.cluster.context, "k3d-firestream-local");
    const world = h.world();
    assertEquals(world.kubeconfig.current, "k3d-firestream-local");
    assertEquals(
      Object.keys(world.containers).sort(),
      [
        "k3d-firestream-local-agent-0",
        "k3d-firestream-local-agent-1",
        "k3d-firestream-local-server-0",
        "k3d-firestream-local-serverlb",
        "k3d-registry.localhost",
      ],
    );
    const serial = state.serial;

    h.clearCalls();
    const again = await h.ok(["cluster", "create", "--yes"]);
    assertMatch(again.stdout, "already up to date");
    assertEquals(h.mutatingCalls(), []);
    assertEquals((await h.state()).serial, serial, "a converged run does not rewrite state");
  });
});

Deno.test("create: a failure injected at each step leaves nothing of that run behind", async () => {
  const steps: [string, string, string][] = [
    [
      "docker version",
      "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
      "Docker is not running",
    ],
    [
      "k3d registry create",
      "FATA[0000] Failed to create registry: simulated",
      "Local registry failed",
    ],
    [
      "k3d cluster create",
      "FATA[0000] Failed to create cluster 'firestream-local': simulated",
      "k3d cluster failed",
    ],
    ["kubectl wait", "", "Nodes and CoreDNS ready failed"],
  ];
  for (const [prefix, stderr, message] of steps) {
    await withSimHost({ config: testConfig() }, async (h) => {
      // the ready step waits only when nodes come up NotReady; the simulated wait then times out
      if (prefix === "kubectl wait") h.updateWorld((w) => (w.nodesStartReady = false));
      else h.fault(prefix, stderr);
      const r = await h.run(["cluster", "create", "--yes"]);
      assertEquals(r.code, 1, `${prefix}: ${r.stderr}`);
      assertMatch(r.stderr, message);
      const world = h.world();
      assertEquals(Object.keys(world.containers), [], `${prefix}: containers left`);
      assertEquals(Object.keys(world.clusters), []);
      assertEquals(Object.keys(world.networks), ["bridge"]);
      assertEquals(world.kubeconfig.contexts, []);
      const state = h.stateBytes();
      if (state !== undefined) {
        assertEquals(JSON.parse(state).clusters, {}, `${prefix}: state kept a record`);
      }
      assertEquals(
        [...Deno.readDirSync(`${h.projectDir}/.firestream`)].some((e) =>
          e.name === "k3d" && [...Deno.readDirSync(`${h.projectDir}/.firestream/k3d`)].length > 0
        ),
        false,
      );
    });
  }
});

Deno.test("create: nodes that never become Ready fail the ready step, which rolls back cluster and registry", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    h.updateWorld((w) => (w.nodesStartReady = false));
    const r = await h.run(["cluster", "create", "--yes"]);
    assertEquals(r.code, 1, r.stderr);
    assertMatch(
      r.stderr,
      "not ready after 120s: node k3d-firestream-local-agent-0 (KubeletNotReady)",
    );
    assertMatch(r.stderr, "rolled back");
    assertEquals(Object.keys(h.world().containers), []);
    const deletes = h.mutatingCalls().filter((c) => c.includes("delete"));
    assertEquals(deletes, [
      "k3d cluster delete firestream-local",
      "k3d registry delete k3d-registry.localhost",
    ]);
    const run = [...Deno.readDirSync(`${h.projectDir}/.firestream/journal`)][0].name;
    const journal = Deno.readTextFileSync(`${h.projectDir}/.firestream/journal/${run}`);
    assertMatch(journal, '"event":"rollback-task-done","task":"cluster"');
    assertMatch(journal, '"outcome":"rolled-back"');
  });
});

Deno.test("delete: leaves nothing behind; info and list match the simulated host", async () => {
  await withSimHost({ config: testConfig({ name: "alpha" }) }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const info = JSON.parse((await h.ok(["cluster", "info", "--json"])).stdout);
    assertEquals(info.name, "alpha");
    assertEquals(info.status, "running");
    assertEquals(info.servers, { running: 1, total: 1, desired: 1 });
    assertEquals(info.agents, { running: 2, total: 2, desired: 2 });
    assertEquals(info.k3s_versions, ["v1.31.2+k3s1"]);
    assertEquals(info.registry.healthy, true);
    const world = h.world();
    assertEquals(info.api, `https://127.0.0.1:${world.clusters.alpha.apiPort}`);
    const list = JSON.parse((await h.ok(["cluster", "list", "--json"])).stdout);
    assertEquals(list.map((c: { name: string; managed: boolean }) => [c.name, c.managed]), [[
      "alpha",
      true,
    ]]);

    h.clearCalls();
    const noTty = await h.run(["cluster", "delete"]);
    assertEquals(noTty.code, 1);
    assertMatch(noTty.stderr, "--yes");
    assertEquals(h.mutatingCalls(), []);

    await h.ok(["cluster", "delete", "--yes"]);
    const after = h.world();
    assertEquals(Object.keys(after.containers), []);
    assertEquals(Object.keys(after.networks), ["bridge"]);
    assertEquals(after.kubeconfig.contexts, []);
    assertEquals((await h.state()).clusters, {});
    // a teardown run twice succeeds and says there was nothing to delete
    h.clearCalls();
    const gone = await h.run(["cluster", "delete", "--yes"]);
    assertEquals(gone.code, 0, gone.stderr);
    assertMatch(gone.stdout, "Cluster alpha does not exist");
    assertMatch(gone.stdout, "nothing to delete");
    assertEquals(h.mutatingCalls(), []);
    const other = await h.run(["cluster", "delete", "beta", "--yes", "--json"]);
    assertEquals(JSON.parse(other.stdout), { cluster: "beta", deleted: false });
  });
});

Deno.test("registry that existed before is reused, never deleted by rollback or delete", async () => {
  const regPort = freePort();
  const config = testConfig().replace(
    /\[cluster\.k3d\.registry\]\nenabled = true\nport = \d+/,
    `[cluster.k3d.registry]\nenabled = true\nport = ${regPort}`,
  );
  await withSimHost({ config }, async (h) => {
    const made = await h.tool("k3d", [
      "registry",
      "create",
      "registry.localhost",
      "--port",
      `127.0.0.1:${regPort}`,
    ]);
    assertEquals(made.code, 0, made.stderr);
    h.clearCalls();
    h.fault("k3d cluster create", "FATA[0000] Failed to create cluster: simulated");
    assertEquals((await h.run(["cluster", "create", "--yes"])).code, 1);
    assertOk(
      h.world().containers["k3d-registry.localhost"],
      "rollback removed a registry it did not create",
    );
    assertEquals(h.mutatingCalls().filter((c) => c.startsWith("k3d registry")), []);
    await h.ok(["cluster", "create", "--yes"]);
    assertEquals(h.mutatingCalls().filter((c) => c.startsWith("k3d registry create")).length, 0);
    const state = await h.state();
    assertEquals(state.clusters["firestream-local"].resources.registry.created, false);
    const del = await h.ok(["cluster", "delete", "--yes"]);
    assertMatch(del.stderr, "keeping registry k3d-registry.localhost");
    assertOk(h.world().containers["k3d-registry.localhost"]);
  });
});

Deno.test("import: a cluster created outside firestream becomes managed, with --write-config", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    const api = freePort();
    const regPort = freePort();
    assertEquals(
      (await h.tool("k3d", [
        "registry",
        "create",
        "shared.localhost",
        "--port",
        `127.0.0.1:${regPort}`,
      ])).code,
      0,
    );
    const made = await h.tool("k3d", [
      "cluster",
      "create",
      "legacy",
      "--servers",
      "1",
      "--agents",
      "3",
      "--image",
      "rancher/k3s:v1.30.6-k3s1",
      "--api-port",
      `127.0.0.1:${api}`,
      "--registry-use",
      `k3d-shared.localhost:${regPort}`,
      "--k3s-arg",
      "--cluster-cidr=10.60.0.0/16@server:*",
    ]);
    assertEquals(made.code, 0, made.stderr);
    const list = JSON.parse((await h.ok(["cluster", "list", "--json"])).stdout);
    assertEquals(list.find((c: { name: string }) => c.name === "legacy").importable, true);
    const refused = await h.run(["cluster", "delete", "legacy", "--yes"]);
    assertEquals(refused.code, 1);
    assertMatch(refused.stderr, "firestream import cluster legacy");

    await h.ok(["import", "cluster", "legacy", "--write-config"]);
    const rec = (await h.state()).clusters.legacy;
    assertEquals(rec.imported, true);
    assertEquals(rec.k3d_config.agents, 3);
    assertEquals(rec.k3d_config.k3s_version, "v1.30.6-k3s1");
    assertEquals(rec.k3d_config.api_port, api);
    assertEquals(rec.k3d_config.network.pod_cidr, "10.60.0.0/16");
    assertEquals(rec.k3d_config.registry, {
      enabled: true,
      name: "shared.localhost",
      port: regPort,
    });
    const toml = Deno.readTextFileSync(`${h.projectDir}/firestream.toml`);
    assertMatch(toml, 'name = "legacy"');
    assertMatch(toml, "agents = 3");
    const again = await h.run(["import", "cluster", "legacy"]);
    assertEquals(again.code, 1);
    assertMatch(again.stderr, "already managed");
  });
});

Deno.test("several clusters side by side; a port clash between them is caught before anything runs", async () => {
  await withSimHost({}, async (h) => {
    const a = testConfig({ name: "one" });
    const b = testConfig({ name: "two" });
    Deno.writeTextFileSync(`${h.projectDir}/one.toml`, a);
    Deno.writeTextFileSync(
      `${h.projectDir}/two.toml`,
      b.replace(
        /registry\]\nenabled = true\nport = \d+/,
        "registry]\nenabled = false\nport = 5999",
      ),
    );
    await h.ok(["-c", "one.toml", "cluster", "create", "--yes", "--state-dir", ".firestream"]);
    await h.ok(["-c", "two.toml", "cluster", "create", "--yes", "--state-dir", ".firestream"]);
    const state = await h.state();
    assertEquals(Object.keys(state.clusters).sort(), ["one", "two"]);
    const apiOfOne = /api_port = (\d+)/.exec(a)![1];
    Deno.writeTextFileSync(
      `${h.projectDir}/three.toml`,
      testConfig({ name: "three", registry: false }).replace(
        /api_port = \d+/,
        `api_port = ${apiOfOne}`,
      ),
    );
    h.clearCalls();
    const clash = await h.run(["-c", "three.toml", "cluster", "create", "--yes"]);
    assertEquals(clash.code, 1);
    assertMatch(
      clash.stderr,
      `port ${apiOfOne} (cluster.k3d.api_port) is also api_port of managed cluster one`,
    );
    assertEquals(h.mutatingCalls(), []);
    await h.ok(["-c", "two.toml", "cluster", "delete", "--yes"]);
    assertEquals(Object.keys((await h.state()).clusters), ["one"]);
    assertOk(h.world().clusters.one);
  });
});

Deno.test("clean mode deletes and recreates in one run; a busy port names its holder", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const before = h.world().clusters["firestream-local"].created;
    h.clearCalls();
    const r = await h.ok(["cluster", "create", "--clean", "--yes"]);
    assertMatch(r.stderr, "clean (delete half)");
    const m = h.mutatingCalls();
    // the delete half first (after what goes with the cluster anyway), then the create half
    const k3d = m.filter((c) => c.startsWith("k3d cluster"));
    assertEquals(k3d[0], "k3d cluster delete firestream-local");
    assertOk(m.some((c) => c.startsWith("k3d cluster create")));
    assertOk(h.world().clusters["firestream-local"].created !== before, "a new cluster");

    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const busy = (listener.addr as Deno.NetAddr).port;
    try {
      h.writeConfig(
        // without a registry: the shared one on another port would be refused first
        testConfig({ name: "other", registry: false }).replace(
          /http_port = \d+/,
          `http_port = ${busy}`,
        ),
      );
      h.clearCalls();
      const clash = await h.run(["cluster", "create", "--yes"]);
      assertEquals(clash.code, 1);
      assertMatch(clash.stderr, `port ${busy} (cluster.k3d.http_port) is already in use`);
      assertEquals(h.mutatingCalls(), []);
    } finally {
      listener.close();
    }
  });
});

Deno.test("a stopped cluster shows as stopped, plans as drift, and create starts it again", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    assertEquals((await h.tool("k3d", ["cluster", "stop", "firestream-local"])).code, 0);
    const info = JSON.parse((await h.ok(["cluster", "info", "--json"])).stdout);
    assertEquals([info.status, info.servers.running], ["stopped", 0]);
    const plan = JSON.parse((await h.ok(["plan", "--json"])).stdout);
    const main = plan.changes.find((c: { address: string }) =>
      c.address === "cluster.firestream-local"
    );
    assertEquals([main.action, main.cause], ["update", "drift"]);
    assertMatch(main.note, "stopped nodes will be started");
    h.clearCalls();
    const r = await h.ok(["cluster", "create", "--yes"]);
    assertMatch(r.stderr, "cluster firestream-local is stopped: starting it");
    assertEquals(h.mutatingCalls(), ["k3d cluster start firestream-local"]);
    assertEquals(JSON.parse((await h.ok(["cluster", "info", "--json"])).stdout).status, "running");
  });
});
