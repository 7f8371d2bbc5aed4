/**
 * The port-forward supervisor: one `kubectl port-forward` per mapping, restarted within a second
 * when it exits (backing off when it keeps failing), services added or removed picked up by polling,
 * every event logged. A watchdog kills the children if the supervisor itself is killed.
 */
import { probePort } from "../cluster/ports.ts";
import { writeFileAtomic } from "../state/fs.ts";
import { type Child, spawnChild } from "../tools/child.ts";
import { discover, type Ignored } from "./discovery.ts";
import type { SupervisorSpec } from "./control.ts";
import { type ForwardEntry, readMappings, writeMappings } from "./files.ts";
import { keyOf, type Mapping, mapPorts } from "./mapping.ts";

/** What to forward, and who hears about it. */
export interface SupervisorOptions extends SupervisorSpec {
  /** an event for the user (foreground mode prints them) */
  onEvent?: (e: ForwardEvent) => void;
  /** called once the first round of forwards has been started */
  onReady?: () => void | Promise<void>;
}

/** Something that happened to a forward. */
export interface ForwardEvent {
  time: string;
  event:
    | "started"
    | "up"
    | "exited"
    | "restarting"
    | "removed"
    | "skipped"
    | "ignored"
    | "discovery-failed"
    | "stopped";
  key?: string;
  local_port?: number;
  pid?: number;
  message?: string;
}

interface Forward extends Mapping {
  child?: Child;
  status: ForwardEntry["status"];
  since: string;
  failures: number;
  startedAt: number;
  timer?: ReturnType<typeof setTimeout>;
  stopping: boolean;
}

/** Restart delay after `failures` quick failures: 100ms, then doubling up to 10s. */
export function backoffMs(failures: number): number {
  return failures <= 1 ? 100 : Math.min(100 * 2 ** (failures - 1), 10_000);
}

/** A forward that lived this long before exiting is restarted as if it had never failed. */
const HEALTHY_MS = 10_000;

// waits for the supervisor to go, then ends every child still listed; positional args only
const WATCHDOG =
  'sup=$1; file=$2; while kill -0 "$sup" 2>/dev/null; do sleep 1; done; if [ -f "$file" ]; then while read -r pid; do [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; done < "$file"; fi';

