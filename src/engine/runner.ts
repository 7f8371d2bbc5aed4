/** Runs tasks in dependency order with a journal, and rolls back this run's steps on failure. */
import { FirestreamError, InterruptedError } from "../errors.ts";
import type { JournalWriter, RunOutcome } from "../state/journal.ts";
import { type AnyTask, type CheckResult, StepFailure, type TaskContext } from "./task.ts";

/** What happened to one task. */
export type TaskResult = "applied" | "unchanged" | "disabled" | "failed" | "not-run";

/** Progress events for the UI. */
export type RunEvent =
  | { type: "task-start"; id: string; title: string }
  | { type: "task-end"; id: string; title: string; result: TaskResult; ms: number; error?: string }
  | { type: "rollback-start"; reason: string }
  | { type: "rollback-task"; id: string; title: string; ok: boolean; error?: string };

/** Options for {@link runTasks}. */
export interface RunOptions {
  /** the journal of this run; entries are written before and after every apply */
  journal: JournalWriter;
  /** called for progress output */
  onEvent?: (event: RunEvent) => void;
  /** when aborted, no new task starts; the run ends as interrupted */
  signal?: AbortSignal;
  /**
   * called after every step that may have changed the machine (applied, failed while applying, or
   * rolled back): the state file follows the machine, and earlier reads are stale
   */
  onChange?: () => Promise<void>;
}

/** Summary of a run. */
export interface RunSummary {
  outcome: RunOutcome;
  results: Record<string, TaskResult>;
  /** task ids applied in this run, in completion order */
  applied: string[];
}

