/**
 * `firestream rollback`: undoes what unfinished runs left, from their journals, newest first. A run
 * past its point of no return (a delete whose cluster is gone) is finished instead of undone.
 */
import type { Workspace } from "./workspace.ts";
import type { K3dConfig } from "../config/schema.ts";
import { errorText, rollbackApplied, runTasks } from "../engine/runner.ts";
import type { AnyTask } from "../engine/task.ts";
import { JournalWriter, listRuns, type RunRecord, unfinishedRuns } from "../state/journal.ts";
import { progressReporter } from "./progress.ts";
import type { ClusterContext } from "../../tasks/context.ts";
import { openScope, withInterrupts, withStateLock } from "./run.ts";

/** One step of a rollback plan. */
export interface RollbackStep {
  id: string;
  title: string;
  /** abandon: a step the run died inside; undo: a finished step; finish: a step still to do */
  action: "abandon" | "undo" | "finish";
}

/** What rollback will do about one unfinished run. */
export interface RollbackRunPlan {
  run: string;
  command: string;
  cluster: string;
  pid: number;
  /** how the run ended: its outcome, or "killed" when it never wrote one */
  ended: string;
  /** back: undo its steps; forward: past its point of no return, finish it */
  direction: "back" | "forward";
  steps: RollbackStep[];
}

/** What rollback did. */
export interface RollbackResult {
  /** the newest run handled */
  run?: string;
  reason?: string;
  plan: RollbackRunPlan[];
  runs: { run: string; direction: "back" | "forward"; undone: string[]; failed: string[] }[];
  /** over all runs: steps undone (or finished) and steps that failed */
  undone: string[];
  failed: string[];
}

/** Options for {@link rollbackLastRun}. */
export interface RollbackOptions {
  /** shown the plan; returns whether to go on (not called when there is nothing to do) */
  confirm: (plan: RollbackRunPlan[]) => Promise<boolean>;
}

async function allTasks(): Promise<Map<string, AnyTask<ClusterContext>>> {
  const { createTasks } = await import("../../tasks/cluster_create/mod.ts");
  const { deleteTasks } = await import("../../tasks/cluster_delete/mod.ts");
  const { stopTasks } = await import("../../tasks/cluster_stop/mod.ts");
  return new Map([...createTasks, ...deleteTasks, ...stopTasks].map((t) => [t.id, t]));
}

type Tasks = Map<string, AnyTask<ClusterContext>>;

function taskIds(run: RunRecord, events: string[]): Set<string> {
  return new Set(
    run.entries.filter((e) => events.includes(e.event) && "task" in e).map((e) =>
      (e as { task: string }).task
    ),
  );
}

function dropsRecord(run: RunRecord): boolean {
  return run.start!.on_success === "drop" ||
    (run.start!.on_success === undefined && run.start!.tasks.every((t) => t.startsWith("delete-")));
}

async function scopeOf(session: Workspace, run: RunRecord, forward: boolean) {
  return await openScope(session, {
    k3d: run.start!.config as K3dConfig,
    recordExisted: run.start!.record_existed,
    onSuccess: forward && dropsRecord(run) ? "drop" : "keep",
  });
}

/** Whether the run passed a step with no way back (done, found done, or died inside one that took effect). */
async function isForward(session: Workspace, run: RunRecord, tasks: Tasks): Promise<boolean> {
  if (run.outcome === "failed") return true;
  const ponr = (id: string) => tasks.get(id)?.pointOfNoReturn === true;
  const done = run.entries.some((e) =>
    (e.event === "task-done" && ponr(e.task)) ||
    (e.event === "task-skip" && e.reason === "already done" && ponr(e.task))
  );
  if (done) return true;
  const inside = run.interrupted.filter(ponr);
  if (!inside.length) return false;
  const { ctx } = await scopeOf(session, run, false);
  for (const id of inside) {
    const task = tasks.get(id)!;
    await ctx.live.refresh(ctx, task.reads?.(ctx) ?? []);
    if (!task.check(ctx).diffs.length) return true;
  }
  return false;
}

async function planRun(session: Workspace, run: RunRecord, tasks: Tasks): Promise<RollbackRunPlan> {
  const start = run.start!;
  const forward = await isForward(session, run, tasks);
  const title = (id: string) => tasks.get(id)?.title ?? id;
  let steps: RollbackStep[];
  if (forward) {
    const done = taskIds(run, ["task-done", "task-skip"]);
    steps = start.tasks.filter((id) => !done.has(id) && tasks.has(id)).map((id) => ({
      id,
      title: title(id),
      action: "finish" as const,
    }));
  } else {
    steps = [
      ...run.interrupted.filter((id) => tasks.get(id)?.abandon).map((id) => ({
        id,
        title: title(id),
        action: "abandon" as const,
      })),
      ...[...run.pendingUndo].reverse().filter((p) => p.undo !== null && tasks.has(p.task)).map((
        p,
      ) => ({ id: p.task, title: title(p.task), action: "undo" as const })),
    ];
  }
  return {
    run: run.run,
    command: start.command,
    cluster: start.cluster,
    pid: start.pid,
    ended: run.outcome ?? "killed",
    direction: forward ? "forward" : "back",
    steps,
  };
}