/** Runs forwards until `signal` aborts. */
export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #forwards = new Map<string, Forward>();
  readonly #reported = new Set<string>();
  #watchdog?: Child;
  #writing: Promise<void> = Promise.resolve();

  constructor(options: SupervisorOptions) {
    this.#o = options;
  }

  /** Current mappings with status. */
  entries(): ForwardEntry[] {
    return [...this.#forwards.values()].map((f) => ({
      namespace: f.namespace,
      service: f.service,
      port: f.port,
      local_port: f.local_port,
      pid: f.child?.pid ?? null,
      status: f.status,
      since: f.since,
    })).sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  }

  /** Supervises until aborted, then stops every child. */
  async run(signal: AbortSignal): Promise<void> {
    this.#watchdog = spawnChild([
      "sh",
      "-c",
      WATCHDOG,
      "sh",
      String(Deno.pid),
      this.#o.paths.children,
    ]);
    const previous = await readMappings(this.#o.paths.mappings);
    await this.reconcile(previous);
    await this.#o.onReady?.();
    while (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.#o.pollMs ?? 2000);
        signal.addEventListener("abort", () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
      if (!signal.aborted) await this.reconcile();
    }
    await this.stopAll();
  }

  #event(e: Omit<ForwardEvent, "time">): void {
    const full = { time: new Date().toISOString(), ...e };
    try {
      Deno.writeTextFileSync(this.#o.paths.events, JSON.stringify(full) + "\n", { append: true });
    } catch { /* the log is best effort */ }
    this.#o.onEvent?.(full);
  }

  /** Lists services again and starts, keeps or stops forwards to match. */
  async reconcile(previous?: Mapping[]): Promise<void> {
    let found: {
      ports: { namespace: string; service: string; port: number }[];
      ignored: Ignored[];
    };
    try {
      found = await discover(this.#o.context, {
        namespaces: this.#o.namespaces,
        only: this.#o.only,
      });
    } catch (err) {
      this.#event({ event: "discovery-failed", message: (err as Error).message });
      return;
    }
    for (const i of found.ignored) {
      const key = `ignored:${i.namespace}/${i.service}:${i.reason}`;
      if (this.#reported.has(key)) continue;
      this.#reported.add(key);
      this.#event({ event: "ignored", key: `${i.namespace}/${i.service}`, message: i.reason });
    }
    const ours = new Set([...this.#forwards.values()].map((f) => f.local_port));
    const { mappings, skipped } = mapPorts(found.ports, {
      offset: this.#o.offset,
      previous: [...(previous ?? []), ...this.#forwards.values()],
      isFree: (p) => ours.has(p) || probePort(p).free,
    });
    for (const s of skipped) {
      const key = `skipped:${keyOf(s)}`;
      if (this.#reported.has(key)) continue;
      this.#reported.add(key);
      this.#event({ event: "skipped", key: keyOf(s), message: s.reason });
    }
    const wanted = new Map(mappings.map((m) => [keyOf(m), m]));
    for (const [key, f] of this.#forwards) {
      const m = wanted.get(key);
      if (m && m.local_port === f.local_port) continue;
      await this.#stop(f);
      this.#forwards.delete(key);
      this.#event({
        event: "removed",
        key,
        local_port: f.local_port,
        message: m ? "local port changed" : "service or port is gone",
      });
    }
    for (const [key, m] of wanted) {
      if (this.#forwards.has(key)) continue;
      const f: Forward = {
        ...m,
        status: "starting",
        since: new Date().toISOString(),
        failures: 0,
        startedAt: 0,
        stopping: false,
      };
      this.#forwards.set(key, f);
      this.#start(f);
    }
    await this.#save();
  }

  #start(f: Forward): void {
    const key = keyOf(f);
    f.startedAt = Date.now();
    f.child = spawnChild([
      "kubectl",
      "--context",
      this.#o.context,
      "-n",
      f.namespace,
      "port-forward",
      `svc/${f.service}`,
      `${f.local_port}:${f.port}`,
      "--address",
      "127.0.0.1",
    ], {
      onLine: (_stream, line) => {
        if (line.startsWith("Forwarding from") && f.status !== "up") {
          f.status = "up";
          f.since = new Date().toISOString();
          this.#event({ event: "up", key, local_port: f.local_port, pid: f.child?.pid });
          this.#save();
        }
      },
    });
    this.#event({ event: "started", key, local_port: f.local_port, pid: f.child.pid });
    const child = f.child;
    child.status.then((status) => {
      if (f.stopping || f.child !== child) return;
      const lived = Date.now() - f.startedAt;
      f.failures = lived >= HEALTHY_MS ? 1 : f.failures + 1;
      const delay = backoffMs(f.failures);
      f.status = "restarting";
      f.since = new Date().toISOString();
      f.child = undefined;
      this.#event({
        event: "exited",
        key,
        local_port: f.local_port,
        pid: child.pid,
        message: `exit code ${status.code}; restarting in ${delay}ms`,
      });
      this.#save();
      f.timer = setTimeout(() => {
        f.timer = undefined;
        if (!f.stopping) this.#start(f);
      }, delay);
    });
    this.#save();
  }

  async #stop(f: Forward): Promise<void> {
    f.stopping = true;
    if (f.timer !== undefined) clearTimeout(f.timer);
    const child = f.child;
    if (!child) return;
    child.kill("SIGTERM");
    const done = await Promise.race([
      child.status.then(() => true),
      new Promise((r) => setTimeout(() => r(false), 2000)),
    ]);
    if (!done) child.kill("SIGKILL");
  }

  /** Stops every child and marks the mappings stopped. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#forwards.values()].map((f) => this.#stop(f)));
    for (const f of this.#forwards.values()) {
      f.status = "stopped";
      f.child = undefined;
    }
    this.#event({ event: "stopped" });
    await this.#save();
    await Deno.remove(this.#o.paths.children).catch(() => {});
    this.#watchdog?.kill("SIGTERM");
  }

  #save(): Promise<void> {
    // one write at a time, always of the latest state
    this.#writing = this.#writing.then(async () => {
      const entries = this.entries();
      await writeMappings(this.#o.paths.mappings, entries);
      const pids = entries.map((e) => e.pid).filter((p): p is number => p !== null);
      await writeFileAtomic(this.#o.paths.children, pids.map((p) => `${p}\n`).join(""));
    }).catch(() => {});
    return this.#writing;
  }
}
