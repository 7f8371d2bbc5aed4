/** Refresh and diff: compares the desired config with what state recorded and what is live. */
import type { Workspace } from "./workspace.ts";
import type { K3dConfig } from "../config/schema.ts";
import { checkTasks } from "../engine/runner.ts";
import type { AnyTask } from "../engine/task.ts";
import { FirestreamError } from "../errors.ts";
import type { ClusterRecord, StateDocument } from "../state/document.ts";
import { inspectContainer } from "../tools/docker.ts";
import {
  apiBinding,
  type K3dCluster,
  lbBinding,
  listClusters,
  registryContainer,
} from "../tools/k3d.ts";
import { type ClusterContext, LiveCache, newRecord } from "./context.ts";
import { kubeconfigContext } from "../tools/k3d_names.ts";

/** What will happen to one resource. */
export type Action = "create" | "update" | "replace" | "delete" | "no-op";

/** One differing key. */
export interface KeyDiff {
  key: string;
  from?: unknown;
  to?: unknown;
  /** the live value differs from the recorded one (someone changed the machine) */
  drift?: boolean;
  forces_replacement?: boolean;
}

/** A planned change to one resource. */
export interface ResourceChange {
  /** e.g. `cluster.firestream-local`, `cluster.firestream-local.registry` */
  address: string;
  cluster: string;
  action: Action;
  /** why: the config changed, or the machine drifted from the recorded state */
  cause?: "config" | "drift";
  destructive: boolean;
  diffs: KeyDiff[];
  note?: string;
}

/** A saved or printed plan. */
export interface Plan {
  format: "firestream-plan";
  version: 1;
  created_at: string;
  config: { file: string | null; sha256: string };
  state: { lineage: string; serial: number };
  /** desired config per cluster the plan touches (absent for deletions) */
  desired: Record<string, K3dConfig | null>;
  changes: ResourceChange[];
  summary: { create: number; update: number; replace: number; delete: number };
}

/** Keys whose change needs a new cluster (k3d cannot change them in place). */
export const REPLACE_KEYS: Record<string, string> = {
  servers: "k3d cannot add or remove server nodes of a running cluster",
  k3s_version: "the node image is fixed when the cluster is created",
  api_port: "the API port is published when the cluster is created",
  http_port: "k3d can add a load-balancer port but not remove one (no --port-delete)",
  https_port: "k3d can add a load-balancer port but not remove one (no --port-delete)",
  "network.pod_cidr": "the pod network is fixed when the cluster is created",
  "network.service_cidr": "the service network is fixed when the cluster is created",
  "registry.name":
    "nodes keep the registry address in their mirror config (registries.yaml), written at cluster create",
  "registry.port":
    "nodes keep the registry address in their mirror config (registries.yaml), written at cluster create",
};

/** A registry turned on needs the mirror config too; turned off, the cluster can stay. */
function forcesReplacement(key: string, to: unknown): boolean {
  return key in REPLACE_KEYS || (key === "registry.enabled" && to === true);
}

/** SHA-256 of text, hex. */
export async function sha256(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Flattened leaf keys of a config table ("registry.port" → 5000). */
export function flatten(obj: unknown, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v)) Object.assign(out, flatten(v, key));
    else out[key] = v;
  }
  return out;
}

/** Options for {@link makePlan}. */
export interface PlanOptions {
  /** plan only the config's cluster (cluster create): clusters removed from the config are left alone */
  onlyConfigCluster?: boolean;
  /** the tasks whose checks decide the remaining steps */
  tasks: AnyTask<ClusterContext>[];
  /** where read-only answers are kept, so the run that follows can reuse them */
  live?: LiveCache;
}

