/** End-to-end: plan, apply, saved plans, in-place updates, replacement, crash recovery. */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { freePort, type SimHost, testConfig, withSimHost } from "../sim/harness.ts";
import { until } from "../wait.ts";
import { lockLeft, openJournals } from "./runs.ts";

function setKey(h: SimHost, pattern: RegExp, replacement: string): void {
  const path = `${h.projectDir}/firestream.toml`;
  const text = Deno.readTextFileSync(path);
  if (!pattern.test(text)) throw new Error(`config has no ${pattern}`);
  Deno.writeTextFileSync(path, text.replace(pattern, replacement));
}

Deno.test("plan: a fresh dir plans a create (exit 2); after apply the plan is empty (exit 0)", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    const plan = await h.run(["plan", "--detailed-exitcode"]);
    assertEquals(plan.code, 2, plan.stderr);
    assertMatch(plan.stdout, "# cluster.firestream-local will be created");
    assertMatch(plan.stdout, "Plan: 3 to add, 0 to change, 0 to replace, 0 to destroy.");
    assertEquals(h.mutatingCalls(), [], "plan changed something");
    const json = JSON.parse((await h.ok(["plan", "--json"])).stdout);
    assertEquals(
      json.changes.map((c: { address: string; action: string }) => [c.address, c.action]),
      [
        ["cluster.firestream-local", "create"],
        ["cluster.firestream-local.registry", "create"],
        ["cluster.firestream-local.ingress-dns", "create"],
      ],
    );
    const refused = await h.run(["apply"]);
    assertEquals(refused.code, 1);
    assertMatch(refused.stderr, "--auto-approve");
    assertEquals(h.mutatingCalls(), []);

    await h.ok(["apply", "--auto-approve"]);
    const after = await h.run(["plan", "--detailed-exitcode"]);
    assertEquals(after.code, 0, after.stdout + after.stderr);
    assertMatch(after.stdout, "No changes.");

    h.clearCalls();
    const noop = await h.ok(["apply", "--auto-approve"]);
    assertMatch(noop.stdout, "No changes.");
    assertEquals(h.mutatingCalls(), []);
    assertOk(h.calls().length <= 4, `no-op apply made ${h.calls().length} calls`);
  });
});

Deno.test("apply: agents 2→3 is an in-place update adding exactly one agent; 3→1 removes two", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["apply", "--yes"]);
    const cluster = h.world().clusters["firestream-local"].created;
    setKey(h, /\[cluster\.k3d\]\n(name = .*\n)/, "[cluster.k3d]\n$1agents = 3\n");
    const plan = JSON.parse((await h.ok(["plan", "--json"])).stdout);
    const main = plan.changes.find((c: { address: string }) =>
      c.address === "cluster.firestream-local"
    );
    assertEquals(main.action, "update");
    assertEquals(main.destructive, false);
    assertEquals(main.diffs, [{
      key: "agents",
      from: 2,
      to: 3,
      drift: false,
      forces_replacement: false,
    }]);
    h.clearCalls();
    await h.ok(["apply", "--yes"]);
    assertEquals(h.mutatingCalls(), [
      "k3d node create firestream-local-agent-2 --role agent --cluster firestream-local --image rancher/k3s:v1.31.2-k3s1 --wait",
    ]);
    const world = h.world();
    assertEquals(
      world.clusters["firestream-local"].created,
      cluster,
      "the cluster was not recreated",
    );
    assertOk(world.containers["k3d-firestream-local-agent-2-0"]);
    assertEquals((await h.state()).clusters["firestream-local"].k3d_config.agents, 3);

    setKey(h, /agents = 3/, "agents = 1");
    h.clearCalls();
    await h.ok(["apply", "--yes"]);
    const m = h.mutatingCalls();
    assertEquals(m.filter((c) => c.startsWith("k3d node delete")), [
      "k3d node delete k3d-firestream-local-agent-2-0",
      "k3d node delete k3d-firestream-local-agent-1",
    ]);
    assertEquals(
      m.filter((c) => c.startsWith("kubectl --context k3d-firestream-local delete node")).length,
      2,
    );
    const info = JSON.parse((await h.ok(["cluster", "info", "--json"])).stdout);
    assertEquals(info.agents, { running: 1, total: 1, desired: 1 });
    assertEquals((await h.run(["plan", "--detailed-exitcode"])).code, 0);
  });
});

