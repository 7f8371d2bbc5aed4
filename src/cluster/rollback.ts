/** `firestream rollback`: undoes what the last failed or interrupted run left, from its journal. */
import type { Session } from "../cli/session.ts";
import type { K3dConfig } from "../config/schema.ts";
import { rollbackApplied } from "../engine/runner.ts";
import type { AnyTask } from "../engine/task.ts";
import { JournalWriter, lastUnfinishedRun, listRuns } from "../state/journal.ts";
import { progressReporter } from "../ui/progress.ts";
import type { ClusterContext } from "./context.ts";
import { openScope, withInterrupts, withStateLock } from "./run.ts";

/** What rollback did. */
export interface RollbackResult {
  run?: string;
  reason?: string;
  undone: string[];
  failed: string[];
}

async function allTasks(): Promise<Map<string, AnyTask<ClusterContext>>> {
  const { createTasks } = await import("../../tasks/cluster_create/mod.ts");
  const { deleteTasks } = await import("../../tasks/cluster_delete/mod.ts");
  const { stopTasks } = await import("../../tasks/cluster_stop/mod.ts");
  return new Map([...createTasks, ...deleteTasks, ...stopTasks].map((t) => [t.id, t]));
}

/** Rolls back the newest unfinished run, under the lock. */
export function rollbackLastRun(session: Session): Promise<RollbackResult> {
  return withStateLock(session, async () => {
    const run = await lastUnfinishedRun(session.stateDir);
    if (!run?.start) {
      const last = (await listRuns(session.stateDir)).at(-1);
      const reason = !last
        ? "no runs are recorded"
        : `the last run (${last.run}) ${
          last.outcome === "succeeded" ? "succeeded" : "was already rolled back"
        }`;
      return { reason, undone: [], failed: [] };
    }
    const tasks = await allTasks();
    const k3d = run.start.config as K3dConfig;
    const scope = await openScope(session, { k3d, recordExisted: run.start.record_existed });
    const { ctx } = scope;
    // steps that started and never finished (the process died inside them) are undone first
    const finished = new Set(
      run.entries.filter((e) => e.event === "task-done" || e.event === "task-failed").map((e) =>
        (e as { task: string }).task
      ),
    );
    const abandoned = run.entries
      .filter((e) => e.event === "task-start" && !finished.has(e.task))
      .map((e) => (e as { task: string }).task);
    const journal = await JournalWriter.reopen(run.path);
    const undone: string[] = [];
    const failed: string[] = [];
    const report = progressReporter(session.out);
    try {
      await withInterrupts(session, scope.abort, async () => {
        for (const id of abandoned) {
          const task = tasks.get(id);
          if (!task?.abandon) continue;
          await journal.append({ event: "rollback-task-start", task: id });
          try {
            await task.abandon(ctx);
            await journal.append({ event: "rollback-task-done", task: id });
            undone.push(id);
            report({ type: "rollback-task", id, title: task.title, ok: true });
          } catch (err) {
            failed.push(id);
            await journal.append({
              event: "rollback-task-failed",
              task: id,
              error: (err as Error).message,
            });
            report({
              type: "rollback-task",
              id,
              title: task.title,
              ok: false,
              error: (err as Error).message,
            });
          }
          await scope.changed();
        }
        const applied = run.pendingUndo.flatMap((p) => {
          const task = tasks.get(p.task);
          return task ? [{ task, undo: p.undo }] : [];
        });
        await rollbackApplied(applied, ctx, {
          journal,
          onEvent: (e) => {
            report(e);
            if (e.type === "rollback-task") (e.ok ? undone : failed).push(e.id);
          },
          reason: "firestream rollback",
          onChange: scope.changed,
        });
        await journal.append({
          event: "run-end",
          outcome: failed.length ? "rollback-failed" : "rolled-back",
        });
      });
    } finally {
      journal.close();
    }
    return { run: run.run, undone, failed };
  });
}
