/**
 * The facts of the live view (`firestream ui`), kept fresh at little cost: one round of concurrent
 * reads per refresh, never two at once. Files and the registry's HTTP API are read every round (no
 * process starts); what needs kubectl, k3d or docker is read again only when a watch or a file says
 * it changed, when its figures renew (metrics), or after a long while (the plan).
 */
import { kubeRead } from "../../tasks/reads.ts";
import { clustersRead, type LiveCache } from "../../tasks/context.ts";
import type { Plan, ResourceChange } from "../cluster/plan.ts";
import { listForwards } from "../portforward/control.ts";
import { type ForwardEntry, forwardPaths, readEvents } from "../portforward/files.ts";
import type { ForwardEvent } from "../portforward/files.ts";
import type { ClusterRecord, StateDocument } from "../state/document.ts";
import { type Child, spawnChild } from "../tools/child.ts";
import { exec, firstLine } from "../tools/exec.ts";
import { apiBinding, type K3dCluster, serverRunning } from "../tools/k3d.ts";
import { getJson, kubectlArgv, type KubeObject } from "../tools/kubectl.ts";
import { registryAnswers } from "../tools/registry_health.ts";
import { caTrusted } from "../tls/trust_store.ts";
import { eventRow, nodeRow, parseTop, podRow } from "./diagnostics.ts";
import { logsArgs, type LogTarget, selectPods, targets } from "./logs.ts";

/** What a read gave: its value, or why it failed (shown in its pane), and when. */
export interface Fact<T> {
  value?: T;
  error?: string;
  at?: number;
}

/** A node as the Cluster pane shows it. */
export interface NodeFact {
  name: string;
  role: string;
  running: boolean;
  ready?: string;
  version?: string;
  cpu?: string;
  memory?: string;
}

/** The Cluster pane. */
export interface ClusterFact {
  name: string;
  status: "running" | "stopped" | "degraded" | "missing";
  api?: string;
  k3s: string[];
  nodes: NodeFact[];
}

/** One line of the Host pane: a step's part of the machine, as the plan sees it. */
export interface HostItem {
  name: string;
  /** `ok`: as recorded; `drift`: changed outside; `change`: the config asks for more; `off`: not wanted */
  status: "ok" | "drift" | "change" | "off";
  detail: string;
}

/** The Registry pane. */
export interface RegistryFact {
  url: string;
  healthy: boolean;
  repositories: { name: string; tags: string[] }[];
}

/** The Forwards pane. */
export interface ForwardsFact {
  supervisor?: number;
  entries: (ForwardEntry & { restarts: number })[];
}

/** The Workloads pane. */
export interface WorkloadsFact {
  /** `age` as read; `created` to count it again at each drawing */
  pods: (ReturnType<typeof podRow> & { created?: string })[];
  warnings: ReturnType<typeof eventRow>[];
  namespaces: string[];
}

/** Everything the view shows, as last read. */
export interface LiveFacts {
  plan: Fact<Plan>;
  cluster: Fact<ClusterFact>;
  metrics: Fact<Record<string, { cpu: string; memory: string }>>;
  host: Fact<HostItem[]>;
  registry: Fact<RegistryFact>;
  forwards: Fact<ForwardsFact>;
  workloads: Fact<WorkloadsFact>;
  /** reads of the last round and how long it took */
  round: { number: number; reads: string[]; ms: number; at: number };
}

/** What the live view reads. */
export interface LiveOptions {
  cluster: string;
  context: string;
  projectDir: string;
  stateDir: string;
  /** the same refresh and checks as `firestream plan` */
  plan: () => Promise<{ plan: Plan; live: LiveCache; state: StateDocument }>;
  /** files whose change is a reason to plan again (config, state, hosts, resolv.conf, certificate) */
  files: () => string[];
  /** what the view did, for `.firestream/tui.log` */
  log: (line: string) => void;
}

