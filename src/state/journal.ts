/** The run journal: one JSON line per step, fsynced before and after every apply. */

/**
 * Outcome of a run. A run ends itself with one of the first five; `abandoned` is written by a later
 * run that found the machine converged (or made it so) while this one was dead: its changes are part
 * of that state now, and nothing of it is left to undo.
 */
export type RunOutcome =
  | "succeeded"
  | "failed"
  | "rolled-back"
  | "rollback-failed"
  | "interrupted"
  | "abandoned";

/** One line of the journal. */
export type JournalEntry =
  | {
    event: "run-start";
    run: string;
    command: string;
    cluster: string;
    tasks: string[];
    /** the effective config the run used, so `rollback` can rebuild its context */
    config: unknown;
    project_dir: string;
    pid: number;
    /** whether the cluster had a state record before the run (a rollback that empties it drops it otherwise) */
    record_existed: boolean;
    /** what a successful run does with the record: keep it (create) or drop it (delete) */
    on_success?: "keep" | "drop";
  }
  | { event: "task-start"; task: string }
  | { event: "task-skip"; task: string; reason: string }
  | {
    event: "task-done";
    task: string;
    undo: unknown;
    /** the step's record slots before it applied (null: absent) */
    before?: Record<string, unknown>;
  }
  | { event: "task-failed"; task: string; error: string }
  | { event: "rollback-start"; reason: string }
  | { event: "rollback-task-start"; task: string }
  | { event: "rollback-task-done"; task: string }
  | { event: "rollback-task-failed"; task: string; error: string }
  | {
    event: "run-end";
    outcome: RunOutcome;
    error?: string;
    /** for `abandoned`: why, and which run (or pid) closed it */
    reason?: string;
  };

/** A journal entry as stored, with its time. */
export type StoredEntry = JournalEntry & { time: string };

/** The journal directory inside the state directory. */
export function journalDir(stateDir: string): string {
  return `${stateDir}/journal`;
}

let opened = 0;

/** Appends entries to one run's journal file, syncing each to disk. */
export class JournalWriter {
  /** the run id (sortable by time) */
  readonly run: string;
  /** path of this run's journal file */
  readonly path: string;
  #file: Deno.FsFile | undefined;

  private constructor(run: string, path: string, file: Deno.FsFile) {
    this.run = run;
    this.path = path;
    this.#file = file;
  }

  /** Opens a new journal file for a new run. */
  static async open(stateDir: string): Promise<JournalWriter> {
    const dir = journalDir(stateDir);
    await Deno.mkdir(dir, { recursive: true });
    // sortable to the millisecond: the newest run is the last name
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(".", "");
    const run = `${stamp}-${String(++opened).padStart(4, "0")}-${Deno.pid}`;
    const path = `${dir}/${run}.jsonl`;
    const file = await Deno.open(path, { append: true, createNew: true });
    await prune(dir);
    return new JournalWriter(run, path, file);
  }

  /** Reopens an existing run's journal to append to it (used by `firestream rollback`). */
  static async reopen(path: string): Promise<JournalWriter> {
    const run = path.slice(path.lastIndexOf("/") + 1).replace(/\.jsonl$/, "");
    const file = await Deno.open(path, { append: true });
    return new JournalWriter(run, path, file);
  }

  /** Appends one entry and waits until it is on disk. */
  async append(entry: JournalEntry): Promise<void> {
    if (!this.#file) throw new Error("journal is closed");
    const line = JSON.stringify({ time: new Date().toISOString(), ...entry }) + "\n";
    const bytes = new TextEncoder().encode(line);
    let written = 0;
    while (written < bytes.length) written += await this.#file.write(bytes.subarray(written));
    await this.#file.sync();
    killPoint(entry);
  }

  /** Closes the file. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}

/**
 * Crash testing: `FIRESTREAM_KILL_AFTER=EVENT[:TASK]` kills this process with SIGKILL right after the
 * matching entry is on disk, the moment a `kill -9` between two journal entries would hit.
 */
const KILL_AFTER = (() => {
  try {
    return Deno.env.get("FIRESTREAM_KILL_AFTER");
  } catch {
    return undefined;
  }
})();

function killPoint(entry: JournalEntry): void {
  if (!KILL_AFTER) return;
  const task = "task" in entry ? entry.task : undefined;
  if (KILL_AFTER === entry.event || KILL_AFTER === `${entry.event}:${task}`) {
    Deno.kill(Deno.pid, "SIGKILL");
  }
}

/** How many run journals are kept; only unfinished runs are ever rolled back. */
export const MAX_JOURNALS = 100;

async function prune(dir: string): Promise<void> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".jsonl")) names.push(e.name);
  names.sort();
  for (const old of names.slice(0, Math.max(0, names.length - MAX_JOURNALS))) {
    await Deno.remove(`${dir}/${old}`).catch(() => {});
  }
}