/** Builds the plan for this session's config. Read-only. */
export async function makePlan(session: Workspace, options: PlanOptions): Promise<Plan> {
  const state = await session.store.read();
  const k3d = session.loaded.config.cluster.k3d;
  const live = options.live ?? new LiveCache();
  const clusters = await live.get("k3d:clusters", listClusters);
  const changes: ResourceChange[] = [];
  const desired: Record<string, K3dConfig | null> = { [k3d.name]: k3d };

  changes.push(...await planCluster(session, state, k3d, clusters, live, options.tasks));

  if (!options.onlyConfigCluster) {
    const file = session.loaded.file ?? null;
    for (const rec of Object.values(state.clusters)) {
      if (rec.name === k3d.name || rec.config_file !== file || file === null) continue;
      desired[rec.name] = null;
      changes.push({
        address: `cluster.${rec.name}`,
        cluster: rec.name,
        action: "delete",
        cause: "config",
        destructive: true,
        diffs: [],
        note: "no longer in the config (removed or renamed)",
      });
    }
  }
  const count = (a: Action) => changes.filter((c) => c.action === a).length;
  return {
    format: "firestream-plan",
    version: 1,
    created_at: new Date().toISOString(),
    config: { file: session.loaded.file ?? null, sha256: await sha256(session.loaded.text) },
    state: { lineage: state.lineage, serial: state.serial },
    desired,
    changes,
    summary: {
      create: count("create"),
      update: count("update"),
      replace: count("replace"),
      delete: count("delete"),
    },
  };
}

async function planCluster(
  session: Workspace,
  state: StateDocument,
  k3d: K3dConfig,
  clusters: K3dCluster[],
  live: LiveCache,
  tasks: AnyTask<ClusterContext>[],
): Promise<ResourceChange[]> {
  const name = k3d.name;
  const record = state.clusters[name];
  const found = clusters.find((c) => c.name === name);
  const address = `cluster.${name}`;
  const out: ResourceChange[] = [];
  if (!record && found) {
    throw new FirestreamError(
      `k3d cluster ${name} already exists but firestream does not manage it`,
      {
        hint: `run \`firestream import cluster ${name}\` to manage it, or choose another name`,
      },
    );
  }
  const desiredKeys = flatten(k3d);
  if (!record || !found) {
    out.push({
      address,
      cluster: name,
      action: "create",
      cause: record ? "drift" : "config",
      destructive: false,
      diffs: Object.entries(desiredKeys).map(([key, to]) => ({ key, to })),
      note: record ? "recorded in state but missing from k3d" : undefined,
    });
  } else {
    out.push(diffCluster(record, found, k3d));
  }
  out.push(await planRegistry(record, k3d, live));
  if (found && record?.resources.stale_nodes?.length) {
    out.push({
      address: `${address}.agents`,
      cluster: name,
      action: "update",
      cause: "drift",
      destructive: false,
      diffs: [],
      note: `Node objects of removed agents to delete: ${record.resources.stale_nodes.join(", ")}`,
    });
  }

  // the remaining steps (certificates, host network, forwards): their own checks say what would change
  const skip = new Set(["preflight", "registry", "cluster", "agents", "ready"]);
  const rest = tasks.filter((t) => !skip.has(t.id));
  if (rest.length && out[0].action !== "create" && out[0].action !== "replace") {
    const ctx: ClusterContext = {
      config: session.loaded.config,
      k3d,
      name,
      kubeContext: kubeconfigContext(name),
      projectDir: session.loaded.projectDir,
      stateDir: session.stateDir,
      state,
      record: structuredClone(record ?? newRecord(k3d, session.loaded.projectDir)),
      options: {},
      notice: () => {},
      live,
    };
    // a stopped cluster answers no kubectl: the steps after `ready` wait for it to start
    const ready = tasks.find((t) => t.id === "ready");
    const starts = found?.nodes.some((n) => !n.State.Running && n.role !== "registry");
    const checked = starts && ready
      ? [{ ...ready, check: () => Promise.resolve(false) }, ...rest]
      : rest;
    for (const r of await checkTasks(checked, ctx)) {
      if (r.id === "ready" || (r.status !== "would-apply" && r.status !== "pending")) continue;
      const drift = ctx.drift?.[r.id] ?? [];
      out.push({
        address: `${address}.${r.id}`,
        cluster: name,
        action: "update",
        cause: drift.length ? "drift" : "config",
        destructive: false,
        diffs: drift.map((d) => ({ ...d, drift: true })),
        note: r.title,
      });
    }
  }
  return out.filter((c) => c.action !== "no-op" || c.address === address);
}

