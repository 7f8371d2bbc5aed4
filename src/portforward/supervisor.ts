/**
 * The port-forward supervisor: one `kubectl port-forward svc/NAME L1:P1 L2:P2…` per service,
 * serving all its ports, all started at once up to a bound; a dropped process is restarted (all of
 * that service's ports together) within a second, backing off when it keeps failing. A local port
 * that another program holds (kubectl says "unable to listen", or a bind check finds it taken while
 * kubectl is still starting) is restarted on the next free port and reported. A forward that is
 * merely slow (a busy machine, a slow API server) is not restarted: past its deadline it is
 * reported as still starting and gives up its place in the start pool. Services are followed by polling the
 * cluster with one call; a service without a ready pod waits. A watchdog ends the children if the
 * supervisor is killed. Per forward it keeps one process, one pipe with a small buffer and, only
 * while backing off, one timer; deadlines are checked by one timer for all forwards.
 */
import { listeningProcess, probePort } from "../host/ports.ts";
import { writeFileAtomic } from "../state/fs.ts";
import { type Child, spawnChild } from "../tools/child.ts";
import { kubectlArgv } from "../tools/kubectl.ts";
import { discover, type Discovery } from "./discovery.ts";
import type { SupervisorSpec } from "./control.ts";
import { type ForwardEntry, mappingsText, readMappings, writeMappings } from "./files.ts";
import { byServicePort, keyOf, type Mapping, mapPorts, nextFreePort } from "./mapping.ts";
import { isoNow } from "./time.ts";

/** What to forward, and who hears about it. */
export interface SupervisorOptions extends SupervisorSpec {
  /** an event for the user (foreground mode prints them) */
  onEvent?: (e: ForwardEvent) => void;
  /** called once the first round of forwards has been started */
  onReady?: () => void | Promise<void>;
  /**
   * whether this process still owns the files it shares with the next supervisor (its pid file
   * names it); asked before each write. Once it does not, the supervisor writes nothing more:
   * the mappings and children files may be another supervisor's by then
   */
  owner?: () => Promise<boolean>;
}

/** Something that happened to a forward. */
export interface ForwardEvent {
  time: string;
  event:
    | "started"
    | "up"
    | "exited"
    | "restarting"
    | "moved"
    | "waiting"
    | "removed"
    | "skipped"
    | "ignored"
    | "discovery-failed"
    | "stopped";
  /** "namespace/service", or "namespace/service:port" for one port */
  key?: string;
  local_port?: number;
  /** every local port of the service's process */
  local_ports?: number[];
  pid?: number;
  message?: string;
}

interface Port {
  port: number;
  local_port: number;
  /** kubectl printed "Forwarding from 127.0.0.1:<local_port>" */
  bound: boolean;
  /** kubectl printed "Unable to listen on port <local_port>" */
  refused: boolean;
}

/** One service: one kubectl process for all its ports. */
interface Group {
  key: string;
  namespace: string;
  service: string;
  ports: Port[];
  /** a pod behind the service was ready at the last look */
  ready: boolean;
  status: ForwardEntry["status"];
  since: string;
  failures: number;
  startedAt: number;
  child?: Child;
  /** restart timer while backing off */
  timer?: ReturnType<typeof setTimeout>;
  /** ends the current start's hold on its pool slot */
  release?: () => void;
  /** reported as still starting after its deadline */
  slow: boolean;
  /** the deadline check is looking at its ports */
  checking?: boolean;
  /** when the deadline check looks next (ms): at the deadline, then once a deadline later each time */
  checkAt: number;
  queued: boolean;
  stopping: boolean;
  /** the last line kubectl wrote that was not about forwarding (its errors) */
  lastError?: string;
}

/** Restart delay after `failures` quick failures: none after the first, then 200ms doubling up to 10s. */
export function backoffMs(failures: number): number {
  return failures <= 1 ? 0 : Math.min(100 * 2 ** (failures - 1), 10_000);
}

/**
 * How many forwards may be starting at once. Every forward runs for good once started, so one held
 * back in a queue saves nothing and only answers later: a start mostly waits on the API server, and
 * those waits overlap only when the starts do, while the CPU the starts need is shared out by the
 * system either way. The bound only keeps a very large cluster from starting hundreds of processes
 * in one burst.
 */
export const POOL_SIZE = 256;

/** A forward that lived this long before exiting is restarted as if it had never failed. */
const HEALTHY_MS = 10_000;

/**
 * A forward that has not bound every port by then is checked: a port another program took
 * meanwhile moves to the next free one (restart); otherwise it is reported as still starting.
 */
