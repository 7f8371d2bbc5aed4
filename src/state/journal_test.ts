import { assertEquals } from "../../test/assert.ts";
import {
  JournalWriter,
  lastUnfinishedRun,
  listRuns,
  MAX_JOURNALS,
  parseJournal,
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
