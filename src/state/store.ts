/** The state file on disk: validated reads, atomic writes, bounded backups, restore. */
import { FirestreamError } from "../errors.ts";
import { emptyState, STATE_VERSION, type StateDocument } from "./document.ts";
import { stateShapeProblem } from "./shape.ts";
import { type AtomicWriteOptions, readTextIfExists, writeFileAtomic } from "./fs.ts";

/** The state file's name inside the state directory. */
export const STATE_FILE = "state.json";
/** How many previous versions are kept under backups/. */
export const MAX_BACKUPS = 20;

/** A backup on disk. */
export interface BackupInfo {
  serial: number;
  path: string;
  last_modified: string;
  /** the command that wrote that version, when it was recorded */
  command?: string;
  clusters: string[];
}

/** Options for {@link StateStore}. */
export interface StateStoreOptions {
  /** who is writing, recorded as last_modified_by @default "firestream" */
  writer?: string;
  /** the command writing, recorded as last_command */
  command?: string;
  /** test hook passed to the atomic writer */
  beforeRename?: AtomicWriteOptions["beforeRename"];
}

/** Reads and writes `<dir>/state.json`. Callers hold the lock for writes. */
export class StateStore {
  /** the state directory */
  readonly dir: string;
  readonly #options: StateStoreOptions;
  /** the version this store first replaced is backed up; a command's later writes are not */
  #backedUp = false;

  constructor(dir: string, options: StateStoreOptions = {}) {
    this.dir = dir;
    this.#options = options;
  }

  /** Path of the state file. */
  get path(): string {
    return `${this.dir}/${STATE_FILE}`;
  }

  /** Path of the backups directory. */
  get backupDir(): string {
    return `${this.dir}/backups`;
  }

  /** The current document, or a new empty one when none exists. Refuses corrupt or newer files. */
  async read(): Promise<StateDocument> {
    const text = await readTextIfExists(this.path);
    if (text === undefined) return emptyState();
    return this.#parse(text, this.path);
  }

  /** True when a state file exists. */
  async exists(): Promise<boolean> {
    return (await readTextIfExists(this.path)) !== undefined;
  }

