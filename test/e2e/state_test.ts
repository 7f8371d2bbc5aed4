/** End-to-end: state show, backups, restore and unlock through the CLI. */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { testConfig, withSimHost } from "../sim/harness.ts";

Deno.test("state: show, backups and restore as a new serial; unlock refuses a live holder, removes a dead one", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["apply", "--yes"]);
    const path = `${h.projectDir}/firestream.toml`;
    Deno.writeTextFileSync(
      path,
      Deno.readTextFileSync(path).replace(
        /\[cluster\.k3d\]\n(name = .*\n)/,
        "[cluster.k3d]\n$1agents = 3\n",
      ),
    );
    await h.ok(["apply", "--yes"]);
    const state = await h.state();
    assertEquals(state.version, 1);
    assertMatch(state.last_modified_by, "firestream 0.1.0");
    assertEquals(state.clusters["firestream-local"].k3d_config.agents, 3);
    const text = await h.ok(["state", "show"]);
    assertMatch(text.stdout, `serial:    ${state.serial}`);
    assertMatch(text.stdout, "cluster firestream-local");

    const backups = JSON.parse((await h.ok(["state", "backups", "--json"])).stdout);
    assertOk(backups.length >= 2);
    const withTwo = backups.filter((b: { serial: number }) => b.serial < state.serial).reverse()
      .find((b: { path: string }) =>
        JSON.parse(Deno.readTextFileSync(b.path)).clusters["firestream-local"]?.k3d_config
          .agents === 2
      );
    assertOk(withTwo, "a backup from before the change");
    const restored = await h.ok(["state", "restore", String(withTwo.serial)]);
    assertMatch(restored.stdout, `restored backup ${withTwo.serial} as serial ${state.serial + 1}`);
    const now = await h.state();
    assertEquals([now.serial, now.lineage], [state.serial + 1, state.lineage]);
    assertEquals(now.clusters["firestream-local"].k3d_config.agents, 2);
    // the live cluster already has the 3 agents the config wants: only the record is behind
    const plan = JSON.parse((await h.ok(["plan", "--json"])).stdout);
    const main = plan.changes.find((c: { address: string }) =>
      c.address === "cluster.firestream-local"
    );
    assertEquals([main.action, main.diffs], ["update", [{ key: "agents", from: 2, to: 3 }]]);
    h.clearCalls();
    await h.ok(["apply", "--yes"]);
    assertEquals(h.mutatingCalls(), [], "nothing on the machine changes");
    assertEquals((await h.state()).clusters["firestream-local"].k3d_config.agents, 3);

    const missing = await h.run(["state", "restore", "99999"]);
    assertEquals(missing.code, 1);
    assertMatch(missing.stderr, "no backup with serial 99999");

    // a live holder (this test process's child) is named; a dead one is removed
    const lock = `${h.projectDir}/.firestream/state.lock`;
    // alive until killed below, however long the commands take
    const sleeper = new Deno.Command("sleep", { args: ["3600"] }).spawn();
    try {
      Deno.writeTextFileSync(
        lock,
        JSON.stringify({
          pid: sleeper.pid,
          user: "ci",
          host: Deno.hostname(),
          command: "firestream apply",
          time: new Date().toISOString(),
        }),
      );
      // a change to make, so apply needs the lock (reading the state does not)
      Deno.writeTextFileSync(path, Deno.readTextFileSync(path).replace("agents = 3", "agents = 4"));
      const blocked = await h.run(["apply", "--yes"]);
      assertEquals(blocked.code, 1);
      assertMatch(
        blocked.stderr,
        `state is locked by pid ${sleeper.pid} (ci@${Deno.hostname()}, \`firestream apply\``,
      );
      const refused = await h.run(["state", "unlock"]);
      assertEquals(refused.code, 1);
      assertMatch(refused.stderr, "which is still running");
      await h.ok(["state", "unlock", "--force"]);
      assertOk(!(await Deno.stat(lock).catch(() => false)));
    } finally {
      sleeper.kill();
      await sleeper.status;
    }
    Deno.writeTextFileSync(
      lock,
      JSON.stringify({
        pid: 2 ** 22 + 7,
        user: "ci",
        host: Deno.hostname(),
        command: "firestream apply",
        time: "t",
      }),
    );
    const freed = await h.ok(["state", "unlock"]);
    assertMatch(freed.stdout, "removed the lock of pid");
  });
});

Deno.test("state: a corrupt state file stops every command that needs it, and is left untouched", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["apply", "--yes"]);
    const path = `${h.projectDir}/.firestream/state.json`;
    Deno.writeTextFileSync(path, "{ not json");
    h.clearCalls();
    for (
      const args of [["plan"], ["apply", "--yes"], ["cluster", "create", "--yes"], [
        "cluster",
        "delete",
        "--yes",
      ]]
    ) {
      const r = await h.run(args);
      assertEquals(r.code, 1, args.join(" "));
      assertMatch(r.stderr, "is corrupt");
      assertMatch(r.stderr, "firestream state restore");
    }
    assertEquals(Deno.readTextFileSync(path), "{ not json");
    assertEquals(h.mutatingCalls(), []);
  });
});