/** The longest a plan is kept without a file or watch saying something changed. */
export const PLAN_MAX_AGE_MS = 30_000;
/** How often `kubectl top` is asked: metrics-server renews its figures every 15 s in k3s. */
export const METRICS_EVERY_MS = 15_000;
/** The longest the pod list is kept without its watch saying something changed. */
const WORKLOADS_MAX_AGE_MS = 60_000;
/** A watch that ended is started again at most this often. */
const WATCH_RETRY_MS = 10_000;

function message(err: unknown): string {
  return firstLine(err instanceof Error ? err.message : String(err));
}

/** The Host pane's items from a plan and the record: ok or drifted, from the plan's own diffs. */
export function hostItems(
  plan: Plan,
  record: ClusterRecord | undefined,
  trusted: boolean | undefined,
): HostItem[] {
  const k = plan.desired[record?.name ?? ""] ?? record?.k3d_config;
  const change = (id: string): ResourceChange | undefined =>
    plan.changes.find((c) => c.address === `cluster.${record?.name}.${id}`);
  const status = (id: string, wanted: boolean): HostItem["status"] => {
    const c = change(id);
    if (c) return c.cause === "drift" ? "drift" : "change";
    return wanted ? "ok" : "off";
  };
  const why = (id: string, fallback: string) => {
    const c = change(id);
    if (!c) return fallback;
    const keys = c.diffs.map((d) => d.key).join(", ");
    return `${c.note ?? fallback}${keys ? ` (${keys})` : ""}`;
  };
  const r = record?.resources;
  const net = k?.network;
  const items: HostItem[] = [];
  // one `via` for all the CIDRs it carries, the most usual case
  const vias = [...new Set(r?.routes?.map((x) => x.via) ?? [])];
  const routes = r?.routes?.length
    ? vias.map((v) =>
      `${r.routes!.filter((x) => x.via === v).map((x) => x.cidr).join(", ")} via ${v}`
    )
      .join("; ")
    : undefined;
  items.push({
    name: "routes",
    status: status("routes", Boolean(net?.configure_routes)),
    detail: why("routes", routes ?? "none"),
  });
  items.push({
    name: "dns",
    status: status("dns", Boolean(net?.configure_dns)),
    detail: why("dns", r?.dns ? `${r.dns.mode} → ${r.dns.server}` : "none"),
  });
  items.push({
    name: "hosts",
    status: status("hosts", Boolean(net?.patch_etc_hosts)),
    detail: why(
      "hosts",
      r?.hosts_block
        ? `${r.hosts_block.lines.map((l) => l.split("\t")[1]).join(", ")} in ${r.hosts_block.file}`
        : "none",
    ),
  });
  const tls = r?.tls;
  const days = tls ? Math.floor((Date.parse(tls.not_after) - Date.now()) / 86400_000) : 0;
  items.push({
    name: "cert",
    status: status("tls-cert", Boolean(k?.tls.enabled)),
    detail: why(
      "tls-cert",
      tls ? `expires ${tls.not_after.slice(0, 10)} (${days} days)` : "none",
    ),
  });
  items.push({
    name: "secret",
    status: status("tls-secret", Boolean(k?.tls.enabled)),
    detail: why(
      "tls-secret",
      tls ? `${tls.secret.name} in ${tls.secret.namespaces.join(", ")}` : "none",
    ),
  });
  if (tls) {
    items.push({
      name: "CA",
      status: trusted === false ? "change" : trusted ? "ok" : "off",
      detail: trusted === undefined
        ? Deno.build.os === "darwin"
          ? "trust not checked on macOS (`firestream cluster trust`)"
          : `${tls.ca_cert} not readable`
        : trusted
        ? "trusted by the system store"
        : "not trusted: `firestream cluster trust`",
    });
  }
  // the ingress domain: its names in cluster DNS when recorded, else the certificate's name
  const ingress = r?.ingress_dns;
  if (ingress || k?.ingress?.wildcard_dns) {
    items.push({
      name: "ingress",
      status: status("ingress-dns", Boolean(k?.ingress?.wildcard_dns)),
      detail: why(
        "ingress-dns",
        ingress ? `*.${ingress.domain} → ${ingress.addresses.join(", ")}` : "none",
      ),
    });
  } else if (k?.tls.enabled) {
    items.push({ name: "domain", status: "ok", detail: k.tls.certificate.common_name });
  }
  items.push({
    name: "forwards",
    status: status("port-forward", Boolean(k?.dev_mode.port_forward_all)),
    detail: why(
      "port-forward",
      k?.dev_mode.port_forward_all ? "supervisor wanted" : "dev mode off",
    ),
  });
  return items;
}