/** Executes the tasks; throws after rolling back when one fails. */
export async function runTasks<C extends TaskContext<C>>(
  tasks: AnyTask<C>[],
  ctx: C,
  options: RunOptions,
): Promise<RunSummary> {
  const { journal, onEvent = () => {}, signal } = options;
  const results: Record<string, TaskResult> = {};
  const applied: Applied<C>[] = [];
  const needs = new Map<string, string[]>();
  tasks.forEach((t, i) => needs.set(t.id, t.needs ?? tasks.slice(0, i).map((p) => p.id)));
  for (const [id, deps] of needs) {
    for (const d of deps) {
      if (!needs.has(d)) throw new Error(`task ${id} needs unknown task ${d}`);
    }
  }

  const done = new Set<string>();
  const running = new Map<string, Promise<void>>();
  let failure: { id: string; error: unknown; phase: "check" | "apply" } | undefined;

  const runOne = async (task: AnyTask<C>): Promise<void> => {
    const started = performance.now();
    let phase: "check" | "apply" = "check";
    const end = (result: TaskResult, error?: string) => {
      results[task.id] = result;
      onEvent({
        type: "task-end",
        id: task.id,
        title: task.title,
        result,
        ms: performance.now() - started,
        error,
      });
    };
    try {
      if (task.enabled && !task.enabled(ctx)) {
        await journal.append({ event: "task-skip", task: task.id, reason: "disabled" });
        return end("disabled");
      }
      await ctx.live.refresh(ctx, task.reads?.(ctx) ?? []);
      const found = task.check(ctx);
      if (!found.diffs.length) {
        adopt(ctx.record, task, found);
        if (found.note) ctx.notice?.(found.note);
        await journal.append({ event: "task-skip", task: task.id, reason: "already done" });
        return end("unchanged");
      }
      onEvent({ type: "task-start", id: task.id, title: task.title });
      await journal.append({ event: "task-start", task: task.id });
      phase = "apply";
      const before = slotValues(ctx.record, task.slots);
      const undo = await task.apply(ctx);
      applied.push({ task, undo, before });
      await journal.append({
        event: "task-done",
        task: task.id,
        undo: undo ?? null,
        ...(before ? { before } : {}),
      });
      await options.onChange?.();
      end("applied");
    } catch (error) {
      const message = errorText(error);
      await journal.append({ event: "task-failed", task: task.id, error: message });
      await options.onChange?.().catch(() => {});
      failure ??= { id: task.id, error, phase };
      end("failed", message);
    } finally {
      done.add(task.id);
    }
  };

  while (true) {
    if (!failure && !signal?.aborted) {
      for (const task of tasks) {
        if (done.has(task.id) || running.has(task.id)) continue;
        if (!needs.get(task.id)!.every((d) => done.has(d) && results[d] !== "failed")) continue;
        running.set(task.id, runOne(task).finally(() => running.delete(task.id)));
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  for (const t of tasks) results[t.id] ??= "not-run";

  // past a step with no way back (done now, or found done): the run can only go forward
  const pastReturn = tasks.find((t) =>
    t.pointOfNoReturn && (results[t.id] === "applied" || results[t.id] === "unchanged")
  );
  if (failure && pastReturn) {
    // nothing of what went before can come back: keep it, and leave the rest to the next run
    await journal.append({ event: "run-end", outcome: "failed", error: errorText(failure.error) });
    const task = tasks.find((t) => t.id === failure!.id)!;
    const base = failure.error instanceof FirestreamError ? failure.error : undefined;
    throw new FirestreamError(`${task.title} failed: ${errorText(failure.error)}`, {
      hint: `${
        forwardProgress(tasks, results)
      }; run the same command again (or \`firestream rollback\`) to finish`,
      cause: failure.error,
      exitCode: signal?.aborted ? 130 : base?.exitCode,
    });
  }
  if (failure) {
    const reason = `${failure.id} failed: ${errorText(failure.error)}`;
    const rollbackOk = await rollbackApplied(applied, ctx, {
      journal,
      onEvent,
      reason,
      onChange: options.onChange,
    });
    const outcome: RunOutcome = rollbackOk ? "rolled-back" : "rollback-failed";
    await journal.append({ event: "run-end", outcome, error: errorText(failure.error) });
    const task = tasks.find((t) => t.id === failure!.id)!;
    const base = failure.error instanceof FirestreamError ? failure.error : undefined;
    throw new FirestreamError(
      `${task.title} failed: ${errorText(failure.error)}`,
      {
        hint: failureHint(failure, applied.length, rollbackOk, base?.hint),
        cause: failure.error,
        exitCode: signal?.aborted ? 130 : base?.exitCode,
      },
    );
  }
  if (signal?.aborted) {
    await journal.append({ event: "run-end", outcome: "interrupted" });
    throw new InterruptedError(
      pastReturn
        ? `interrupted past the point of no return (${
          forwardProgress(tasks, results)
        }); run the command again (or \`firestream rollback\`) to finish`
        : applied.length
        ? `interrupted after ${applied.length} step(s); run \`firestream rollback\` to undo them or run the command again to finish`
        : "interrupted before any step changed anything; nothing was changed",
    );
  }
  await journal.append({ event: "run-end", outcome: "succeeded" });
  return { outcome: "succeeded", results, applied: applied.map((a) => a.task.id) };
}

/**
 * What the machine has after a failed run, as far as it is known: "nothing had been changed" only
 * when the failure came before any change (a check) or the failed step undid its own part.
 */
function failureHint(
  failure: { error: unknown; phase: "check" | "apply" },
  applied: number,
  rollbackOk: boolean,
  hint: string | undefined,
): string {
  if (!rollbackOk) {
    return "rollback did not finish; run `firestream rollback` after fixing the cause";
  }
  const parts = hint ? [hint] : [];
  const step = failure.error instanceof StepFailure ? failure.error.outcome : undefined;
  if (failure.phase === "apply") {
    if (step && "left" in step) parts.push(step.left);
    else if (!step) {
      parts.push(
        "the failed step may have made part of its change; `firestream plan` shows what differs",
      );
    } else if (applied) parts.push("the failed step undid its own changes");
  }
  if (applied) parts.push(`this run's ${applied} completed step(s) were rolled back`);
  else if (failure.phase === "check" || (step && "undone" in step)) {
    parts.push("nothing had been changed");
  }
  return parts.join("; ");
}

/** A step this run applied: what its rollback needs, and its record slots from before. */
export interface Applied<C> {
  task: AnyTask<C>;
  undo: unknown;
  /** the step's record slots before it applied (null: absent) */
  before?: Record<string, unknown>;
}

/** The record's value at a dotted path ("tls.secret"), or undefined. */
/** The value at a dotted path of a record (undefined when any part is missing). */
export function slotGet(record: object, path: string): unknown {
  return path.split(".").reduce<unknown>(
    (o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined),
    record,
  );
}

/** Sets (or, for undefined and null, removes) the value at a dotted path; a missing parent is left so. */
function slotSet(record: object, path: string, value: unknown): void {
  const keys = path.split(".");
  const parent = keys.slice(0, -1).reduce<unknown>(
    (o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined),
    record,
  ) as Record<string, unknown> | undefined;
  if (!parent || typeof parent !== "object") return;
  const last = keys.at(-1)!;
  if (value === undefined || value === null) delete parent[last];
  else parent[last] = structuredClone(value);
}

/** The task's slots as they are now (JSON: an absent slot is null). */
function slotValues(record: object, slots: string[] | undefined) {
  if (!slots?.length) return undefined;
  return Object.fromEntries(slots.map((s) => [s, structuredClone(slotGet(record, s) ?? null)]));
}

/** A check that found nothing to do may say what the record should hold: it is written. */
function adopt<C>(record: object, task: AnyTask<C>, found: CheckResult): void {
  if (found.record === undefined || !task.slots?.length) return;
  slotSet(record, task.slots[0], found.record);
}

/** Rolls back applied steps in reverse completion order; true when every rollback succeeded. */
export async function rollbackApplied<C extends TaskContext<C>>(
  applied: Applied<C>[],
  ctx: C,
  options: {
    journal: JournalWriter;
    onEvent?: (e: RunEvent) => void;
    reason: string;
    onChange?: () => Promise<void>;
  },
): Promise<boolean> {
  const { journal, onEvent = () => {} } = options;
  if (applied.length === 0) return true;
  await journal.append({ event: "rollback-start", reason: options.reason });
  onEvent({ type: "rollback-start", reason: options.reason });
  let ok = true;
  for (const { task, undo, before } of [...applied].reverse()) {
    await journal.append({ event: "rollback-task-start", task: task.id });
    try {
      await task.rollback(ctx, undo);
      // the step's part of the record is as it was before the step
      for (const [slot, value] of Object.entries(before ?? {})) slotSet(ctx.record, slot, value);
      await journal.append({ event: "rollback-task-done", task: task.id });
      await options.onChange?.();
      // a step that changed nothing undoable (null) is not reported as undone
      if (undo !== null && undo !== undefined) {
        onEvent({ type: "rollback-task", id: task.id, title: task.title, ok: true });
      }
    } catch (error) {
      ok = false;
      const message = errorText(error);
      await journal.append({ event: "rollback-task-failed", task: task.id, error: message });
      await options.onChange?.().catch(() => {});
      onEvent({ type: "rollback-task", id: task.id, title: task.title, ok: false, error: message });
    }
  }
  return ok;
}

/** "already done: A, B; left to do: C" for a run that can only go forward. */
export function forwardProgress<C>(
  tasks: AnyTask<C>[],
  results: Record<string, TaskResult>,
): string {
  const done = tasks.filter((t) => results[t.id] === "applied" || results[t.id] === "unchanged");
  const left = tasks.filter((t) => results[t.id] === "failed" || results[t.id] === "not-run");
  const names = (list: AnyTask<C>[]) => list.map((t) => t.title).join(", ") || "nothing";
  return `already done: ${names(done)}; left to do: ${names(left)}`;
}

/** The message of any thrown value. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What a read-only pass found for one task. */
export type CheckOutcome =
  | { id: string; title: string; status: "disabled" | "ok" }
  | { id: string; title: string; status: "would-apply"; found: CheckResult }
  | { id: string; title: string; status: "pending"; after: string[] };

/** The facts the enabled tasks read, gathered concurrently (one refresh for the whole plan). */
export async function refreshTasks<C extends TaskContext<C>>(
  tasks: AnyTask<C>[],
  ctx: C,
): Promise<void> {
  await ctx.live.refresh(
    ctx,
    tasks.filter((t) => !t.enabled || t.enabled(ctx)).flatMap((t) => t.reads?.(ctx) ?? []),
  );
}

/**
 * Runs only `enabled` and `check` on one refresh, changing nothing: what a run would do. A task
 * whose prerequisite would apply is `pending` (its check could not see the world it will find).
 */
export async function checkTasks<C extends TaskContext<C>>(
  tasks: AnyTask<C>[],
  ctx: C,
): Promise<CheckOutcome[]> {
  await refreshTasks(tasks, ctx);
  const out: CheckOutcome[] = [];
  const changing = new Set<string>();
  for (const [i, task] of tasks.entries()) {
    const deps = task.needs ?? tasks.slice(0, i).map((t) => t.id);
    if (task.enabled && !task.enabled(ctx)) {
      out.push({ id: task.id, title: task.title, status: "disabled" });
      continue;
    }
    const after = deps.filter((d) => changing.has(d));
    if (after.length) {
      changing.add(task.id);
      out.push({ id: task.id, title: task.title, status: "pending", after });
      continue;
    }
    const found = task.check(ctx);
    if (!found.diffs.length) {
      out.push({ id: task.id, title: task.title, status: "ok" });
      continue;
    }
    changing.add(task.id);
    out.push({ id: task.id, title: task.title, status: "would-apply", found });
  }
  return out;
}