Deno.test("plan: a k3s version change is a destructive replace that needs --yes", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["apply", "--yes"]);
    setKey(h, /\[cluster\.k3d\]\n(name = .*\n)/, '[cluster.k3d]\n$1k3s_version = "v1.32.1-k3s1"\n');
    const plan = await h.run(["plan", "--detailed-exitcode"]);
    assertEquals(plan.code, 2);
    assertMatch(plan.stdout, "# cluster.firestream-local must be replaced [destructive]");
    assertMatch(
      plan.stdout,
      '~ k3s_version = "v1.31.2-k3s1" -> "v1.32.1-k3s1" # forces replacement',
    );
    h.clearCalls();
    const refused = await h.run(["cluster", "create"]);
    assertEquals(refused.code, 1);
    assertMatch(refused.stderr, "confirmation needed");
    assertEquals(h.mutatingCalls(), []);
    await h.ok(["cluster", "create", "--yes"]);
    const m = h.mutatingCalls();
    assertEquals(m[0], "k3d cluster delete firestream-local");
    assertMatch(m[1], /^k3d cluster create --config/);
    assertEquals(
      m.filter((c) => c.includes("registry")),
      [],
      "the registry is kept across a replace",
    );
    const node = Object.values(h.world().containers).find((c) => c.name.endsWith("server-0"))!;
    assertEquals(node.image, "rancher/k3s:v1.32.1-k3s1");
  });
});

Deno.test("apply PLANFILE: applies the saved plan; refused once another apply moved the state", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["plan", "--out", "first.plan"]);
    await h.ok(["apply", "first.plan"]);
    assertOk(h.world().clusters["firestream-local"]);
    setKey(h, /\[cluster\.k3d\]\n(name = .*\n)/, "[cluster.k3d]\n$1agents = 3\n");
    await h.ok(["plan", "--out", "second.plan"]);
    await h.ok(["apply", "--yes"]);
    h.clearCalls();
    const stale = await h.run(["apply", "second.plan"]);
    assertEquals(stale.code, 1);
    assertMatch(stale.stderr, "saved plan is stale: the state changed since it was made");
    assertEquals(h.mutatingCalls(), []);
    await h.ok(["plan", "--out", "third.plan"]);
    setKey(h, /agents = 3/, "agents = 4");
    const edited = await h.run(["apply", "third.plan"]);
    assertEquals(edited.code, 1);
    assertMatch(edited.stderr, "the config changed since it was made");
  });
});

Deno.test("a cluster removed from the config plans as a delete, renamed as delete plus create", async () => {
  await withSimHost({ config: testConfig({ name: "old-name" }) }, async (h) => {
    await h.ok(["apply", "--yes"]);
    setKey(h, /name = "old-name"/, 'name = "new-name"');
    const plan = JSON.parse((await h.ok(["plan", "--json"])).stdout);
    const actions = plan.changes.map((c: { address: string; action: string }) =>
      `${c.action} ${c.address}`
    );
    assertOk(actions.includes("create cluster.new-name"), actions.join(", "));
    assertOk(actions.includes("delete cluster.old-name"), actions.join(", "));
    await h.ok(["apply", "--yes"]);
    assertEquals(Object.keys(h.world().clusters), ["new-name"]);
    assertEquals(Object.keys((await h.state()).clusters), ["new-name"]);
  });
});

async function killMidCreate(h: SimHost): Promise<void> {
  // k3d is held until the run is killed, then carries on
  h.hold("k3d cluster create");
  const child = h.spawn(["apply", "--yes"], {});
  await until(
    "k3d cluster create to start",
    () => h.calls().some((c) => c.argv[0] === "cluster" && c.argv[1] === "create"),
  );
  child.kill("SIGKILL");
  await child.status;
  h.release("k3d cluster create");
  // the k3d process it started carries on, as a real one would
  await until(
    "the orphaned k3d to finish",
    () => Boolean(h.world().clusters["firestream-local"]),
  );
}

Deno.test("crash mid-apply: the dead lock is recognised and `rollback` leaves nothing half-done", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await killMidCreate(h);
    assertOk(
      Deno.statSync(`${h.projectDir}/.firestream/state.lock`).isFile,
      "the killed run left its lock",
    );
    // without a terminal, rollback shows its plan and needs --yes: nothing changes, the lock stays
    h.clearCalls();
    const asked = await h.run(["rollback"]);
    assertEquals(asked.code, 1, asked.stderr);
    assertMatch(asked.stderr, "took over the state lock of pid");
    assertMatch(asked.stderr, "what it left is shown below and undone once confirmed");
    assertMatch(asked.stderr, "killed before it ended) will be undone:");
    assertMatch(asked.stderr, "undo Local registry");
    assertMatch(asked.stderr, "re-run with --yes");
    assertEquals(h.mutatingCalls(), []);
    const r = await h.ok(["rollback", "--yes"]);
    assertMatch(r.stderr, "stop and undo what it left half-done: k3d cluster");
    assertMatch(r.stdout, "Rolled back run");
    const world = h.world();
    assertEquals(Object.keys(world.clusters), []);
    assertEquals(Object.keys(world.containers), []);
    assertEquals((await h.state()).clusters, {});
    const again = await h.ok(["rollback", "--yes"]);
    assertMatch(again.stdout, "Nothing to undo: the last run");
  });
});