/** Config vs recorded vs live for the cluster itself. */
export function diffCluster(
  record: ClusterRecord,
  live: K3dCluster,
  k3d: K3dConfig,
): ResourceChange {
  const recorded = flatten(record.k3d_config);
  const desired = flatten(k3d);
  const diffs: KeyDiff[] = [];
  const liveServers = live.nodes.filter((n) => n.role === "server").length;
  const liveAgents = live.nodes.filter((n) => n.role === "agent").length;
  // k3d keeps the API port on the server nodes and the load balancer, never on the cluster
  const liveApi = Number(apiBinding(live)?.HostPort ?? record.k3d_config.api_port);
  const liveValues: Record<string, unknown> = {
    servers: liveServers,
    agents: liveAgents,
    api_port: liveApi,
  };
  // an imported cluster's unpublished port is no difference while the config keeps the recorded value
  const unpublished = new Set<string>(record.unpublished_ports ?? []);
  const lb = live.nodes.some((n) => n.role === "loadbalancer");
  for (const [key, port] of [["http_port", "80"], ["https_port", "443"]] as const) {
    if (!unpublished.has(key) || !lb) continue;
    const b = lbBinding(live, port);
    liveValues[key] = b ? Number(b.HostPort) : null;
    if (!b && desired[key] === recorded[key]) liveValues[key] = desired[key];
  }
  for (
    const key of [
      "servers",
      "agents",
      "api_port",
      "http_port",
      "https_port",
      "k3s_version",
      "network.pod_cidr",
      "network.service_cidr",
    ]
  ) {
    const from = key in liveValues ? liveValues[key] : recorded[key];
    const to = desired[key];
    if (JSON.stringify(from) === JSON.stringify(to)) continue;
    const drift = key in liveValues && !unpublished.has(key) &&
      JSON.stringify(liveValues[key]) !== JSON.stringify(recorded[key]);
    diffs.push({ key, from, to, drift, forces_replacement: key in REPLACE_KEYS });
  }
  // the rest of the config: what the record says against what is wanted (the steps' checks act on it)
  for (const [key, to] of Object.entries(desired)) {
    if (diffs.some((d) => d.key === key)) continue;
    if (JSON.stringify(recorded[key]) !== JSON.stringify(to)) {
      const forces = forcesReplacement(key, to);
      diffs.push({ key, from: recorded[key], to, ...(forces ? { forces_replacement: true } : {}) });
    }
  }
  if (!record.resources.cluster) {
    diffs.push({ key: "state", from: "cluster not recorded", to: "recorded", drift: true });
  }
  const stopped = live.nodes.filter((n) => !n.State.Running && n.role !== "registry").map((n) =>
    n.name
  );
  const replace = diffs.some((d) => d.forces_replacement);
  const action: Action = replace ? "replace" : diffs.length || stopped.length ? "update" : "no-op";
  const note = replace
    ? diffs.filter((d) => d.forces_replacement).map((d) =>
      `${d.key}: ${REPLACE_KEYS[d.key] ?? "the nodes' mirror config must name the registry"}`
    ).join("; ")
    : stopped.length
    ? `stopped nodes will be started: ${stopped.join(", ")}`
    : undefined;
  return {
    address: `cluster.${record.name}`,
    cluster: record.name,
    action,
    cause: diffs.some((d) => d.drift) || (stopped.length && !diffs.length) ? "drift" : "config",
    destructive: replace,
    diffs,
    note,
  };
}