  #parse(text: string, path: string): StateDocument {
    let doc: StateDocument;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new FirestreamError(
        `state file ${path} is corrupt (${(err as Error).message}); it was left untouched`,
        { hint: this.#restoreHint() },
      );
    }
    const problem = checkShape(doc);
    if (problem) {
      throw new FirestreamError(
        `state file ${path} is corrupt: ${problem}; it was left untouched`,
        {
          hint: this.#restoreHint(),
        },
      );
    }
    if (doc.version > STATE_VERSION) {
      throw new FirestreamError(
        `state file ${path} has version ${doc.version}, newer than this firestream understands (${STATE_VERSION})`,
        { hint: "upgrade firestream; the file was left untouched" },
      );
    }
    return doc;
  }

  #restoreHint(): string {
    return `see \`firestream state backups\` and restore one with \`firestream state restore SERIAL\` (backups in ${this.backupDir})`;
  }

  /** Writes `doc` as the next serial, keeping the previous file as a backup. Returns the new doc. */
  async write(doc: StateDocument): Promise<StateDocument> {
    await Deno.mkdir(this.dir, { recursive: true });
    const previousText = await readTextIfExists(this.path);
    let previous: StateDocument | undefined;
    if (previousText !== undefined) {
      previous = this.#parse(previousText, this.path);
      if (previous.lineage !== doc.lineage) {
        throw new FirestreamError(
          `state lineage changed on disk (${previous.lineage} ≠ ${doc.lineage}); another state was put in place while this command ran`,
          { hint: "run the command again" },
        );
      }
      if (previous.serial > doc.serial) {
        throw new FirestreamError(
          `state on disk has serial ${previous.serial}, newer than ${doc.serial} read by this command`,
          { hint: "run the command again" },
        );
      }
    }
    const next: StateDocument = {
      ...doc,
      lineage: doc.lineage || crypto.randomUUID(),
      version: STATE_VERSION,
      serial: (previous?.serial ?? doc.serial) + 1,
      last_modified: new Date().toISOString(),
      last_modified_by: this.#options.writer ?? "firestream",
      ...(this.#options.command ? { last_command: this.#options.command } : {}),
    };
    // one backup per command, of the version it started from, as Terraform keeps the state it
    // replaced: a create's steps each write the state, and would otherwise fill every slot
    if (previousText !== undefined && previous && !this.#backedUp) {
      await this.#backup(previous.serial, previousText);
    }
    this.#backedUp = true;
    await writeFileAtomic(this.path, JSON.stringify(next, null, 2) + "\n", {
      beforeRename: this.#options.beforeRename,
    });
    return next;
  }

  async #backup(serial: number, text: string): Promise<void> {
    await Deno.mkdir(this.backupDir, { recursive: true });
    await writeFileAtomic(`${this.backupDir}/state.${pad(serial)}.json`, text);
    const all = await this.backups();
    for (const old of all.slice(0, Math.max(0, all.length - MAX_BACKUPS))) {
      await Deno.remove(old.path).catch(() => {});
    }
  }

  /** Backups, oldest first. */
  async backups(): Promise<BackupInfo[]> {
    const out: BackupInfo[] = [];
    try {
      for await (const entry of Deno.readDir(this.backupDir)) {
        const m = /^state\.(\d+)\.json$/.exec(entry.name);
        if (!m) continue;
        const path = `${this.backupDir}/${entry.name}`;
        let last_modified = "";
        let clusters: string[] = [];
        let command: string | undefined;
        try {
          const doc = JSON.parse(await Deno.readTextFile(path)) as StateDocument;
          last_modified = doc.last_modified;
          command = doc.last_command;
          clusters = Object.keys(doc.clusters ?? {});
        } catch {
          last_modified = "(unreadable)";
        }
        out.push({
          serial: Number(m[1]),
          path,
          last_modified,
          ...(command ? { command } : {}),
          clusters,
        });
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return out.sort((a, b) => a.serial - b.serial);
  }

  /** The document of backup `serial`; refuses an unknown serial, naming those there are. */
  async backup(serial: number): Promise<StateDocument> {
    const all = await this.backups();
    const backup = all.find((b) => b.serial === serial);
    if (!backup) {
      const known = all.map((b) => b.serial).join(", ") || "none";
      throw new FirestreamError(`no backup with serial ${serial} (available: ${known})`);
    }
    return this.#parse(await Deno.readTextFile(backup.path), backup.path);
  }

  /** Puts backup `serial` back in place as a new serial (the current file is backed up first). */
  async restore(serial: number): Promise<StateDocument> {
    const restored = await this.backup(serial);
    const currentText = await readTextIfExists(this.path);
    let serialBase = restored.serial;
    if (currentText !== undefined) {
      let current: StateDocument | undefined;
      try {
        current = JSON.parse(currentText);
      } catch {
        current = undefined;
      }
      const currentSerial = typeof current?.serial === "number" ? current.serial : 0;
      serialBase = Math.max(serialBase, currentSerial);
      await Deno.mkdir(this.backupDir, { recursive: true });
      await writeFileAtomic(
        `${this.backupDir}/state.${pad(currentSerial)}.${current ? "json" : "corrupt"}`,
        currentText,
      );
    }
    const next: StateDocument = {
      ...restored,
      serial: serialBase + 1,
      last_modified: new Date().toISOString(),
      last_modified_by: this.#options.writer ?? "firestream",
      ...(this.#options.command ? { last_command: this.#options.command } : {}),
    };
    await writeFileAtomic(this.path, JSON.stringify(next, null, 2) + "\n");
    return next;
  }
}

function pad(n: number): string {
  return String(n).padStart(6, "0");
}

function checkShape(doc: unknown): string | undefined {
  return stateShapeProblem(doc);
}