/** The Node objects the plan read, if its steps asked the API server. */
function plannedNodes(live: LiveCache): KubeObject[] | undefined {
  try {
    return live.now(kubeRead).nodes;
  } catch {
    return undefined;
  }
}

/** The Cluster pane's facts: k3d's list as the plan read it, and the Node objects. */
export function clusterFact(
  name: string,
  found: K3dCluster | undefined,
  kubeNodes: KubeObject[],
): ClusterFact {
  if (!found) return { name, status: "missing", k3s: [], nodes: [] };
  const nodes: NodeFact[] = found.nodes.filter((n) => n.role === "server" || n.role === "agent")
    .sort((a, b) => b.role.localeCompare(a.role) || a.name.localeCompare(b.name))
    .map((n) => {
      const kube = kubeNodes.find((k) => k.metadata.name === n.name);
      const row = kube ? nodeRow(kube) : undefined;
      return {
        name: n.name,
        role: n.role,
        running: n.State.Running,
        ready: row?.status,
        version: row?.version,
      };
    });
  const servers = nodes.filter((n) => n.role === "server");
  const up = nodes.filter((n) => n.running).length;
  const binding = apiBinding(found);
  return {
    name,
    status: !servers.some((n) => n.running)
      ? "stopped"
      : up < nodes.length
      ? "degraded"
      : "running",
    api: binding
      ? `https://${binding.HostIp === "0.0.0.0" ? "127.0.0.1" : binding.HostIp}:${binding.HostPort}`
      : undefined,
    k3s: [...new Set(nodes.map((n) => n.version).filter((v): v is string => Boolean(v)))],
    nodes,
  };
}

async function getJsonFrom(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`${url}: HTTP ${res.status}`);
  }
  return await res.json();
}

/** The registry's health, repositories and tags, from its own API. */
export async function readRegistry(host: string, port: number): Promise<RegistryFact> {
  const url = `http://${host}:${port}`;
  const healthy = await registryAnswers(port);
  if (!healthy) return { url, healthy, repositories: [] };
  const base = `http://127.0.0.1:${port}/v2`;
  const catalog = await getJsonFrom(`${base}/_catalog?n=100`) as { repositories?: string[] };
  const repositories = await Promise.all(
    (catalog.repositories ?? []).slice(0, 50).map(async (name) => {
      try {
        const t = await getJsonFrom(`${base}/${name}/tags/list`) as { tags?: string[] | null };
        return { name, tags: t.tags ?? [] };
      } catch (err) {
        return { name, tags: [`(${message(err)})`] };
      }
    }),
  );
  return { url, healthy, repositories };
}

/**
 * A forward with its restarts since the supervisor started, from the supervisor's events: a process
 * that exited and is started again, or moved to another port. One starting again after such an
 * exit is shown as `restarting` (the supervisor's files say `starting` once it runs kubectl).
 */