/** The plan as text: one block per run. */
export function renderRollbackPlan(plan: RollbackRunPlan[]): string {
  const verb = { abandon: "stop and undo what it left half-done:", undo: "undo", finish: "finish" };
  return plan.map((p) => {
    const head = `run ${p.run} (\`${p.command}\`, cluster ${p.cluster}, pid ${p.pid}, ${
      p.ended === "killed" ? "killed before it ended" : p.ended
    })`;
    const what = p.direction === "forward"
      ? "is past its point of no return (the cluster is gone): it will be finished, not undone"
      : "will be undone";
    const steps = p.steps.length
      ? p.steps.map((s) => `  ${verb[s.action]} ${s.title}`)
      : ["  (no step changed anything; the run is closed)"];
    return [`${head} ${what}:`, ...steps].join("\n");
  }).join("\n");
}

async function undoRun(
  session: Workspace,
  run: RunRecord,
  tasks: Tasks,
  report: ReturnType<typeof progressReporter>,
): Promise<{ undone: string[]; failed: string[] }> {
  const scope = await scopeOf(session, run, false);
  const { ctx } = scope;
  const journal = await JournalWriter.reopen(run.path);
  const undone: string[] = [];
  const failed: string[] = [];
  try {
    report({ type: "rollback-start", reason: `run ${run.run}` });
    await withInterrupts(session, scope.abort, async () => {
      // steps that started and never finished (the process died inside them) are undone first
      for (const id of run.interrupted) {
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
          await journal.append({ event: "rollback-task-failed", task: id, error: errorText(err) });
          report({
            type: "rollback-task",
            id,
            title: task.title,
            ok: false,
            error: errorText(err),
          });
        }
        await scope.changed();
      }
      const applied = run.pendingUndo.flatMap((p) => {
        const task = tasks.get(p.task);
        return task ? [{ task, undo: p.undo, before: p.before }] : [];
      });
      await rollbackApplied(applied, ctx, {
        journal,
        onEvent: (e) => {
          if (e.type !== "rollback-start") report(e);
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
  return { undone, failed };
}

async function finishRun(
  session: Workspace,
  run: RunRecord,
  tasks: Tasks,
  report: ReturnType<typeof progressReporter>,
): Promise<{ undone: string[]; failed: string[] }> {
  const scope = await scopeOf(session, run, true);
  const list = run.start!.tasks.flatMap((id) => tasks.get(id) ?? []);
  const journal = await JournalWriter.reopen(run.path);
  try {
    const summary = await withInterrupts(session, scope.abort, () =>
      runTasks(list, scope.ctx, {
        journal,
        signal: scope.abort.signal,
        onEvent: report,
        onChange: scope.changed,
      }));
    await scope.persist(true);
    return { undone: summary.applied, failed: [] };
  } catch (err) {
    await scope.persist(false).catch(() => {});
    throw err;
  } finally {
    journal.close();
  }
}

/** Shows what unfinished runs left and, once confirmed, undoes (or finishes) them under the lock. */
export function rollbackLastRun(
  session: Workspace,
  options: RollbackOptions,
): Promise<RollbackResult> {
  return withStateLock(session, async () => {
    const runs = (await unfinishedRuns(session.stateDir)).filter((r) => r.start);
    if (!runs.length) {
      const last = (await listRuns(session.stateDir)).at(-1);
      const reason = !last
        ? "no runs are recorded"
        : `the last run (${last.run}) ${
          last.outcome === "succeeded"
            ? "succeeded"
            : last.outcome === "abandoned"
            ? "was closed by a later run that found the machine converged"
            : "left nothing to undo"
        }`;
      return { reason, plan: [], runs: [], undone: [], failed: [] };
    }
    const tasks = await allTasks();
    const plan: RollbackRunPlan[] = [];
    for (const run of runs) plan.push(await planRun(session, run, tasks));
    if (!(await options.confirm(plan))) {
      return { reason: "cancelled", plan, runs: [], undone: [], failed: [] };
    }
    const report = progressReporter(session.out);
    const result: RollbackResult = { run: runs[0].run, plan, runs: [], undone: [], failed: [] };
    for (const [i, run] of runs.entries()) {
      const done = plan[i].direction === "forward"
        ? await finishRun(session, run, tasks, report)
        : await undoRun(session, run, tasks, report);
      result.runs.push({ run: run.run, direction: plan[i].direction, ...done });
      result.undone.push(...done.undone);
      result.failed.push(...done.failed);
      // an older run is touched only once the newer one is fully undone
      if (done.failed.length) break;
    }
    return result;
  }, "rollback");
}
