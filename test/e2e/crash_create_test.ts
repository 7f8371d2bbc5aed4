/**
 * End-to-end: `kill -9` at every step boundary of `cluster create` (journal entry by journal entry,
 * up to the last change before the run-end record), then a re-run converges and leaves nothing
 * unfinished, or `rollback` takes the machine back to where it was.
 */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { type SimHost, testConfig, withSimHost } from "../sim/harness.ts";
import { listRuns, type RunRecord } from "../../src/state/journal.ts";
import { until } from "../wait.ts";
import { alive, lockLeft, openJournals, routesOf } from "./runs.ts";

/** The boundary after each step a create applies (`task-done:ID`), in the order they were written. */
function boundaries(run: RunRecord): string[] {
  return run.entries.flatMap((e) => e.event === "task-done" ? [`task-done:${e.task}`] : []);
}

/** The state file's cluster records (read directly: the CLI is what is under test). */
function records(h: SimHost): Record<string, unknown> {
  const text = h.stateBytes();
  return text === undefined ? {} : JSON.parse(text).clusters;
}

/** Waits for the simulated tools a killed run left running to finish, as real ones would. */
async function orphansDone(h: SimHost): Promise<void> {
  await until("the simulated tools to end", () => h.calls().every((c) => !alive(c.pid)));
}

async function killedAt(h: SimHost, point: string): Promise<void> {
  const r = await h.run(["cluster", "create", "--yes"], { env: { FIRESTREAM_KILL_AFTER: point } });
  assertEquals(r.code, 137, `killed after ${point}: ${r.stderr}`);
  await orphansDone(h);
  assertOk(lockLeft(h), `the run killed after ${point} left its lock`);
}

Deno.test("kill -9 at every step boundary of create: a re-run converges and closes the dead run; rollback after it changes nothing; rollback instead undoes everything", async () => {
  const config = testConfig({ network: true });
  let points: string[] = [];
  await withSimHost({ config }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    points = ["run-start", ...boundaries((await listRuns(`${h.projectDir}/.firestream`))[0])];
  });
  // every step that changes the machine is among them, through the last one before run-end
  for (const id of ["registry", "cluster", "routes", "dns", "hosts"]) {
    assertOk(points.includes(`task-done:${id}`), `${id} in ${points.join(", ")}`);
  }
  for (const point of points) {
    await withSimHost({ config }, async (h) => {
      const hosts = Deno.readTextFileSync(h.hostsFile);
      const resolv = Deno.readTextFileSync(h.resolvConf);

      // (b) rollback right after the kill: nothing of the run is left
      await killedAt(h, point);
      const back = await h.run(["rollback", "--yes"]);
      assertEquals(back.code, 0, `${point}: ${back.stderr}`);
      assertMatch(back.stderr, "what it left is shown below and undone once confirmed");
      const world = h.world();
      assertEquals(Object.keys(world.clusters), [], `${point}: cluster left`);
      assertEquals(Object.keys(world.containers), [], `${point}: containers left`);
      assertEquals(routesOf(h), [], `${point}: routes left`);
      assertEquals(Deno.readTextFileSync(h.hostsFile), hosts, `${point}: hosts file`);
      assertEquals(Deno.readTextFileSync(h.resolvConf), resolv, `${point}: resolv.conf`);
      assertEquals(records(h), {}, `${point}: state record left`);
      assertEquals(lockLeft(h), false);
      assertEquals(await openJournals(h), [], `${point}: unfinished journal`);

      // (a) a re-run after the kill finishes the job and closes the dead run
      await killedAt(h, point);
      const again = await h.run(["cluster", "create", "--yes"]);
      assertEquals(again.code, 0, `${point}: ${again.stderr}`);
      assertMatch(again.stderr, "took over the state lock");
      assertEquals(lockLeft(h), false, `${point}: the re-run left a lock`);
      assertEquals(await openJournals(h), [], `${point}: unfinished journal after the re-run`);
      const converged = { hosts: Deno.readTextFileSync(h.hostsFile), routes: routesOf(h) };
      const state = h.stateBytes();
      h.clearCalls();
      const none = await h.ok(["rollback", "--yes"]);
      assertMatch(none.stdout, "Nothing to undo", point);
      assertEquals(h.mutatingCalls(), [], `${point}: rollback after a converged re-run`);
      assertEquals(Deno.readTextFileSync(h.hostsFile), converged.hosts);
      assertEquals(routesOf(h), converged.routes);
      assertEquals(Object.keys(h.world().clusters), ["firestream-local"]);
      assertEquals(h.stateBytes(), state, `${point}: rollback wrote the state`);
    });
  }
});

Deno.test("kill -9 after the last change: the converged re-run says so, closes the dead run's journal and removes its lock", async () => {
  await withSimHost({ config: testConfig({ network: true }) }, async (h) => {
    const ref = await h.ok(["cluster", "create", "--yes"]);
    assertMatch(ref.stdout, "is ready");
    const last = boundaries((await listRuns(`${h.projectDir}/.firestream`))[0]).at(-1)!;
    await h.ok(["cluster", "delete", "--yes"]);
    await killedAt(h, last);
    const r = await h.ok(["cluster", "create", "--yes"]);
    assertMatch(r.stdout, "already up to date; nothing to do");
    assertEquals((await h.run(["plan", "--detailed-exitcode"])).code, 0);
    assertMatch(
      r.stderr,
      "the machine matches the configuration, so its run is closed: its changes are kept and there is nothing to roll back",
    );
    assertEquals(lockLeft(h), false);
    const runs = await listRuns(`${h.projectDir}/.firestream`);
    const dead = runs.at(-1)!;
    assertEquals(dead.outcome, "abandoned");
    assertMatch(
      JSON.stringify(dead.entries.at(-1)),
      "found the machine matching the configuration",
    );
    const rb = await h.ok(["rollback", "--yes"]);
    assertMatch(rb.stdout, "Nothing to undo: the last run");
    assertEquals(Object.keys(h.world().clusters), ["firestream-local"]);
  });
});
