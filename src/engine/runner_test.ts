import { assertEquals, assertMatch, assertNotMatch, assertRejects } from "../../test/assert.ts";
import type { FirestreamError } from "../errors.ts";
import { JournalWriter, listRuns } from "../state/journal.ts";
import { runTasks } from "./runner.ts";
import { LiveCache } from "./snapshot.ts";
import { type CheckResult, StepFailure, type Task, UP_TO_DATE } from "./task.ts";

interface Ctx {
  log: string[];
  failAt?: string;
  record: Record<string, unknown>;
  live: LiveCache<Ctx>;
}

/** A check that finds something to do. */
const TO_DO: CheckResult = { diffs: [{ key: "step", from: false, to: true }] };

/** A fresh context with an empty record. */
function context(fields: Partial<Ctx> = {}): Ctx {
  return { log: [], record: {}, live: new LiveCache<Ctx>(), ...fields };
}

function makeTasks(ids: string[]): Task<Ctx, string>[] {
  return ids.map((id) => ({
    id,
    title: `step ${id}`,
    check: () => TO_DO,
    apply: (ctx: Ctx) => {
      if (ctx.failAt === id) return Promise.reject(new Error(`boom in ${id}`));
      ctx.log.push(`apply ${id}`);
      return Promise.resolve(`undo-${id}`);
    },
    rollback: (ctx: Ctx, undo: string) => {
      ctx.log.push(`rollback ${id} ${undo}`);
      return Promise.resolve();
    },
  }));
}

Deno.test("runner: a failure at each position rolls back exactly the completed steps, in reverse", async () => {
  const ids = ["a", "b", "c", "d", "e"];
  for (let i = 0; i < ids.length; i++) {
    const dir = await Deno.makeTempDir();
    const ctx = context({ failAt: ids[i] });
    const journal = await JournalWriter.open(dir);
    await assertRejects(
      () => runTasks(makeTasks(ids), ctx, { journal }),
      Error,
      `boom in ${ids[i]}`,
    );
    journal.close();
    const completed = ids.slice(0, i);
    assertEquals(ctx.log, [
      ...completed.map((id) => `apply ${id}`),
      ...[...completed].reverse().map((id) => `rollback ${id} undo-${id}`),
    ]);
    const [run] = await listRuns(dir);
    assertEquals(run.outcome, "rolled-back");
    assertEquals(run.pendingUndo, []);
    const events = run.entries.map((e) => `${e.event}${"task" in e ? ":" + e.task : ""}`);
    const expected = [
      ...completed.flatMap((id) => [`task-start:${id}`, `task-done:${id}`]),
      `task-start:${ids[i]}`,
      `task-failed:${ids[i]}`,
      ...(completed.length ? ["rollback-start"] : []),
      ...[...completed].reverse().flatMap((id) => [
        `rollback-task-start:${id}`,
        `rollback-task-done:${id}`,
      ]),
      "run-end",
    ];
    assertEquals(events, expected);
  }
});

Deno.test("runner: steps already done are not applied and not rolled back", async () => {
  const dir = await Deno.makeTempDir();
  const tasks = makeTasks(["a", "b", "c"]);
  tasks[0].check = () => UP_TO_DATE;
  const ctx = context({ failAt: "c" });
  const journal = await JournalWriter.open(dir);
  await assertRejects(() => runTasks(tasks, ctx, { journal }));
  assertEquals(ctx.log, ["apply b", "rollback b undo-b"]);
});

Deno.test("runner: independent tasks run concurrently and rollback follows completion order", async () => {
  const dir = await Deno.makeTempDir();
  const order: string[] = [];
  let active = 0;
  let peak = 0;
  // x ends only after y did: both run at once, and the order of ends is y's doing, not a clock's
  let yEnded!: () => void;
  const yDone = new Promise<void>((r) => yEnded = r);
  const step = (id: string, needs: string[], until?: Promise<void>): Task<Ctx, string> => ({
    id,
    title: id,
    needs,
    check: () => TO_DO,
    apply: async () => {
      active++;
      peak = Math.max(peak, active);
      await until;
      active--;
      order.push(id);
      if (id === "y") yEnded();
      return id;
    },
    rollback: (ctx: Ctx, undo: string) => {
      ctx.log.push(`rollback ${undo}`);
      return Promise.resolve();
    },
  });
  const tasks = [
    step("pre", []),
    step("x", ["pre"], yDone),
    step("y", ["pre"]),
    {
      ...step("z", ["x", "y"]),
      apply: () => Promise.reject(new Error("z fails")),
    },
  ];
  const ctx = context();
  const journal = await JournalWriter.open(dir);
  await assertRejects(() => runTasks(tasks, ctx, { journal }), Error, "z fails");
  assertEquals(peak, 2);
  assertEquals(order, ["pre", "y", "x"]);
  assertEquals(ctx.log, ["rollback x", "rollback y", "rollback pre"]);
});