export function withRestarts(
  e: ForwardEntry,
  events: ForwardEvent[],
): ForwardEntry & { restarts: number } {
  const mine = events.filter((x) =>
    x.key === `${e.namespace}/${e.service}` || x.key === `${e.namespace}/${e.service}:${e.port}`
  );
  let restarts = 0;
  let down = false;
  for (const x of mine) {
    const again = x.event === "restarting" ||
      (x.event === "exited" && /restarting/.test(x.message ?? ""));
    if (again) restarts++;
    if (again) down = true;
    else if (x.event === "up") down = false;
  }
  const status = e.status === "starting" && down ? "restarting" : e.status;
  return { ...e, status, restarts };
}

/** The live view's reads, run round by round. */
export class LiveModel {
  readonly facts: LiveFacts = {
    plan: {},
    cluster: {},
    metrics: {},
    host: {},
    registry: {},
    forwards: {},
    workloads: {},
    round: { number: 0, reads: [], ms: 0, at: 0 },
  };
  /** `all` or one namespace */
  namespace = "all";
  #o: LiveOptions;
  #dirty = new Set<"plan" | "workloads">(["plan", "workloads"]);
  #fingerprint = "";
  #record?: ClusterRecord;
  #metricsAt = 0;
  #watches = new Map<string, { child?: Child; startedAt: number }>();
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(options: LiveOptions) {
    this.#o = options;
  }

  /** Asks for the plan (and what hangs on it) to be read in the next round. */
  replan(): void {
    this.#dirty.add("plan");
  }

  /** Asks for the pods to be read in the next round (another namespace was chosen). */
  rereadWorkloads(): void {
    this.#dirty.add("workloads");
  }

  /** The cluster's record as the last plan read it. */
  get record(): ClusterRecord | undefined {
    return this.#record;
  }