/** A run read back from its journal. */
export interface RunRecord {
  run: string;
  path: string;
  start?: Extract<JournalEntry, { event: "run-start" }>;
  entries: StoredEntry[];
  /** undefined when the run never wrote its end (crash or kill) */
  outcome?: RunOutcome;
  /** tasks applied and not rolled back, in the order they completed */
  pendingUndo: { task: string; undo: unknown; before?: Record<string, unknown> }[];
  /** tasks that started and never ended (the process died inside them), not yet abandoned */
  interrupted: string[];
}

/** Parses one journal file; a torn last line (crash mid-write) is ignored. */
export function parseJournal(run: string, path: string, text: string): RunRecord {
  const entries: StoredEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line));
    } catch {
      break;
    }
  }
  const record: RunRecord = { run, path, entries, pendingUndo: [], interrupted: [] };
  const open = new Set<string>();
  for (const e of entries) {
    if (e.event === "run-start") record.start = e;
    else if (e.event === "task-start") open.add(e.task);
    else if (e.event === "task-done") {
      open.delete(e.task);
      record.pendingUndo.push({
        task: e.task,
        undo: e.undo,
        ...(e.before ? { before: e.before } : {}),
      });
    } else if (e.event === "task-failed") open.delete(e.task);
    else if (e.event === "rollback-task-done") {
      open.delete(e.task);
      record.pendingUndo = record.pendingUndo.filter((p) => p.task !== e.task);
    } else if (e.event === "run-end") record.outcome = e.outcome;
  }
  record.interrupted = [...open];
  return record;
}

/** True when the run ended by itself or was closed, leaving nothing to undo or finish. */
export function isClosed(run: RunRecord): boolean {
  return run.outcome === "succeeded" || run.outcome === "rolled-back" ||
    run.outcome === "abandoned";
}

/** All runs in the journal directory, oldest first. */
export async function listRuns(stateDir: string): Promise<RunRecord[]> {
  const dir = journalDir(stateDir);
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".jsonl")) names.push(e.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  names.sort();
  const runs: RunRecord[] = [];
  for (const name of names) {
    const path = `${dir}/${name}`;
    runs.push(parseJournal(name.replace(/\.jsonl$/, ""), path, await Deno.readTextFile(path)));
  }
  return runs;
}

/**
 * Runs that left changes behind (failed, interrupted, crashed, or a failed rollback) and are newer
 * than the last successful run of their cluster, newest first: what `rollback` may undo. A run
 * closed as converged (`abandoned`) left nothing.
 */
export async function unfinishedRuns(stateDir: string): Promise<RunRecord[]> {
  const runs = await listRuns(stateDir);
  const settled = new Set<string>();
  const out: RunRecord[] = [];
  for (const run of [...runs].reverse()) {
    const cluster = run.start?.cluster ?? "";
    if (run.outcome === "succeeded") settled.add(cluster);
    if (settled.has(cluster) || isClosed(run)) continue;
    if (
      run.outcome === undefined || run.outcome === "failed" || run.pendingUndo.length > 0 ||
      run.interrupted.length > 0
    ) {
      out.push(run);
    }
  }
  return out;
}

/** Runs of `cluster` that neither ended well nor were closed, newest first. */
export async function openRuns(stateDir: string, cluster: string): Promise<RunRecord[]> {
  return (await listRuns(stateDir)).filter((r) =>
    !isClosed(r) && (r.start?.cluster ?? "") === cluster
  ).reverse();
}

/** The newest run `rollback` would undo, if any. */
export async function lastUnfinishedRun(stateDir: string): Promise<RunRecord | undefined> {
  return (await unfinishedRuns(stateDir))[0];
}

/** Writes the end of a dead run's journal: its changes are part of the state a later run settled. */
export async function closeRun(run: RunRecord, reason: string): Promise<void> {
  const writer = await JournalWriter.reopen(run.path);
  try {
    await writer.append({ event: "run-end", outcome: "abandoned", reason });
  } finally {
    writer.close();
  }
}