Deno.test("runner: an abort stops before the next step and leaves the journal open for rollback", async () => {
  const dir = await Deno.makeTempDir();
  const controller = new AbortController();
  const tasks = makeTasks(["a", "b", "c"]);
  const applyA = tasks[0].apply;
  tasks[0].apply = async (ctx) => {
    const undo = await applyA(ctx);
    controller.abort();
    return undo;
  };
  const ctx = context();
  const journal = await JournalWriter.open(dir);
  const err = await assertRejects(() =>
    runTasks(tasks, ctx, { journal, signal: controller.signal })
  );
  assertEquals((err as { exitCode?: number }).exitCode, 130);
  assertEquals(ctx.log, ["apply a"]);
  const [run] = await listRuns(dir);
  assertEquals(run.outcome, "interrupted");
  assertEquals(run.pendingUndo, [{ task: "a", undo: "undo-a" }]);
});

Deno.test('runner: "nothing had been changed" only when the first step failed in its check or undid itself', async () => {
  const hintOf = async (task: Task<Ctx, string>): Promise<string> => {
    const dir = await Deno.makeTempDir();
    const journal = await JournalWriter.open(dir);
    try {
      await runTasks([task], context(), { journal });
      throw new Error("the run did not fail");
    } catch (err) {
      return (err as FirestreamError).hint ?? "";
    } finally {
      journal.close();
    }
  };
  const base = { id: "x", title: "X", rollback: () => Promise.resolve() };
  const failing = (error: unknown) => ({
    ...base,
    check: () => TO_DO,
    apply: () => Promise.reject(error),
  });
  assertMatch(
    await hintOf({
      ...base,
      check: () => {
        throw new Error("read");
      },
      apply: () => Promise.resolve(""),
    }),
    "nothing had been changed",
  );
  assertMatch(
    await hintOf(failing(new StepFailure(new Error("w"), { undone: true }))),
    "nothing had been changed",
  );
  const plain = await hintOf(failing(new Error("write")));
  assertNotMatch(plain, "nothing had been changed");
  assertMatch(plain, "may have made part of its change");
  const partial = await hintOf(
    failing(new StepFailure(new Error("w"), { left: "2 of 3 agents remain" })),
  );
  assertEquals(partial, "2 of 3 agents remain");
});

Deno.test("runner: past a point of no return a failure undoes nothing and says what is done and what is left", async () => {
  for (const found of [false, true]) {
    const dir = await Deno.makeTempDir();
    const tasks = makeTasks(["a", "gone", "c", "d"]);
    tasks[1].pointOfNoReturn = true;
    // the step with no way back was done by this run, or found done (an earlier attempt did it)
    if (found) tasks[1].check = () => UP_TO_DATE;
    const ctx = context({ failAt: "c" });
    const journal = await JournalWriter.open(dir);
    const err = await assertRejects(() => runTasks(tasks, ctx, { journal }), Error, "boom in c");
    const hint = (err as { hint?: string }).hint ?? "";
    assertEquals(
      hint,
      "already done: step a, step gone; left to do: step c, step d; run the same command again (or `firestream rollback`) to finish",
    );
    assertEquals(ctx.log, found ? ["apply a"] : ["apply a", "apply gone"]);
    const [run] = await listRuns(dir);
    assertEquals(run.outcome, "failed");
    assertEquals(run.entries.some((e) => e.event === "rollback-start"), false);
  }
});

Deno.test("runner: a step whose apply returned null is rolled back silently (nothing to report as undone)", async () => {
  const dir = await Deno.makeTempDir();
  const tasks = makeTasks(["a", "b", "c"]);
  tasks[0].apply = (ctx) => {
    ctx.log.push("apply a");
    return Promise.resolve(null as unknown as string);
  };
  const events: string[] = [];
  const ctx = context({ failAt: "c" });
  const journal = await JournalWriter.open(dir);
  await assertRejects(() =>
    runTasks(tasks, ctx, {
      journal,
      onEvent: (e) => e.type === "rollback-task" && events.push(e.id),
    })
  );
  assertEquals(events, ["b"]);
  const [run] = await listRuns(dir);
  assertEquals(run.pendingUndo, []);
});