Deno.test("crash mid-apply: a new apply converges instead", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await killMidCreate(h);
    h.clearCalls();
    const r = await h.ok(["apply", "--yes"]);
    assertMatch(r.stderr, "took over the state lock");
    // the killed run died inside the cluster step: only the step after it (the ingress names'
    // key in CoreDNS) is left to do
    assertEquals(
      h.mutatingCalls(),
      ["kubectl --context k3d-firestream-local create -f -"],
      "the cluster made by the killed run is adopted, not made again",
    );
    const rec = (await h.state()).clusters["firestream-local"];
    assertEquals(rec.resources.cluster.created, true);
    assertEquals(rec.resources.registry.created, true);
    assertEquals((await h.run(["plan", "--detailed-exitcode"])).code, 0);
    assertEquals(lockLeft(h), false);
    assertEquals(await openJournals(h), []);
    h.clearCalls();
    const none = await h.ok(["rollback", "--yes"]);
    assertMatch(none.stdout, "Nothing to undo");
    assertEquals(h.mutatingCalls(), []);
    await h.ok(["cluster", "delete", "--yes"]);
    assertEquals(Object.keys(h.world().containers), []);
  });
});

Deno.test("registry changes: a broken one is remade and joined to the cluster; a new port replaces the cluster; off removes ours", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["apply", "--yes"]);
    const created = h.world().clusters["firestream-local"].created;
    // drift: the registry stopped
    assertEquals((await h.tool("docker", ["stop", "k3d-registry.localhost"])).code, 0);
    const drift = JSON.parse((await h.ok(["plan", "--json"])).stdout);
    const reg = drift.changes.find((c: { address: string }) =>
      c.address === "cluster.firestream-local.registry"
    );
    assertEquals([reg.action, reg.cause], ["replace", "drift"]);
    h.clearCalls();
    await h.ok(["apply", "--yes"]);
    assertEquals(h.mutatingCalls().filter((c) => c.includes("registry") || c.includes("network")), [
      "k3d registry delete k3d-registry.localhost",
      `k3d registry create registry.localhost --port 127.0.0.1:${
        h.world().containers["k3d-registry.localhost"].ports["5000/tcp"][0].HostPort
      }`,
      "docker network connect k3d-firestream-local k3d-registry.localhost",
    ]);
    assertOk(
      h.world().containers["k3d-registry.localhost"].networks["k3d-firestream-local"],
      "on the cluster's network",
    );
    assertEquals(h.world().clusters["firestream-local"].created, created, "the cluster stayed");

    // a new port: the nodes' mirror config names the old one, so the cluster is replaced
    setKey(
      h,
      /\[cluster\.k3d\.registry\]\nenabled = true\nport = \d+/,
      `[cluster.k3d.registry]\nenabled = true\nport = ${freePort()}`,
    );
    const plan = await h.ok(["plan"]);
    assertMatch(plan.stdout, "# cluster.firestream-local must be replaced [destructive]");
    assertMatch(plan.stdout, "registry.port");
    await h.ok(["apply", "--yes"]);
    const world = h.world();
    assertOk(world.clusters["firestream-local"].created !== created, "the cluster was replaced");
    const port = (await h.state()).clusters["firestream-local"].k3d_config.registry.port;
    assertEquals(world.clusters["firestream-local"].registriesUse, [
      `k3d-registry.localhost:${port}`,
    ]);
    assertEquals((await h.run(["plan", "--detailed-exitcode"])).code, 0);

    // turned off: our registry goes, the cluster stays
    setKey(
      h,
      /\[cluster\.k3d\.registry\]\nenabled = true/,
      "[cluster.k3d.registry]\nenabled = false",
    );
    const before = h.world().clusters["firestream-local"].created;
    await h.ok(["apply", "--yes"]);
    assertEquals(h.world().containers["k3d-registry.localhost"], undefined);
    assertEquals(h.world().clusters["firestream-local"].created, before, "the cluster stayed");
    assertEquals((await h.state()).clusters["firestream-local"].resources.registry, undefined);
  });
});