  /** One round of reads, all at once; a round asked for while one runs waits for it instead. */
  round(): Promise<void> {
    this.#running ??= this.#round().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #round(): Promise<void> {
    const started = performance.now();
    const now = Date.now();
    const f = this.facts;
    const print = await this.#filesPrint();
    if (print !== this.#fingerprint) {
      if (this.#fingerprint) this.#o.log(`files changed: plan again`);
      this.#fingerprint = print;
      this.#dirty.add("plan");
    }
    if (now - (f.plan.at ?? 0) > PLAN_MAX_AGE_MS) this.#dirty.add("plan");
    if (now - (f.workloads.at ?? 0) > WORKLOADS_MAX_AGE_MS) this.#dirty.add("workloads");
    const reads: string[] = ["forwards"];
    const work: Promise<unknown>[] = [this.#readForwards()];
    if (this.#record?.resources.registry) {
      reads.push("registry");
      work.push(this.#readRegistry());
    }
    if (this.#dirty.has("plan")) {
      this.#dirty.delete("plan");
      reads.push("plan");
      work.push(this.#readPlan());
    }
    const running = f.cluster.value?.status === "running" ||
      f.cluster.value?.status === "degraded";
    if (running && this.#dirty.has("workloads")) {
      this.#dirty.delete("workloads");
      reads.push("workloads");
      work.push(this.#readWorkloads());
    }
    if (running && now - this.#metricsAt >= METRICS_EVERY_MS) {
      this.#metricsAt = now;
      reads.push("metrics");
      work.push(this.#readMetrics());
    }
    await Promise.all(work);
    const up = f.cluster.value?.status === "running" || f.cluster.value?.status === "degraded";
    if (up && !running) {
      // the cluster came up during this round: its pods and figures in the next
      this.#dirty.add("workloads");
      this.#metricsAt = 0;
    }
    this.#keepWatches(up);
    f.round = {
      number: f.round.number + 1,
      reads,
      ms: Math.round(performance.now() - started),
      at: Date.now(),
    };
    if (reads.some((r) => r !== "forwards" && r !== "registry")) {
      this.#o.log(`round ${f.round.number}: ${reads.join(", ")} in ${f.round.ms} ms`);
    }
  }

  async #filesPrint(): Promise<string> {
    const parts = await Promise.all(
      this.#o.files().map(async (p) => {
        try {
          const s = await Deno.stat(p);
          return `${p}:${s.ino}:${s.size}:${s.mtime?.getTime()}`;
        } catch {
          return `${p}:-`;
        }
      }),
    );
    return parts.join("|");
  }

  async #readPlan(): Promise<void> {
    const f = this.facts;
    const at = Date.now();
    try {
      const { plan, live, state } = await this.#o.plan();
      this.#record = state.clusters[this.#o.cluster];
      f.plan = { value: plan, at };
      try {
        const found = live.now(clustersRead).find((c: K3dCluster) => c.name === this.#o.cluster);
        const running = serverRunning(found);
        // the plan asks the API server only when a step needs it (TLS secrets): else one call here
        let nodes = plannedNodes(live);
        let error: string | undefined;
        if (!nodes && running) {
          nodes = await getJson(this.#o.context, ["nodes"]).then((r) => r.items, (err) => {
            error = message(err);
            return [];
          });
        }
        f.cluster = { value: clusterFact(this.#o.cluster, found, nodes ?? []), error, at };
      } catch (err) {
        f.cluster = { ...f.cluster, error: message(err), at };
      }
      const tls = this.#record?.resources.tls;
      const trusted = tls ? await caTrusted(tls.ca_cert) : undefined;
      f.host = { value: hostItems(plan, this.#record, trusted), at };
    } catch (err) {
      const e = message(err);
      this.#o.log(`plan failed: ${e}`);
      f.plan = { ...f.plan, error: e, at };
      f.host = { ...f.host, error: e, at };
      if (!f.cluster.value) f.cluster = { error: e, at };
    }
  }

  async #readRegistry(): Promise<void> {
    const reg = this.#record!.resources.registry!;
    try {
      this.facts.registry = { value: await readRegistry(reg.host, reg.port), at: Date.now() };
    } catch (err) {
      this.facts.registry = { ...this.facts.registry, error: message(err), at: Date.now() };
    }
  }

  async #readForwards(): Promise<void> {
    const paths = forwardPaths({
      projectDir: this.#record?.project_dir ?? this.#o.projectDir,
      stateDir: this.#o.stateDir,
      cluster: this.#o.cluster,
    });
    try {
      const { running, entries } = await listForwards(paths);
      const events = running ? await readEvents(paths.events, running.started) : [];
      this.facts.forwards = {
        value: { supervisor: running?.pid, entries: entries.map((e) => withRestarts(e, events)) },
        at: Date.now(),
      };
    } catch (err) {
      this.facts.forwards = { ...this.facts.forwards, error: message(err), at: Date.now() };
    }
  }

  async #readWorkloads(): Promise<void> {
    const scope = this.namespace === "all" ? ["--all-namespaces"] : ["-n", this.namespace];
    try {
      const items = (await getJson(this.#o.context, ["pods,events", ...scope]))
        .items as KubeObject[];
      const pods = items.filter((i) => i.kind === "Pod").map((p) => ({
        ...podRow(p),
        created: p.metadata.creationTimestamp as string | undefined,
      }));
      const warnings = items.filter((i) => i.kind === "Event" && i.type === "Warning").map(eventRow)
        .sort((a, b) => b.time.localeCompare(a.time)).slice(0, 20);
      const known = this.facts.workloads.value?.namespaces ?? [];
      const namespaces = [...new Set([...known, ...pods.map((p) => p.namespace)])].sort();
      this.facts.workloads = { value: { pods, warnings, namespaces }, at: Date.now() };
    } catch (err) {
      this.facts.workloads = { ...this.facts.workloads, error: message(err), at: Date.now() };
    }
  }

  async #readMetrics(): Promise<void> {
    const r = await exec(kubectlArgv(this.#o.context, ["top", "node"]), { check: false });
    const at = Date.now();
    if (r.code !== 0) {
      this.facts.metrics = {
        error: `metrics not available yet (${firstLine(r.stderr).replace(/^error: /, "")})`,
        at,
      };
      return;
    }
    const by: Record<string, { cpu: string; memory: string }> = {};
    for (const row of parseTop(r.stdout)) {
      by[row.name] = {
        cpu: `${row["cpu(cores)"]} ${row["cpu(%)"] ?? ""}`.trim(),
        memory: `${row["memory(bytes)"]} ${row["memory(%)"] ?? ""}`.trim(),
      };
    }
    this.facts.metrics = { value: by, at };
  }

  /** Pods and nodes are watched while the cluster runs: a change is read in the next round. */
  #keepWatches(up: boolean): void {
    const wanted: Record<string, () => void> = {
      pods: () => this.#dirty.add("workloads"),
      nodes: () => this.#dirty.add("plan"),
    };
    for (const [kind, onChange] of Object.entries(wanted)) {
      const w = this.#watches.get(kind);
      if (!up || this.#closed) {
        w?.child?.kill();
        this.#watches.delete(kind);
        continue;
      }
      if (w?.child || (w && Date.now() - w.startedAt < WATCH_RETRY_MS)) continue;
      const entry: { child?: Child; startedAt: number } = { startedAt: Date.now() };
      const child = spawnChild(
        kubectlArgv(this.#o.context, [
          "get",
          kind,
          "--all-namespaces",
          "--watch-only",
          "-o",
          "name",
        ]),
        {
          onLine: (stream) => {
            if (stream === "stdout") onChange();
          },
        },
      );
      entry.child = child;
      this.#watches.set(kind, entry);
      this.#o.log(`watching ${kind} (pid ${child.pid})`);
      child.status.then((st) => {
        if (this.#closed) return;
        this.#o.log(`watch of ${kind} ended (exit ${st.code})`);
        entry.child = undefined;
        onChange();
      });
    }
  }

  /** Ends the watches; the model reads nothing more. */
  async close(): Promise<void> {
    this.#closed = true;
    const children = [...this.#watches.values()].map((w) => w.child).filter((c): c is Child =>
      Boolean(c)
    );
    for (const c of children) c.kill();
    this.#watches.clear();
    await Promise.all(children.map((c) => c.status));
    await this.#running;
  }
}

/** The selected pod's logs, streamed through the same calls as `cluster logs -f`. */
export class LogStream {
  lines: string[] = [];
  target?: LogTarget;
  error?: string;
  ended = false;
  #child?: Child;
  #max: number;
  #onChange: () => void;

  constructor(options: { max?: number; onChange?: () => void } = {}) {
    this.#max = options.max ?? 2000;
    this.#onChange = options.onChange ?? (() => {});
  }

  /** Follows the first container of `namespace/pod`, starting with its last `tail` lines. */
  async open(context: string, namespace: string, pod: string, tail = 200): Promise<void> {
    await this.close();
    this.lines = [];
    this.error = undefined;
    this.ended = false;
    const req = { kind: "pod", name: pod, namespace, follow: true, tail };
    try {
      const [t] = targets(await selectPods(context, req), req);
      if (!t) throw new Error(`pod ${pod} has no container`);
      this.target = t;
      const child = spawnChild(kubectlArgv(context, logsArgs(t, req)), {
        maxLine: 4096,
        onLine: (stream, line) => {
          if (stream === "stderr") this.error = line;
          else this.#push(line);
          this.#onChange();
        },
      });
      this.#child = child;
      child.status.then(() => {
        if (this.#child !== child) return;
        this.ended = true;
        this.#onChange();
      });
    } catch (err) {
      this.target = { namespace, pod, container: "" };
      this.error = message(err);
    }
  }

  #push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.#max) this.lines.splice(0, this.lines.length - this.#max);
  }

  /** Stops the stream. */
  async close(): Promise<void> {
    const c = this.#child;
    this.#child = undefined;
    if (!c) return;
    c.kill();
    await c.status;
  }
}
