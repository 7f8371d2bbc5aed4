/** One journaled, locked run of cluster tasks: state follows every step, Ctrl-C stops cleanly. */
import type { Workspace } from "./workspace.ts";
import type { K3dConfig } from "../config/schema.ts";
import { type RunSummary, runTasks } from "../engine/runner.ts";
import type { AnyTask } from "../engine/task.ts";
import type { ClusterRecord, StateDocument } from "../state/document.ts";
import { closeRun, JournalWriter, openRuns } from "../state/journal.ts";
import { acquireHostLocks } from "../state/cluster_lock.ts";
import {
  claimCluster,
  machineClusters,
  managedElsewhere,
  managedElsewhereError,
  releaseCluster,
} from "../state/owners.ts";
import { acquireLock, describeHolder, isHolderDead, LOCK_FILE, readHolder } from "../state/lock.ts";
import { claimInterrupts } from "../ui/interrupt.ts";
import { progressReporter } from "./progress.ts";
import {
  type ClusterContext,
  type ClusterRunOptions,
  LiveCache,
  newRecord,
} from "../../tasks/context.ts";
import { kubeconfigContext } from "../tools/k3d_names.ts";

/** What to run. */
export interface ClusterRun {
  /** the desired config of the cluster (for delete: the recorded one) */
  k3d: K3dConfig;
  tasks: AnyTask<ClusterContext>[];
  options?: ClusterRunOptions;
  /** after success: keep the record (create) or drop it (delete) @default "keep" */
  onSuccess?: "keep" | "drop";
  /**
   * read-only answers a plan gathered at state `serial`; reused until a step changes the machine,
   * and not at all when another command wrote the state since
   */
  live?: { cache: LiveCache; serial: number };
}

/** Result of a run. */
export interface ClusterRunResult {
  summary: RunSummary;
  record?: ClusterRecord;
  notices: string[];
  state: StateDocument;
}

/** What a command does about a dead holder's run, said when it takes over its lock. */
export type Takeover = "continue" | "rollback" | "converged" | "other";

const TAKEOVER: Record<Takeover, string> = {
  continue:
    "this run carries on from what it left (a failure is rolled back as usual; `firestream rollback` undoes the rest)",
  rollback: "what it left is shown below and undone once confirmed",
  converged:
    "the machine matches the configuration, so its run is closed: its changes are kept and there is nothing to roll back",
  other: "`firestream plan` shows what it left; `firestream rollback` undoes it",
};

