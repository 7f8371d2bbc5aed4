import { assertEquals } from "../../test/assert.ts";
import {
  closeRun,
  isClosed,
  type JournalEntry,
  JournalWriter,
  lastUnfinishedRun,
  listRuns,
  MAX_JOURNALS,
  openRuns,
  parseJournal,
  unfinishedRuns,
} from "./journal.ts";

Deno.test("journal: a torn last line is ignored; pending undo follows done and rolled-back steps", () => {
  const text = [
    JSON.stringify({
      event: "run-start",
      run: "r",
      command: "c",
      cluster: "x",
      tasks: ["a", "b"],
      config: {},
      project_dir: "/",
      pid: 1,
      record_existed: false,
    }),
    JSON.stringify({ event: "task-done", task: "a", undo: 1 }),
    JSON.stringify({ event: "task-done", task: "b", undo: 2 }),
    JSON.stringify({ event: "rollback-task-done", task: "b" }),
    '{"event":"task-st',
  ].join("\n");
  const run = parseJournal("r", "/x", text);
  assertEquals(run.pendingUndo, [{ task: "a", undo: 1 }]);
  assertEquals(run.outcome, undefined);
});

Deno.test("journal: the newest run decides what rollback sees; old journals are pruned", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await JournalWriter.open(dir);
    await first.append({ event: "task-done", task: "a", undo: null });
    first.close();
    assertEquals(
      (await lastUnfinishedRun(dir))?.run,
      first.run,
      "a run without an end is unfinished",
    );
    const second = await JournalWriter.open(dir);
    await second.append({ event: "run-end", outcome: "succeeded" });
    second.close();
    assertEquals(await lastUnfinishedRun(dir), undefined);
    for (let i = 0; i < MAX_JOURNALS + 5; i++) (await JournalWriter.open(dir)).close();
    assertEquals((await listRuns(dir)).length, MAX_JOURNALS);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("journal: rollback sees unfinished runs newer than their cluster's last success; a closed run is not one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = async (cluster: string, entries: JournalEntry[]) => {
      const w = await JournalWriter.open(dir);
      await w.append({
        event: "run-start",
        run: w.run,
        command: "c",
        cluster,
        tasks: ["a"],
        config: {},
        project_dir: "/",
        pid: 1,
        record_existed: false,
      });
      for (const e of entries) await w.append(e);
      w.close();
      return w.run;
    };
    const killed = await run("x", [{ event: "task-start", task: "a" }]);
    const other = await run("y", [{ event: "task-done", task: "a", undo: 1 }]);
    const ids = async () => (await unfinishedRuns(dir)).map((r) => r.run);
    assertEquals(await ids(), [other, killed]);
    const [k] = (await listRuns(dir)).filter((r) => r.run === killed);
    assertEquals(k.interrupted, ["a"]);
    // a rolled-back run of x after it does not settle x; a successful one does
    await run("x", [{ event: "run-end", outcome: "rolled-back" }]);
    assertEquals(await ids(), [other, killed]);
    await run("x", [{ event: "run-end", outcome: "succeeded" }]);
    assertEquals(await ids(), [other]);
    assertEquals((await openRuns(dir, "x")).map((r) => r.run), [killed]);
    // closing writes the end of the dead run: it is neither open nor unfinished any more
    await closeRun((await openRuns(dir, "y"))[0], "converged");
    assertEquals(await ids(), []);
    const closed = (await listRuns(dir)).find((r) => r.run === other)!;
    assertEquals([closed.outcome, isClosed(closed)], ["abandoned", true]);
    // a run that failed past its point of no return stays unfinished even with nothing to undo
    const failed = await run("z", [{ event: "run-end", outcome: "failed" }]);
    assertEquals(await ids(), [failed]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
