/**
 * The port-forward supervisor. It holds every forwarded local port itself and relays each connection
 * (relay.ts) to a `kubectl port-forward pod/NAME` of that service on a private loopback port
 * (children.ts), one kubectl per service for all its ports, all started at once up to a bound. It
 * looks at the services and their ready pods with one call every few seconds (discovery.ts): when
 * the pod behind a forward stops being ready or goes away, it starts a kubectl to another ready pod,
 * sends new connections to it once it answers, and ends the old one once its connections have. A
 * kubectl that exits is restarted at once, backing off when it keeps failing; a service without a
 * ready pod waits, and its connections are held a few seconds. A local port another program holds
 * moves to the next free one and is reported. The files it writes: record.ts.
 */
import { listeningProcess, probePort } from "../host/ports.ts";
import type { Child } from "../tools/child.ts";
import { endChild, type Forwarder, startForwarder, startWatchdog } from "./children.ts";
import { discover, type Discovery, type PodTarget } from "./discovery.ts";
import { type ForwardEntry, type ForwardEvent, readMappings } from "./files.ts";
import { byServicePort, keyOf, type Mapping, mapPorts, nextFreePort } from "./mapping.ts";
import { Recorder } from "./record.ts";
import { listenLocal, type RelayHooks, Route, serveRelay } from "./relay.ts";
import type { SupervisorSpec } from "./spec.ts";
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

interface Port {
  port: number;
  local_port: number;
  listener?: Deno.TcpListener;
}

/** One service: its local ports, and the kubectl its connections go to. */
interface Group {
  key: string;
  namespace: string;
  service: string;
  ports: Port[];
  /** the kubectl new connections go to */
  route: Route;
  /** its ready pods at the last look */
  pods: PodTarget[];
  /** a kubectl starting, to take over once it answers */
  starting?: Forwarder;
  /** kubectl processes that take no new connection and end once theirs have */
  retired: Set<Forwarder>;
  /** pods a kubectl found gone while the cluster still listed them ready, with when (ms) */
  lost: Map<string, number>;
  /** when each listed pod was first seen (ms): the newest is taken, as a rollout's new pods stay */
  seen: Map<string, number>;
  status: ForwardEntry["status"];
  since: string;
  failures: number;
  startedAt: number;
  /** restart timer while backing off */
  timer?: ReturnType<typeof setTimeout>;
  /** ends the current start's hold on its pool slot */
  release?: () => void;
  /** reported as still starting after its deadline */
  slow: boolean;
  checkAt: number;
  queued: boolean;
  stopping: boolean;
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

/** A kubectl that has not answered by then is reported as still starting (and leaves the pool). */
const START_DEADLINE_MS = 15_000;

/**
 * kubectl's words for an API server that does not answer (kubernetes/kubectl v0.32.0
 * pkg/cmd/util/helpers.go:271 "The connection to the server %s was refused - …", `:273` "Unable to
 * connect to the server: …" for other dial errors).
 */
const API_UNREACHABLE =
  /The connection to the server .* was refused|Unable to connect to the server/;

/** A pod found gone while the cluster lists it ready is tried again after this long. */
const LOST_FORGET_MS = 30_000;

/** How often the one deadline timer looks at the forwards that are starting. */
const SWEEP_MS = 1000;

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
  readonly #record: Recorder;
  #active = 0;
  #watchdog?: Child;
  /** ends the wait before the next look at the cluster */
  #lookNow?: () => void;
  /** why the last look at the cluster failed, until one succeeds; reported once while the same */
  #lastFailure?: string;

