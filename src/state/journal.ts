/** The run journal: one JSON line per step, fsynced before and after every apply. */

/** Outcome of a run. */
export type RunOutcome =
  | "succeeded"
  | "failed"
  | "rolled-back"
  | "rollback-failed"
  | "interrupted";

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
  }
  | { event: "task-start"; task: string }
  | { event: "task-skip"; task: string; reason: string }
  | { event: "task-done"; task: string; undo: unknown }
  | { event: "task-failed"; task: string; error: string }
  | { event: "rollback-start"; reason: string }
  | { event: "rollback-task-start"; task: string }
  | { event: "rollback-task-done"; task: string }
  | { event: "rollback-task-failed"; task: string; error: string }
  | { event: "run-end"; outcome: RunOutcome; error?: string };

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
  }

  /** Closes the file. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}

/** How many run journals are kept; only the newest run is ever rolled back. */
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
  pendingUndo: { task: string; undo: unknown }[];
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
  const record: RunRecord = { run, path, entries, pendingUndo: [] };
  for (const e of entries) {
    if (e.event === "run-start") record.start = e;
    else if (e.event === "task-done") record.pendingUndo.push({ task: e.task, undo: e.undo });
    else if (e.event === "rollback-task-done") {
      record.pendingUndo = record.pendingUndo.filter((p) => p.task !== e.task);
    } else if (e.event === "run-end") record.outcome = e.outcome;
  }
  return record;
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

/** The newest run that left changes behind (failed, interrupted, crashed, or a failed rollback). */
export async function lastUnfinishedRun(stateDir: string): Promise<RunRecord | undefined> {
  const runs = await listRuns(stateDir);
  const last = runs.at(-1);
  if (!last) return undefined;
  if (last.outcome === "succeeded" || last.outcome === "rolled-back") return undefined;
  return last.pendingUndo.length > 0 || last.outcome === undefined ? last : undefined;
}