const START_DEADLINE_MS = 15_000;

/** How often the one deadline timer looks at the forwards that are starting. */
const SWEEP_MS = 1000;

/** The longest partial line kept while waiting for its end. */
const MAX_LINE = 4096;

// waits for the supervisor to go, then ends every child still listed; positional args only
const WATCHDOG =
  'sup=$1; file=$2; while kill -0 "$sup" 2>/dev/null; do sleep 1; done; if [ -f "$file" ]; then while read -r pid; do [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; done < "$file"; fi';

const FORWARDING = /^Forwarding from 127\.0\.0\.1:(\d+) /;
const UNABLE = /^Unable to listen on port (\d+):/;
const HANDLING = /^Handling connection for \d+/;

function sameLayout(g: Group, ports: Mapping[]): boolean {
  return g.ports.length === ports.length &&
    g.ports.every((p, i) => p.port === ports[i].port && p.local_port === ports[i].local_port);
}

/** Runs forwards until `signal` aborts. */
export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #groups = new Map<string, Group>();
  readonly #reported = new Set<string>();
  readonly #queue: Group[] = [];
  readonly #poolSize: number;
  readonly #deadlineMs: number;
  #active = 0;
  #watchdog?: ReturnType<typeof spawnChild>;
  #writing?: Promise<void>;
  #dirty = false;
  /** what the files hold, as last written: a look at the cluster that changes nothing writes nothing */
  #written = { mappings: "", children: "" };

  constructor(options: SupervisorOptions) {
    this.#o = options;
    this.#poolSize = options.pool ?? POOL_SIZE;
    this.#deadlineMs = options.startDeadlineMs ?? START_DEADLINE_MS;
  }

  /** Current mappings with status: one row per port. */
  entries(): ForwardEntry[] {
    const rows: ForwardEntry[] = [];
    for (const g of this.#groups.values()) {
      for (const p of g.ports) {
        rows.push({
          namespace: g.namespace,
          service: g.service,
          port: p.port,
          local_port: p.local_port,
          pid: g.child?.pid ?? null,
          status: g.status,
          since: g.since,
        });
      }
    }
    return rows.sort(byServicePort);
  }

  /** Supervises until aborted, then stops every child. */
  async run(signal: AbortSignal): Promise<void> {
    // silent, so no pipes to hold; unref'd, so it never keeps this process alive
    this.#watchdog = spawnChild([
      "sh",
      "-c",
      WATCHDOG,
      "sh",
      String(Deno.pid),
      this.#o.paths.children,
    ], { detached: true });
    const previous = await readMappings(this.#o.paths.mappings);
    const sweep = setInterval(() => this.#sweep(), Math.min(SWEEP_MS, this.#deadlineMs));
    try {
      await this.reconcile(previous);
      if (!signal.aborted) await this.#o.onReady?.();
      await this.#poll(signal);
    } finally {
      clearInterval(sweep);
      // also when a start or onReady failed: no child outlives its supervisor
      await this.stopAll();
    }
  }

  async #poll(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, this.#o.pollMs ?? 2000);
        function done() {
          clearTimeout(t);
          signal.removeEventListener("abort", done);
          resolve();
        }
        signal.addEventListener("abort", done, { once: true });
      });
      if (!signal.aborted) await this.reconcile();
    }
  }

  #event(e: Omit<ForwardEvent, "time">): void {
    const full = { time: isoNow(), ...e };
    try {
      if (!this.#orphaned) {
        Deno.writeTextFileSync(this.#o.paths.events, JSON.stringify(full) + "\n", { append: true });
      }
    } catch { /* the log is best effort */ }
    this.#o.onEvent?.(full);
  }

  /** An event about a whole service: every local port of its process. */
  #groupEvent(
    g: Group,
    event: ForwardEvent["event"],
    extra: { pid?: number; message?: string } = {},
  ): void {
    this.#event({ event, key: g.key, local_ports: g.ports.map((p) => p.local_port), ...extra });
  }

  #once(key: string, e: Omit<ForwardEvent, "time">): void {
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#event(e);
  }

  /** Local ports this supervisor holds or has planned. */
  #ours(except?: Group): Set<number> {
    const ours = new Set<number>();
    for (const g of this.#groups.values()) {
      if (g !== except) { for (const p of g.ports) ours.add(p.local_port); }
    }
    return ours;
  }

  /** Lists services again (one call) and starts, keeps or stops forwards to match. */
  async reconcile(previous?: Mapping[]): Promise<void> {
    let found: Discovery;
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
      this.#once(`ignored:${i.namespace}/${i.service}:${i.reason}`, {
        event: "ignored",
        key: `${i.namespace}/${i.service}`,
        message: i.reason,
      });
    }
    const ours = this.#ours();
    const current: Mapping[] = [...this.#groups.values()].flatMap((g) =>
      g.ports.map((p) => ({ namespace: g.namespace, service: g.service, ...p }))
    );
    const { mappings, skipped } = mapPorts(found.ports, {
      offset: this.#o.offset,
      previous: [...(previous ?? []), ...current],
      isFree: (p) => ours.has(p) || probePort(p).free,
    });
    for (const s of skipped) {
      this.#once(`skipped:${keyOf(s)}`, { event: "skipped", key: keyOf(s), message: s.reason });
    }
    const wanted = new Map<string, Mapping[]>();
    for (const m of mappings) {
      const key = `${m.namespace}/${m.service}`;
      wanted.set(key, [...(wanted.get(key) ?? []), m]);
    }
    for (const [key, g] of this.#groups) {
      const ports = wanted.get(key);
      if (ports && sameLayout(g, ports)) continue;
      g.stopping = true;
      await this.#halt(g);
      this.#groups.delete(key);
      this.#event({
        event: "removed",
        key,
        local_ports: g.ports.map((p) => p.local_port),
        message: ports ? "its ports changed" : "the service or its ports are gone",
      });
    }
    const claimed = new Set(mappings.map((m) => m.local_port));
    for (const [key, ports] of wanted) {
      const ready = found.ready.has(key);
      let g = this.#groups.get(key);
      if (!g) {
        g = {
          key,
          namespace: ports[0].namespace,
          service: ports[0].service,
          ports: ports.map((m) => ({
            port: m.port,
            local_port: m.local_port,
            bound: false,
            refused: false,
          })),
          ready,
          status: "waiting",
          since: isoNow(),
          failures: 0,
          startedAt: 0,
          checkAt: 0,
          slow: false,
          queued: false,
          stopping: false,
        };
        this.#groups.set(key, g);
        await this.#reportBusy(g, claimed, ours);
        if (ready) this.#enqueue(g);
        else this.#waiting(g);
        continue;
      }
      g.ready = ready;
      if (ready && g.status === "waiting") this.#enqueue(g);
      else if (!ready && g.status !== "up" && g.status !== "waiting") {
        await this.#halt(g);
        this.#waiting(g);
      }
    }
    this.#save();
  }

  /** Reports each new port that did not get port + offset because another program holds it. */
  async #reportBusy(g: Group, claimed: Set<number>, ours: Set<number>): Promise<void> {
    for (const p of g.ports) {
      const want = p.port + this.#o.offset;
      if (p.local_port === want || claimed.has(want) || ours.has(want) || want > 65535) continue;
      if (probePort(want).free) continue;
      const holder = await listeningProcess(want).catch(() => undefined);
      this.#event({
        event: "moved",
        key: `${g.key}:${p.port}`,
        local_port: p.local_port,
        message: `127.0.0.1:${want} is in use${
          holder ? ` by ${holder}` : ""
        }; forwarding on ${p.local_port} instead`,
      });
    }
  }

  #waiting(g: Group): void {
    g.status = "waiting";
    g.since = isoNow();
    this.#groupEvent(g, "waiting", {
      message: "no ready pod behind it yet; forwarding starts when one is ready",
    });
  }

  #enqueue(g: Group): void {
    if (g.queued || g.child || g.stopping) return;
    g.queued = true;
    if (g.status !== "restarting") {
      g.status = "starting";
      g.since = isoNow();
    }
    this.#queue.push(g);
    this.#pump();
  }

  #pump(): void {
    while (this.#active < this.#poolSize && this.#queue.length) {
      const g = this.#queue.shift()!;
      if (!g.queued || g.stopping) continue;
      g.queued = false;
      this.#active++;
      this.#launch(g).finally(() => {
        this.#active--;
        this.#pump();
      });
    }
  }

  /**
   * Starts the service's process; resolves when every port answered, it exited, or its deadline
   * passed (the process keeps starting, outside the pool).
   */
  async #launch(g: Group): Promise<void> {
    g.startedAt = Date.now();
    g.checkAt = g.startedAt + this.#deadlineMs;
    g.status = "starting";
    g.slow = false;
    g.lastError = undefined;
    for (const p of g.ports) p.bound = p.refused = false;
    const settled = new Promise<void>((r) => g.release = r);
    const resolved = () => g.ports.every((p) => p.bound || p.refused);
    // one pipe per forward (both streams), read through a small buffer
    const child: Child = spawnChild(
      kubectlArgv(this.#o.context, [
        "-n",
        g.namespace,
        "port-forward",
        `svc/${g.service}`,
        ...g.ports.map((p) => `${p.local_port}:${p.port}`),
        "--address",
        "127.0.0.1",
      ]),
      {
        mergeStderr: true,
        maxLine: MAX_LINE,
        onLine: (_stream, line) => {
          const unable = UNABLE.exec(line);
          const forwarding = FORWARDING.exec(line);
          const local = Number((unable ?? forwarding)?.[1]);
          const port = g.ports.find((p) => p.local_port === local);
          if (port && unable) port.refused = true;
          else if (port && forwarding) port.bound = true;
          else if (line.trim() && !HANDLING.test(line)) g.lastError = line.trim().slice(0, 300);
          if (g.child === child && g.status === "starting" && resolved()) {
            this.#answered(g, child);
            this.#release(g);
          }
        },
      },
    );
    g.child = child;
    this.#groupEvent(g, "started", { pid: child.pid });
    this.#save();
    child.status.then((status) => {
      if (g.child === child) this.#exited(g, child, status.code);
      this.#release(g);
    });
    await settled;
  }

  /** Gives the start's pool slot back (once). */
  #release(g: Group): void {
    const release = g.release;
    g.release = undefined;
    release?.();
  }

  /**
   * The one deadline timer: a forward starting for longer than its deadline whose port another
   * program has taken meanwhile is restarted on the next free port; one that is merely slow is
   * reported once as still starting, leaves the pool and keeps starting.
   */
  #sweep(): void {
    const t = Date.now();
    for (const g of this.#groups.values()) {
      const child = g.child;
      if (!child || g.status !== "starting" || t < g.checkAt || g.checking) continue;
      g.checking = true;
      // one still starting is looked at again a deadline later, not at every tick: each look binds
      // its ports to test them, and a port taken later still shows when kubectl tries it
      g.checkAt = t + this.#deadlineMs;
      this.#check(g, child, t).finally(() => g.checking = false);
    }
  }

  /**
   * A port that cannot be bound is taken only when the system names another process listening on
   * it: on a busy machine kubectl may have bound it before its "Forwarding from" line was read.
   */
  async #check(g: Group, child: Child, t: number): Promise<void> {
    const taken: Port[] = [];
    for (const p of g.ports) {
      if (p.bound || p.refused || probePort(p.local_port).free) continue;
      const holder = await listeningProcess(p.local_port).catch(() => undefined);
      if (holder && !holder.endsWith(`(pid ${child.pid})`)) taken.push(p);
    }
    if (g.child !== child || g.status !== "starting") return;
    if (taken.length) return this.#clash(g, child, taken);
    if (g.slow) return;
    g.slow = true;
    const seconds = Math.round((t - g.startedAt) / 1000);
    this.#groupEvent(g, "waiting", {
      pid: child.pid,
      message: `kubectl has not answered within ${seconds}s${
        g.lastError ? ` (${g.lastError})` : ""
      }; still starting (a busy machine or a slow API server), not restarted`,
    });
    this.#release(g);
  }

  /** A port taken by another program while kubectl was starting: restart on the next free port. */
  async #clash(g: Group, child: Child, taken: Port[]): Promise<void> {
    g.child = undefined;
    this.#release(g);
    await this.#end(child);
    if (g.stopping) return;
    this.#move(g, taken, "was taken by another program while kubectl was starting");
    g.failures++;
    this.#groupEvent(g, "restarting", {
      pid: child.pid,
      message: "restarting on the next free port",
    });
    this.#restartLater(g, 0);
  }

  /** Every port either bound or refused: up, or restarted with the refused ones moved. */
  #answered(g: Group, child: Child): void {
    const refused = g.ports.filter((p) => p.refused);
    if (refused.length === 0) {
      g.status = "up";
      g.since = isoNow();
      this.#groupEvent(g, "up", {
        pid: child.pid,
      });
      this.#save();
      return;
    }
    g.child = undefined;
    child.kill("SIGTERM");
    child.status.then(() => {
      this.#move(g, refused, "is taken by another program");
      this.#restartLater(g, 0);
    });
  }

  /** Gives each port the next free local port at or after its own and reports the moves. */
  #move(g: Group, ports: Port[], why: string): void {
    const ours = this.#ours(g);
    const taken = new Set(g.ports.filter((p) => !ports.includes(p)).map((p) => p.local_port));
    for (const p of ports) {
      const from = p.local_port;
      const next = nextFreePort(
        from,
        (l) => !ours.has(l) && !taken.has(l) && probePort(l).free,
      );
      if (next === undefined) continue;
      taken.add(next);
      if (next === from) continue;
      p.local_port = next;
      this.#event({
        event: "moved",
        key: `${g.key}:${p.port}`,
        local_port: next,
        message: `127.0.0.1:${from} ${why}; forwarding on ${next} instead`,
      });
    }
  }

  #exited(g: Group, child: Child, code: number): void {
    g.child = undefined;
    if (g.stopping) return;
    const refused = g.ports.filter((p) => p.refused);
    if (g.status === "starting" && refused.length === g.ports.length) {
      // "unable to listen on any of the requested ports": every local port is taken
      this.#move(g, refused, "is taken by another program");
      g.failures++;
      this.#restartLater(g, 0);
      return;
    }
    g.failures = Date.now() - g.startedAt >= HEALTHY_MS ? 1 : g.failures + 1;
    const why = `exit code ${code}${g.lastError ? `: ${g.lastError}` : ""}`;
    if (!g.ready) {
      this.#groupEvent(g, "exited", {
        pid: child.pid,
        message: `${why}; waiting for a ready pod`,
      });
      g.status = "waiting";
      g.since = isoNow();
      this.#save();
      return;
    }
    const delay = backoffMs(g.failures);
    this.#groupEvent(g, "exited", {
      pid: child.pid,
      message: `${why}; restarting ${delay ? `in ${delay}ms` : "now"}`,
    });
    this.#restartLater(g, delay);
  }

  #restartLater(g: Group, delay: number): void {
    if (g.stopping) return;
    g.status = "restarting";
    g.since = isoNow();
    this.#save();
    if (delay === 0) return this.#enqueue(g);
    g.timer = setTimeout(() => {
      g.timer = undefined;
      this.#enqueue(g);
    }, delay);
  }

  /** SIGTERM, then SIGKILL after 2s; resolves when the process is gone. */
  async #end(child: Child): Promise<void> {
    child.kill("SIGTERM");
    let t: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      child.status.then(() => true),
      new Promise<boolean>((r) => t = setTimeout(() => r(false), 2000)),
    ]);
    clearTimeout(t);
    if (!done) {
      child.kill("SIGKILL");
      await child.status;
    }
  }

  /** Cancels a queued start or a pending restart and ends the process, if any. */
  async #halt(g: Group): Promise<void> {
    g.queued = false;
    if (g.timer !== undefined) clearTimeout(g.timer);
    g.timer = undefined;
    const child = g.child;
    g.child = undefined;
    if (child) await this.#end(child);
  }

  /**
   * Stops every child and marks the mappings stopped; a supervisor that no longer owns its files
   * only stops its children.
   */
  async stopAll(): Promise<void> {
    for (const g of this.#groups.values()) g.stopping = true;
    await Promise.all([...this.#groups.values()].map((g) => this.#halt(g)));
    for (const g of this.#groups.values()) g.status = "stopped";
    if (await this.#owns()) {
      this.#event({ event: "stopped" });
      await this.#save();
      await Deno.remove(this.#o.paths.children).catch(() => {});
    }
    this.#watchdog?.kill("SIGTERM");
  }

  /** Set once the pid file no longer names this process: nothing is written after. */
  #orphaned = false;

  async #owns(): Promise<boolean> {
    if (this.#orphaned) return false;
    if (this.#o.owner && !(await this.#o.owner())) this.#orphaned = true;
    return !this.#orphaned;
  }

  /**
   * Writes the mappings and the children's pids, each only when it changed; calls made meanwhile
   * share the next write.
   */
  #save(): Promise<void> {
    this.#dirty = true;
    this.#writing ??= (async () => {
      // suspends before anything else, so `#writing` is set before the loop clears it, even when
      // there is nothing to write
      await Promise.resolve();
      while (this.#dirty) {
        this.#dirty = false;
        try {
          const entries = this.entries();
          const mappings = mappingsText(entries);
          const pids = [...new Set(entries.map((e) => e.pid))].filter((p) => p !== null);
          const children = pids.map((p) => `${p}\n`).join("");
          const changed = mappings !== this.#written.mappings ||
            children !== this.#written.children;
          if (!changed || !(await this.#owns())) continue;
          if (mappings !== this.#written.mappings) {
            await writeMappings(this.#o.paths.mappings, entries, mappings);
            this.#written.mappings = mappings;
          }
          if (children !== this.#written.children) {
            await writeFileAtomic(this.#o.paths.children, children);
            this.#written.children = children;
          }
        } catch { /* retried with the next change */ }
      }
      this.#writing = undefined;
    })();
    return this.#writing;
  }
}