async function planRegistry(
  record: ClusterRecord | undefined,
  k3d: K3dConfig,
  live: LiveCache,
): Promise<ResourceChange> {
  const address = `cluster.${k3d.name}.registry`;
  const rec = record?.resources.registry;
  const want = k3d.registry;
  const base = { address, cluster: k3d.name, destructive: false } as const;
  if (!want.enabled) {
    if (rec?.created) {
      return {
        ...base,
        action: "delete",
        cause: "config",
        diffs: [{ key: "registry.enabled", from: true, to: false }],
        note: `${rec.container} (if no other cluster uses it)`,
      };
    }
    return { ...base, action: "no-op", diffs: [] };
  }
  const container = registryContainer(want.name);
  const info = await live.get(`docker:inspect:${container}`, () => inspectContainer(container));
  const diffs: KeyDiff[] = [];
  if (rec && rec.container !== container) {
    diffs.push({ key: "registry.name", from: rec.name, to: want.name });
  }
  if (rec && rec.port !== want.port) {
    diffs.push({ key: "registry.port", from: rec.port, to: want.port });
  }
  if (!info) {
    return {
      ...base,
      action: "create",
      cause: rec?.container === container ? "drift" : "config",
      diffs: diffs.length
        ? diffs
        : [{ key: "registry", to: `${container} on 127.0.0.1:${want.port}` }],
    };
  }
  const running = info.State.Running;
  const port = Number(info.HostConfig.PortBindings?.["5000/tcp"]?.[0]?.HostPort);
  if (port !== want.port) {
    diffs.push({ key: "registry.port", from: port, to: want.port, drift: rec?.port === want.port });
  }
  if (!running) diffs.push({ key: "registry.running", from: false, to: true, drift: true });
  if (!diffs.length) return { ...base, action: "no-op", diffs: [] };
  return {
    ...base,
    action: "replace",
    cause: diffs.some((d) => d.drift) ? "drift" : "config",
    diffs,
    note: "the registry is recreated; push images again",
  };
}

/** True when the plan changes anything. */
export function hasChanges(plan: Plan): boolean {
  return plan.changes.some((c) => c.action !== "no-op");
}

/** Terraform-style text of a plan. */
export function renderPlan(
  plan: Plan,
  paint: (color: "green" | "yellow" | "red" | "cyan" | "bold" | "gray", s: string) => string,
): string {
  const lines: string[] = [];
  const symbol: Record<Action, string> = {
    create: "+",
    update: "~",
    replace: "-/+",
    delete: "-",
    "no-op": " ",
  };
  const color: Record<Action, "green" | "yellow" | "red" | "gray"> = {
    create: "green",
    update: "yellow",
    replace: "red",
    delete: "red",
    "no-op": "gray",
  };
  const verb: Record<Action, string> = {
    create: "will be created",
    update: "will be updated in place",
    replace: "must be replaced",
    delete: "will be destroyed",
    "no-op": "is up to date",
  };
  const changes = plan.changes.filter((c) => c.action !== "no-op");
  if (!changes.length) {
    return "No changes. The machine matches the configuration.";
  }
  // the symbols this plan uses, explained once as Terraform does
  const used = (["create", "update", "replace", "delete"] as Action[]).filter((a) =>
    changes.some((c) => c.action === a)
  );
  const legend: Record<string, string> = {
    create: "create",
    update: "update in place",
    replace: "delete and then create replacement",
    delete: "delete",
  };
  lines.push("Resource actions are indicated with the following symbols:");
  for (const a of used) {
    lines.push(`${paint(color[a], symbol[a].padStart(5))} ${legend[a]}`);
  }
  lines.push("", "Firestream will perform the following actions:", "");
  for (const c of changes) {
    const why = c.cause === "drift" ? " (drift: the machine changed outside firestream)" : "";
    lines.push(
      paint(
        "bold",
        `  # ${c.address} ${verb[c.action]}${why}${
          c.destructive ? paint("red", " [destructive]") : ""
        }`,
      ),
    );
    lines.push(`  ${paint(color[c.action], symbol[c.action])} ${c.address} {`);
    for (const d of c.diffs) {
      const from = d.from === undefined ? "" : `${JSON.stringify(d.from)} -> `;
      const tags = [
        d.forces_replacement ? paint("red", "# forces replacement") : "",
        d.drift ? paint("yellow", "# drift") : "",
      ].filter(Boolean).join(" ");
      lines.push(
        `      ${paint(color[c.action], c.action === "create" ? "+" : "~")} ${d.key} = ${from}${
          JSON.stringify(d.to)
        }${tags ? " " + tags : ""}`,
      );
    }
    if (c.note) lines.push(`      ${paint("gray", `# ${c.note}`)}`);
    lines.push("    }", "");
  }
  const s = plan.summary;
  lines.push(
    `Plan: ${s.create} to add, ${s.update} to change, ${s.replace} to replace, ${s.delete} to destroy.`,
  );
  return lines.join("\n");
}