/** Calls `fn` with the state lock held; warns (naming the next step) when a dead holder's lock was taken over. */
export async function withStateLock<T>(
  session: Workspace,
  fn: () => Promise<T>,
  takeover: Takeover = "other",
): Promise<T> {
  const lock = await acquireLock(session.stateDir, session.command);
  if (lock.tookOverFrom) {
    session.out.warn(
      `took over the state lock of ${
        describeHolder(lock.tookOverFrom)
      }, which is no longer running; ${TAKEOVER[takeover]}`,
    );
  }
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** The context of a run for one cluster, and how its record reaches the state file. */
export interface ClusterScope {
  ctx: ClusterContext;
  notices: string[];
  /** writes the record into the state when it changed; `final` applies the run's outcome */
  persist: (final?: boolean) => Promise<void>;
  /** after a step changed the machine: earlier reads are stale, the state file follows */
  changed: () => Promise<void>;
  state: () => StateDocument;
  abort: AbortController;
  /** the cluster had a record before this run */
  existed: boolean;
}

/** Builds a cluster's context from the state (call with the lock held). */
export async function openScope(
  session: Workspace,
  run: Pick<ClusterRun, "k3d" | "options" | "onSuccess" | "live"> & { recordExisted?: boolean },
): Promise<ClusterScope> {
  let state = await session.store.read();
  const name = run.k3d.name;
  const inState = name in state.clusters;
  const existed = run.recordExisted ?? inState;
  const record: ClusterRecord = inState
    ? structuredClone(state.clusters[name])
    : newRecord(run.k3d, session.loaded.projectDir, session.loaded.file);
  const notices: string[] = [];
  const abort = new AbortController();
  const ctx: ClusterContext = {
    config: session.loaded.config,
    k3d: run.k3d,
    name,
    kubeContext: kubeconfigContext(name),
    projectDir: record.project_dir ?? session.loaded.projectDir,
    stateDir: session.stateDir,
    state,
    record,
    options: run.options ?? {},
    notice: (m) => {
      notices.push(m);
      session.out.progress(`  ${m}`);
    },
    signal: abort.signal,
    live: run.live && run.live.serial === state.serial ? run.live.cache : new LiveCache(),
  };
  let onDisk = JSON.stringify(state.clusters[name] ?? null);
  // steps record what they changed (agents one by one): the run compares with where it began
  const begun = structuredClone(record.k3d_config);
  const write = async (final: boolean) => {
    const drop = final && run.onSuccess === "drop";
    const next = structuredClone(state);
    if (!drop && (Object.keys(record.resources).length > 0 || existed)) {
      next.clusters[name] = final
        ? appliedRecord(record, run.k3d, { ...session.loaded, begun })
        : record;
    } else delete next.clusters[name];
    const text = JSON.stringify(next.clusters[name] ?? null);
    if (text !== onDisk) {
      state = await session.store.write(next);
      ctx.state = state;
      onDisk = text;
    }
    await mark(next.clusters[name] !== undefined);
  };
  // the machine-wide mark follows the record: made with it, removed with it
  let marked: boolean | undefined;
  const mark = async (kept: boolean) => {
    if (marked === kept || !state.lineage) return;
    if (kept) {
      await claimCluster(name, {
        lineage: state.lineage,
        state_dir: session.stateDir,
        project_dir: ctx.projectDir,
      });
    } else await releaseCluster(name, state.lineage);
    marked = kept;
  };
  // steps finish concurrently; their writes go one after another
  let queue: Promise<void> = Promise.resolve();
  const persist = (final = false) => {
    const next = queue.then(() => write(final));
    queue = next.catch(() => {});
    return next;
  };
  const changed = () => {
    ctx.live.clear();
    return persist(false);
  };
  ctx.checkpoint = changed;
  return { ctx, notices, persist, changed, state: () => state, abort, existed };
}

/** Stops after the current step on the first Ctrl-C (or SIGTERM); a second one exits at once. */
export async function withInterrupts<T>(
  session: Workspace,
  abort: AbortController,
  fn: () => Promise<T>,
): Promise<T> {
  const onSignal = () => {
    if (!abort.signal.aborted) {
      session.out.progress(
        "interrupt: stopping after the current step (press Ctrl-C again to force)",
      );
      abort.abort();
    } else Deno.exit(130);
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  const release = claimInterrupts();
  try {
    return await fn();
  } finally {
    release();
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}

/** Closes the runs a dead process left for `clusters`, their changes now part of a successful or converged state. */
async function closeOpenRuns(
  session: Workspace,
  clusters: string[],
  reason: string,
  except?: string,
): Promise<void> {
  for (const cluster of clusters) {
    for (const run of await openRuns(session.stateDir, cluster)) {
      if (run.run !== except) await closeRun(run, reason);
    }
  }
}

/**
 * A run that found nothing to change: when a dead run left its lock or an unfinished journal for
 * these clusters, takes the lock, closes that journal (the machine matches the configuration, so its
 * changes are part of that state) and removes the lock. Does nothing while a live run holds the lock.
 */
export async function settleConverged(session: Workspace, clusters: string[]): Promise<void> {
  const holder = await readHolder(`${session.stateDir}/${LOCK_FILE}`);
  if (holder && !isHolderDead(holder)) return;
  const open = (await Promise.all(clusters.map((c) => openRuns(session.stateDir, c)))).flat();
  if (!holder && open.length === 0) return;
  await withStateLock(
    session,
    () =>
      closeOpenRuns(
        session,
        clusters,
        `\`${session.command}\` (pid ${Deno.pid}) found the machine matching the configuration`,
      ),
    "converged",
  );
}

/** Runs the tasks for one cluster under the lock with a journal; the state file follows each step. */
export function runCluster(session: Workspace, run: ClusterRun): Promise<ClusterRunResult> {
  return withStateLock(session, async () => {
    const hostLocks = await acquireHostLocks(
      [
        `cluster-${run.k3d.name}`,
        ...(run.k3d.registry.enabled ? [`registry-${run.k3d.registry.name}`] : []),
      ],
      { command: session.command, stateDir: session.stateDir },
    );
    try {
      return await runLocked(session, run);
    } finally {
      await hostLocks.release();
    }
  }, "continue");
}

async function runLocked(session: Workspace, run: ClusterRun): Promise<ClusterRunResult> {
  const scope = await openScope(session, run);
  const { ctx } = scope;
  // another state manages this cluster: nothing here may touch it
  const other = managedElsewhere(await machineClusters(), ctx.name, ctx.state.lineage);
  if (other) throw managedElsewhereError(other, scope.existed);
  const journal = await JournalWriter.open(session.stateDir);
  await journal.append({
    event: "run-start",
    run: journal.run,
    command: session.command,
    cluster: ctx.name,
    tasks: run.tasks.map((t) => t.id),
    config: run.k3d,
    project_dir: ctx.projectDir,
    pid: Deno.pid,
    record_existed: scope.existed,
    on_success: run.onSuccess ?? "keep",
  });
  try {
    const summary = await withInterrupts(session, scope.abort, () =>
      runTasks(run.tasks, ctx, {
        journal,
        signal: scope.abort.signal,
        onEvent: progressReporter(session.out),
        onChange: scope.changed,
      }));
    await scope.persist(true);
    await closeOpenRuns(
      session,
      [ctx.name],
      `run ${journal.run} (\`${session.command}\`) succeeded after it`,
      journal.run,
    );
    return {
      summary,
      record: scope.state().clusters[ctx.name],
      notices: scope.notices,
      state: scope.state(),
    };
  } catch (err) {
    await scope.persist(false).catch(() => {});
    throw err;
  } finally {
    journal.close();
  }
}

/**
 * The record a successful run leaves: the config it applied, with the profile in force and the
 * values flags set for that run. A run without flags that applies the recorded config again
 * (`cluster start`) keeps where the values came from.
 */
function appliedRecord(
  record: ClusterRecord,
  k3d: K3dConfig,
  loaded: Pick<Workspace["loaded"], "file" | "profile" | "overrides"> & {
    /** the recorded config when the run began */
    begun: K3dConfig;
  },
): ClusterRecord {
  const { profile, set_by_flags: kept, ...rest } = record;
  const again = !loaded.overrides && JSON.stringify(loaded.begun) === JSON.stringify(k3d);
  const flags = again ? kept ?? {} : Object.fromEntries(
    (loaded.overrides ?? []).filter((o) => o.path.startsWith("cluster.k3d.")).map((o) => [
      o.path.slice("cluster.k3d.".length),
      typeof o.value === "boolean" ? o.flag : `${o.flag} ${o.value}`,
    ]),
  );
  const inForce = again && !loaded.profile ? profile : loaded.profile;
  return {
    ...rest,
    k3d_config: k3d,
    ...(loaded.file ? { config_file: loaded.file } : {}),
    ...(inForce ? { profile: inForce } : {}),
    ...(Object.keys(flags).length ? { set_by_flags: flags } : {}),
  };
}
