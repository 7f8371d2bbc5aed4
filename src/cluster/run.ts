/** One journaled, locked run of cluster tasks: state follows every step, Ctrl-C stops cleanly. */
import type { Session } from "../cli/session.ts";
import type { K3dConfig } from "../config/schema.ts";
import { type RunSummary, runTasks } from "../engine/runner.ts";
import type { AnyTask } from "../engine/task.ts";
import type { ClusterRecord, StateDocument } from "../state/document.ts";
import { JournalWriter } from "../state/journal.ts";
import { acquireLock, describeHolder } from "../state/lock.ts";
import { progressReporter } from "../ui/progress.ts";
import { type ClusterContext, type ClusterRunOptions, LiveCache, newRecord } from "./context.ts";

/** What to run. */
export interface ClusterRun {
  /** the desired config of the cluster (for delete: the recorded one) */
  k3d: K3dConfig;
  tasks: AnyTask<ClusterContext>[];
  options?: ClusterRunOptions;
  /** after success: keep the record (create) or drop it (delete) @default "keep" */
  onSuccess?: "keep" | "drop";
}

/** Result of a run. */
export interface ClusterRunResult {
  summary: RunSummary;
  record?: ClusterRecord;
  notices: string[];
  state: StateDocument;
}

/** Calls `fn` with the state lock held; warns when a dead holder's lock was taken over. */
export async function withStateLock<T>(session: Session, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(session.stateDir, session.command);
  if (lock.tookOverFrom) {
    session.out.warn(
      `took over the state lock of ${
        describeHolder(lock.tookOverFrom)
      }, which is no longer running; \`firestream rollback\` undoes what it left half-done`,
    );
  }
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** Runs the tasks for one cluster under the lock with a journal; the state file follows each step. */
export function runCluster(session: Session, run: ClusterRun): Promise<ClusterRunResult> {
  return withStateLock(session, async () => {
    let state = await session.store.read();
    const name = run.k3d.name;
    const existed = name in state.clusters;
    const record: ClusterRecord = existed
      ? structuredClone(state.clusters[name])
      : newRecord(run.k3d, session.loaded.projectDir);
    const notices: string[] = [];
    const controller = new AbortController();
    const ctx: ClusterContext = {
      config: session.loaded.config,
      k3d: run.k3d,
      name,
      kubeContext: `k3d-${name}`,
      projectDir: record.project_dir ?? session.loaded.projectDir,
      stateDir: session.stateDir,
      state,
      record,
      options: run.options ?? {},
      notice: (m) => {
        notices.push(m);
        session.out.progress(`  ${m}`);
      },
      signal: controller.signal,
      live: new LiveCache(),
    };
    let onDisk = JSON.stringify(state.clusters[name] ?? null);
    const persist = async (final = false) => {
      const keep = final ? run.onSuccess !== "drop" : true;
      const hasResources = Object.keys(record.resources).length > 0;
      const next = structuredClone(state);
      if (keep && (hasResources || existed)) {
        next.clusters[name] = final && run.onSuccess !== "drop"
          ? { ...record, k3d_config: run.k3d }
          : record;
      } else delete next.clusters[name];
      const text = JSON.stringify(next.clusters[name] ?? null);
      if (text === onDisk) return;
      state = await session.store.write(next);
      ctx.state = state;
      onDisk = text;
    };
    const journal = await JournalWriter.open(session.stateDir);
    await journal.append({
      event: "run-start",
      run: journal.run,
      command: session.command,
      cluster: name,
      tasks: run.tasks.map((t) => t.id),
      config: run.k3d,
      project_dir: ctx.projectDir,
      pid: Deno.pid,
    });
    const onSignal = () => {
      if (!controller.signal.aborted) {
        session.out.progress(
          "interrupt: stopping after the current step (press Ctrl-C again to force)",
        );
        controller.abort();
      } else Deno.exit(130);
    };
    const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
    for (const s of signals) Deno.addSignalListener(s, onSignal);
    try {
      const summary = await runTasks(run.tasks, ctx, {
        journal,
        signal: controller.signal,
        onEvent: progressReporter(session.out),
        persist: () => persist(false),
      });
      await persist(true);
      return { summary, record: state.clusters[name], notices, state };
    } catch (err) {
      await persist(false).catch(() => {});
      throw err;
    } finally {
      for (const s of signals) Deno.removeSignalListener(s, onSignal);
      journal.close();
    }
  });
}