  /** The last look found the cluster's API server not answering (stopped outside Firestream?). */
  get #unreachable(): boolean {
    return this.#lastFailure !== undefined && API_UNREACHABLE.test(this.#lastFailure);
  }

  constructor(options: SupervisorOptions) {
    this.#o = options;
    this.#poolSize = options.pool ?? POOL_SIZE;
    this.#deadlineMs = options.startDeadlineMs ?? START_DEADLINE_MS;
    this.#record = new Recorder(options.paths, options.owner, options.onEvent);
  }

  /** Current mappings with status: one row per port. */
  entries(): ForwardEntry[] {
    const rows: ForwardEntry[] = [];
    for (const g of this.#groups.values()) {
      const f = g.starting ?? g.route.current;
      for (const p of g.ports) {
        rows.push({
          namespace: g.namespace,
          service: g.service,
          port: p.port,
          local_port: p.local_port,
          pid: f?.child.pid ?? null,
          pod: g.status === "waiting" || g.status === "stopped" ? null : f?.pod ?? null,
          status: g.status,
          since: g.since,
        });
      }
    }
    return rows.sort(byServicePort);
  }

  /** Every kubectl process alive. */
  #children(): number[] {
    const pids: number[] = [];
    for (const g of this.#groups.values()) {
      for (const f of [g.route.current, g.starting, ...g.retired]) {
        if (f && f.exited === undefined && !pids.includes(f.child.pid)) pids.push(f.child.pid);
      }
    }
    return pids;
  }

  #save(): Promise<void> {
    return this.#record.save(() => this.entries(), () => this.#children());
  }

  /** Supervises until aborted, then stops every child. */
  async run(signal: AbortSignal): Promise<void> {
    this.#watchdog = startWatchdog(this.#o.paths.children);
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
        const lookNow = () => done();
        this.#lookNow = lookNow;
        function done() {
          clearTimeout(t);
          signal.removeEventListener("abort", done);
          resolve();
        }
        signal.addEventListener("abort", done, { once: true });
      });
      this.#lookNow = undefined;
      if (!signal.aborted) await this.reconcile();
    }
  }

  #groupEvent(
    g: Group,
    event: ForwardEvent["event"],
    extra: { pid?: number; pod?: string; message?: string } = {},
  ): void {
    this.#record.event({
      event,
      key: g.key,
      local_ports: g.ports.map((p) => p.local_port),
      ...extra,
    });
  }

  #once(key: string, e: Omit<ForwardEvent, "time">): void {
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#record.event(e);
  }

  /** Local ports this supervisor holds or has planned. */
  #ours(except?: Group): Set<number> {
    const ours = new Set<number>();
    for (const g of this.#groups.values()) {
      if (g !== except) { for (const p of g.ports) ours.add(p.local_port); }
    }
    return ours;
  }

  /** Lists services and their pods again (one call) and starts, moves or stops forwards to match. */
  async reconcile(previous?: Mapping[]): Promise<void> {
    let found: Discovery;
    try {
      found = await discover(this.#o.context, {
        namespaces: this.#o.namespaces,
        only: this.#o.only,
      });
    } catch (err) {
      // once per outage and reason: a cluster stopped outside Firestream fails every look the
      // same way until it starts
      const why = (err as Error).message;
      if (why !== this.#lastFailure) {
        this.#record.event({ event: "discovery-failed", message: why });
      }
      this.#lastFailure = why;
      return;
    }
    // back after an outage: kubectl said "lost connection to pod" when the API server went, not
    // when the pod did, so the pods are judged again by what the cluster lists now
    const recovered = this.#unreachable;
    this.#lastFailure = undefined;
    for (const i of found.ignored) {
      this.#once(`ignored:${i.namespace}/${i.service}:${i.reason}`, {
        event: "ignored",
        key: `${i.namespace}/${i.service}`,
        message: i.reason,
      });
    }
    const ours = this.#ours();
    const current: Mapping[] = [...this.#groups.values()].flatMap((g) =>
      g.ports.map((p) => ({
        namespace: g.namespace,
        service: g.service,
        port: p.port,
        local_port: p.local_port,
      }))
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
      await this.#halt(g);
      this.#groups.delete(key);
      this.#record.event({
        event: "removed",
        key,
        local_ports: g.ports.map((p) => p.local_port),
        message: ports ? "its ports changed" : "the service or its ports are gone",
      });
    }
    const claimed = new Set(mappings.map((m) => m.local_port));
    for (const [key, ports] of wanted) {
      let g = this.#groups.get(key);
      if (!g) {
        g = {
          key,
          namespace: ports[0].namespace,
          service: ports[0].service,
          ports: ports.map((m) => ({ port: m.port, local_port: m.local_port })),
          route: new Route(),
          pods: [],
          retired: new Set(),
          lost: new Map(),
          seen: new Map(),
          status: "starting",
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
        this.#bind(g);
      }
      const pods = found.pods.get(key) ?? [];
      if (recovered) g.lost.clear();
      const now = Date.now();
      // a pod found gone is forgotten once the cluster no longer lists it, or after a while: a pod
      // keeps its name when its containers restart (after a node restart, say), so one found gone
      // while it came back is tried again
      for (const [pod, at] of g.lost) {
        if (!pods.some((t) => t.pod === pod) || now - at >= LOST_FORGET_MS) g.lost.delete(pod);
      }
      for (const t of pods) if (!g.seen.has(t.pod)) g.seen.set(t.pod, now);
      for (const pod of g.seen.keys()) if (!pods.some((t) => t.pod === pod)) g.seen.delete(pod);
      // newest first, keeping the cluster's order among pods seen at the same look
      g.pods = pods.filter((t) => !g.lost.has(t.pod))
        .sort((a, b) => g.seen.get(b.pod)! - g.seen.get(a.pod)!);
      this.#steer(g);
    }
    this.#save();
  }

  /**
   * Keeps the kubectl in use while its pod is ready; otherwise starts one for another ready pod
   * (connections keep going to the old one until it answers), or waits when there is none.
   */
  #steer(g: Group): void {
    if (g.stopping) return;
    const ready = (pod: string) => g.pods.some((t) => t.pod === pod);
    const current = g.route.current;
    if (current && ready(current.pod)) {
      if (g.starting) this.#drop(g, g.starting);
      return;
    }
    if (g.starting && ready(g.starting.pod)) return;
    if (g.starting) this.#drop(g, g.starting);
    if (g.pods.length === 0) {
      // nothing to go to: new connections are held for a while, then closed
      if (current) this.#retire(g, current);
      g.route.set(undefined);
      if (g.status !== "waiting") this.#waiting(g);
      return;
    }
    if (g.timer === undefined) this.#enqueue(g);
  }

  /** Reports each new port that did not get port + offset because another program holds it. */
  async #reportBusy(g: Group, claimed: Set<number>, ours: Set<number>): Promise<void> {
    for (const p of g.ports) {
      const want = p.port + this.#o.offset;
      if (p.local_port === want || claimed.has(want) || ours.has(want) || want > 65535) continue;
      if (probePort(want).free) continue;
      const holder = await listeningProcess(want).catch(() => undefined);
      this.#record.event({
        event: "moved",
        key: `${g.key}:${p.port}`,
        local_port: p.local_port,
        message: `127.0.0.1:${want} is in use${
          holder ? ` by ${holder}` : ""
        }; forwarding on ${p.local_port} instead`,
      });
    }
  }

  /** Binds the group's local ports, each moving to the next free one when another program holds it. */
  #bind(g: Group): void {
    const hooks: RelayHooks = {
      idle: (f) => this.#endRetired(g, f),
      failed: () => this.#lookNow?.(),
    };
    for (const p of g.ports) {
      while (!p.listener) {
        try {
          p.listener = listenLocal(p.local_port);
        } catch (err) {
          if (!(err instanceof Deno.errors.AddrInUse)) throw err;
          const ours = this.#ours(g);
          const taken = new Set(g.ports.filter((q) => q !== p).map((q) => q.local_port));
          const next = nextFreePort(
            p.local_port + 1,
            (l) => !ours.has(l) && !taken.has(l) && probePort(l).free,
          );
          if (next === undefined) break;
          this.#record.event({
            event: "moved",
            key: `${g.key}:${p.port}`,
            local_port: next,
            message:
              `127.0.0.1:${p.local_port} is taken by another program; forwarding on ${next} instead`,
          });
          p.local_port = next;
        }
      }
      if (p.listener) serveRelay(p.listener, p.port, g.route, hooks);
    }
  }

  #waiting(g: Group): void {
    g.status = "waiting";
    g.since = isoNow();
    this.#groupEvent(g, "waiting", {
      message: "no ready pod behind it; connections are held a few seconds, then closed",
    });
  }

  #enqueue(g: Group): void {
    if (g.queued || g.starting || g.stopping) return;
    g.queued = true;
    if (!g.route.current && g.status !== "restarting") {
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
   * Starts kubectl for a ready pod of the service; resolves when it answered, exited, or its
   * deadline passed (it keeps starting, outside the pool). Once it answers, new connections go to
   * it and the kubectl it replaces ends after its last connection.
   */
  async #launch(g: Group): Promise<void> {
    const target = g.pods[0];
    if (!target || g.stopping) return;
    const previous = g.route.current;
    g.startedAt = Date.now();
    g.checkAt = g.startedAt + this.#deadlineMs;
    g.slow = false;
    const f = startForwarder(
      this.#o.context,
      g.namespace,
      target.pod,
      g.ports.map((p) => ({ port: p.port, target: target.targets.get(p.port) ?? p.port })),
      (f, code) => this.#exited(g, f, code),
    );
    g.starting = f;
    g.route.starting(true);
    g.status = "starting";
    g.since = isoNow();
    if (previous) {
      this.#groupEvent(g, "switching", {
        pid: f.child.pid,
        pod: target.pod,
        message: `pod ${previous.pod} is no longer ready; moving to pod ${target.pod}`,
      });
    } else this.#groupEvent(g, "started", { pid: f.child.pid, pod: target.pod });
    this.#save();
    const settled = new Promise<void>((r) => g.release = r);
    f.ready.then((answered) => {
      if (answered && g.starting === f) this.#answered(g, f);
      this.#release(g);
    });
    await settled;
  }

  /** The new kubectl answers: new connections go to it, the one it replaces is retired. */
  #answered(g: Group, f: Forwarder): void {
    g.starting = undefined;
    const old = g.route.current;
    g.route.set(f);
    g.route.starting(false);
    if (old && old !== f) this.#retire(g, old);
    g.status = "up";
    g.since = isoNow();
    this.#groupEvent(g, "up", { pid: f.child.pid, pod: f.pod });
    this.#save();
  }

  /** Gives the start's pool slot back (once). */
  #release(g: Group): void {
    const release = g.release;
    g.release = undefined;
    release?.();
  }

  /** No new connection goes to `f`; it ends once its connections have. */
  #retire(g: Group, f: Forwarder): void {
    if (g.route.current === f) g.route.set(undefined);
    f.retired = true;
    g.retired.add(f);
    if (f.conns === 0) this.#endRetired(g, f);
  }

  #endRetired(g: Group, f: Forwarder): void {
    if (!g.retired.has(f)) return;
    endChild(f.child);
  }

  /** Ends a kubectl that was starting for a pod no longer wanted. */
  #drop(g: Group, f: Forwarder): void {
    if (g.starting === f) {
      g.starting = undefined;
      g.route.starting(false);
    }
    this.#release(g);
    f.retired = true;
    g.retired.add(f);
    endChild(f.child);
  }

  /**
   * The one deadline timer: a kubectl starting for longer than its deadline is reported once as
   * still starting, leaves the pool and keeps starting.
   */
  #sweep(): void {
    const t = Date.now();
    for (const g of this.#groups.values()) {
      const f = g.starting;
      if (!f || g.slow || t < g.checkAt) continue;
      g.slow = true;
      const seconds = Math.round((t - g.startedAt) / 1000);
      this.#groupEvent(g, "waiting", {
        pid: f.child.pid,
        pod: f.pod,
        message: `kubectl has not answered within ${seconds}s${
          f.lastError ? ` (${f.lastError})` : ""
        }; still starting (a busy machine or a slow API server), not restarted`,
      });
      this.#release(g);
    }
  }

  #exited(g: Group, f: Forwarder, code: number): void {
    if (g.retired.delete(f)) {
      this.#save();
      return;
    }
    const wasCurrent = g.route.current === f;
    if (!wasCurrent && g.starting !== f) return;
    if (g.starting === f) {
      g.starting = undefined;
      g.route.starting(false);
    }
    if (wasCurrent) g.route.set(undefined);
    if (g.stopping) return;
    if (f.lostPod || /NotFound|not found/.test(f.lastError ?? "")) {
      // the cluster may still list it ready for a moment: another pod, or wait for the next look
      g.lost.set(f.pod, Date.now());
      g.pods = g.pods.filter((t) => t.pod !== f.pod);
      this.#lookNow?.();
    }
    // a pod that went away is no failure of kubectl's: the next one starts at once
    g.failures = f.lostPod || Date.now() - g.startedAt >= HEALTHY_MS ? 1 : g.failures + 1;
    const why = `exit code ${code}${f.lastError ? `: ${f.lastError}` : ""}`;
    if (g.route.current) {
      // the kubectl in use still serves; the next look starts another for the new pod
      this.#groupEvent(g, "exited", { pid: f.child.pid, pod: f.pod, message: why });
      g.status = "up";
      this.#save();
      return;
    }
    if (g.pods.length === 0) {
      this.#groupEvent(g, "exited", {
        pid: f.child.pid,
        pod: f.pod,
        message: `${why}; waiting for a ready pod`,
      });
      g.status = "waiting";
      g.since = isoNow();
      this.#save();
      return;
    }
    if (this.#unreachable) {
      // the cluster does not answer (stopped outside Firestream?): no kubectl is started until a
      // look at it succeeds, which starts this forward again (#steer)
      this.#groupEvent(g, "exited", {
        pid: f.child.pid,
        pod: f.pod,
        message: `${why}; the cluster's API server does not answer: waiting for it`,
      });
      g.status = "waiting";
      g.since = isoNow();
      this.#save();
      return;
    }
    // a kubectl that lost the API server: look at the cluster now rather than at the next poll
    if (API_UNREACHABLE.test(why)) {
      this.#lookNow?.();
    }
    const delay = backoffMs(g.failures);
    this.#groupEvent(g, "exited", {
      pid: f.child.pid,
      pod: f.pod,
      message: `${why}; restarting ${delay ? `in ${delay}ms` : "now"}`,
    });
    g.status = "restarting";
    g.since = isoNow();
    this.#save();
    if (delay === 0) return this.#enqueue(g);
    g.timer = setTimeout(() => {
      g.timer = undefined;
      this.#enqueue(g);
    }, delay);
  }

  /** Closes the group's ports, cancels a pending start and ends its kubectl processes. */
  async #halt(g: Group): Promise<void> {
    g.stopping = true;
    g.queued = false;
    if (g.timer !== undefined) clearTimeout(g.timer);
    g.timer = undefined;
    this.#release(g);
    for (const p of g.ports) {
      try {
        p.listener?.close();
      } catch { /* closed */ }
      p.listener = undefined;
    }
    const all = [g.route.current, g.starting, ...g.retired].filter((f) => f !== undefined);
    g.route.set(undefined);
    g.starting = undefined;
    g.route.starting(false);
    await Promise.all(all.map((f) => endChild(f.child)));
    g.retired.clear();
  }

  /**
   * Stops every child and marks the mappings stopped; a supervisor that no longer owns its files
   * only stops its children.
   */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#groups.values()].map((g) => this.#halt(g)));
    for (const g of this.#groups.values()) g.status = "stopped";
    if (await this.#record.owns()) {
      this.#record.event({ event: "stopped" });
      await this.#save();
      await Deno.remove(this.#o.paths.children).catch(() => {});
    }
    this.#watchdog?.kill("SIGTERM");
  }
}
