/**
 * The files a running supervisor writes: its events log (one JSON line per event), the mappings
 * file and the pids of its children, each rewritten only when it changed, and nothing at all once
 * its pid file names another process (the files may be another supervisor's by then).
 */
import { writeFileAtomic } from "../state/fs.ts";
import {
  type ForwardEntry,
  type ForwardEvent,
  type ForwardPaths,
  mappingsText,
  writeMappings,
} from "./files.ts";
import { isoNow } from "./time.ts";

/** Writes a supervisor's files. */
export class Recorder {
  readonly #paths: ForwardPaths;
  readonly #owner?: () => Promise<boolean>;
  readonly #onEvent?: (e: ForwardEvent) => void;
  #writing?: Promise<void>;
  #dirty = false;
  /** what the files hold, as last written: a look at the cluster that changes nothing writes nothing */
  #written = { mappings: "", children: "" };
  /** set once the pid file no longer names this process: nothing is written after */
  #orphaned = false;

  constructor(
    paths: ForwardPaths,
    owner?: () => Promise<boolean>,
    onEvent?: (e: ForwardEvent) => void,
  ) {
    this.#paths = paths;
    this.#owner = owner;
    this.#onEvent = onEvent;
  }

  /** Appends an event to the log and tells the listener. */
  event(e: Omit<ForwardEvent, "time">): void {
    const full = { time: isoNow(), ...e };
    try {
      if (!this.#orphaned) {
        Deno.writeTextFileSync(this.#paths.events, JSON.stringify(full) + "\n", { append: true });
      }
    } catch { /* the log is best effort */ }
    this.#onEvent?.(full);
  }

  /** Whether this process still owns the files (asked of the pid file each time until it does not). */
  async owns(): Promise<boolean> {
    if (this.#orphaned) return false;
    if (this.#owner && !(await this.#owner())) this.#orphaned = true;
    return !this.#orphaned;
  }

  /**
   * Writes the mappings (`entries()`) and the children's pids, each only when it changed; calls
   * made meanwhile share the next write.
   */
  save(entries: () => ForwardEntry[], children: () => number[]): Promise<void> {
    this.#dirty = true;
    this.#writing ??= (async () => {
      // suspends before anything else, so `#writing` is set before the loop clears it, even when
      // there is nothing to write
      await Promise.resolve();
      while (this.#dirty) {
        this.#dirty = false;
        try {
          const rows = entries();
          const mappings = mappingsText(rows);
          const pids = children().map((p) => `${p}\n`).join("");
          const changed = mappings !== this.#written.mappings || pids !== this.#written.children;
          if (!changed || !(await this.owns())) continue;
          if (mappings !== this.#written.mappings) {
            await writeMappings(this.#paths.mappings, rows, mappings);
            this.#written.mappings = mappings;
          }
          if (pids !== this.#written.children) {
            await writeFileAtomic(this.#paths.children, pids);
            this.#written.children = pids;
          }
        } catch { /* retried with the next change */ }
      }
      this.#writing = undefined;
    })();
    return this.#writing;
  }
}
