/** Refresh, then diff: the desired config against what state recorded and what is live. */
import type { K3dConfig } from "../config/schema.ts";
import { checkTasks, refreshTasks, slotGet } from "../engine/runner.ts";
import type { AnyTask, CheckResult } from "../engine/task.ts";
import { FirestreamError } from "../errors.ts";
import { ingressCertificateGap } from "../tls/certs.ts";
import {
  checkClusterDns,
  checkClusterNetworks,
  dockerNetworks,
  interfaceNetworks,
  managedNetworks,
} from "../host/networks.ts";
import { managedElsewhereError } from "../state/owners.ts";
import type { ClusterRecord, StateDocument } from "../state/document.ts";
import { networkSubnets } from "../tools/docker.ts";
import { apiBinding, type K3dCluster, lbBinding } from "../tools/k3d.ts";
import { kubeconfigContext } from "../tools/k3d_names.ts";
import type { Action, KeyDiff, ResourceChange } from "../ui/plan.ts";
import {
  clustersRead,
  container,
  liveCluster,
  otherOwner,
  otherUsers,
  ownersRead,
  registryContainerIn,
  registryWithCluster,
  usedElsewhere,
} from "../../tasks/reads.ts";
import { HOST_IP } from "../tools/k3d_config.ts";
import { type ClusterContext, LiveCache, newRecord } from "../../tasks/context.ts";
import type { Workspace } from "./workspace.ts";
import { flatten } from "../config/load.ts";

export type { Action, KeyDiff, ResourceChange } from "../ui/plan.ts";
export { renderPlan } from "../ui/plan.ts";
export { flatten };

/** A saved or printed plan. */
export interface Plan {
  format: "firestream-plan";
  version: 1;
  created_at: string;
  config: { file: string | null; sha256: string };
  /** the profile in force when the plan was made */
  profile?: string;
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

/** Options for {@link makePlan}. */
export interface PlanOptions {
  /** plan only the config's cluster (cluster create): clusters removed from the config are left alone */
  onlyConfigCluster?: boolean;
  /** the tasks whose checks decide the remaining steps */
  tasks: AnyTask<ClusterContext>[];
  /** where read-only answers are kept, so the run that follows can reuse them */
  live?: LiveCache;
  /** the state as the command already read it */
  state?: StateDocument;
}

/** The steps whose changes the cluster-level diff shows (or that change nothing themselves). */
const OWN_DIFF = new Set(["preflight", "cluster", "agents", "ready"]);

/** Builds the plan for this workspace's config. Read-only: one concurrent refresh, then pure checks. */
export async function makePlan(session: Workspace, options: PlanOptions): Promise<Plan> {
  const state = options.state ?? await session.store.read();
  const k3d = session.loaded.config.cluster.k3d;
  const record = state.clusters[k3d.name];
  const ctx: ClusterContext = {
    config: session.loaded.config,
    k3d,
    name: k3d.name,
    kubeContext: kubeconfigContext(k3d.name),
    projectDir: record?.project_dir ?? session.loaded.projectDir,
    stateDir: session.stateDir,
    state,
    record: structuredClone(record ?? newRecord(k3d, session.loaded.projectDir)),
    options: {},
    notice: () => {},
    live: options.live ?? new LiveCache(),
  };
  const steps = options.tasks.filter((t) => !OWN_DIFF.has(t.id));
  // refresh: every fact the steps read, all at once (a cluster not yet recorded needs only its own);
  // a read the command began before the steps loaded is not made again
  const registry = steps.filter((t) => t.id === "registry");
  await Promise.all([
    ctx.live.refresh(ctx, [clustersRead, ownersRead]),
    refreshTasks(record ? steps : registry, ctx),
  ]);
  const changes = planCluster(ctx, record);
  checkClusterDns(k3d, Boolean(record?.resources.dns), otherUsers(ctx, () => true));
  // a new pod or service network must not overlap one this host uses: said by the plan already
  if (changes[0].action === "create" || changes[0].action === "replace") {
    checkClusterNetworks(k3d, [
      ...interfaceNetworks(),
      ...dockerNetworks(await networkSubnets()),
      ...managedNetworks(ctx.k3d, otherUsers(ctx, () => true)),
    ]);
  }
  const desired: Record<string, K3dConfig | null> = { [k3d.name]: k3d };
  changes.push(...await planSteps(ctx, record, options.tasks, changes[0]));
  const gap = ingressCertificateGap(k3d);
  if (gap) {
    const address = `cluster.${k3d.name}.ingress-dns`;
    const step = changes.find((c) => c.address === address);
    if (step) step.note = `${step.note}; ${gap}`;
    else {
      changes.push({
        address,
        cluster: k3d.name,
        action: "no-op",
        cause: "config",
        destructive: false,
        diffs: [],
        note: gap,
      });
    }
  }

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
  const shown = changes.filter((c) =>
    c.action !== "no-op" || c.address === `cluster.${k3d.name}` || c.note
  );
  const count = (a: Action) => shown.filter((c) => c.action === a).length;
  return {
    format: "firestream-plan",
    version: 1,
    created_at: new Date().toISOString(),
    config: { file: session.loaded.file ?? null, sha256: await sha256(session.loaded.fingerprint) },
    ...(session.loaded.profile ? { profile: session.loaded.profile } : {}),
    state: { lineage: state.lineage, serial: state.serial },
    desired,
    changes: shown,
    summary: {
      create: count("create"),
      update: count("update"),
      replace: count("replace"),
      delete: count("delete"),
    },
  };
}

/** The cluster itself: created, replaced, updated (agents, stopped nodes) or as it is. */
function planCluster(ctx: ClusterContext, record: ClusterRecord | undefined): ResourceChange[] {
  const found = liveCluster(ctx);
  const address = `cluster.${ctx.name}`;
  // another state manages it: said before anything else, and never as something to import
  const other = otherOwner(ctx);
  if (other) throw managedElsewhereError(other, record !== undefined);
  if (!record && found) {
    throw new FirestreamError(
      `k3d cluster ${ctx.name} already exists but firestream does not manage it`,
      {
        hint: `run \`firestream import cluster ${ctx.name}\` to manage it, or choose another name`,
      },
    );
  }
  if (!record || !found) {
    return [{
      address,
      cluster: ctx.name,
      action: "create",
      cause: record ? "drift" : "config",
      destructive: false,
      diffs: Object.entries(flatten(ctx.k3d)).map(([key, to]) => ({ key, to })),
      note: record ? "recorded in state but missing from k3d" : undefined,
    }];
  }
  const out = [diffCluster(record, found, ctx.k3d)];
  if (record.resources.stale_nodes?.length) {
    out.push({
      address: `${address}.agents`,
      cluster: ctx.name,
      action: "update",
      cause: "drift",
      destructive: false,
      diffs: [],
      note: `Node objects of removed agents to delete: ${record.resources.stale_nodes.join(", ")}`,
    });
  }
  return out;
}

/**
 * A step's check as a planned change: an add when the record holds nothing of it yet, a destroy
 * when every key goes to null (turned off), else an update in place.
 */
function stepChange(
  ctx: ClusterContext,
  task: Pick<AnyTask<ClusterContext>, "id" | "title" | "slots">,
  found: CheckResult,
) {
  const { id, title } = task;
  const recorded = (task.slots ?? []).some((s) => slotGet(ctx.record, s) !== undefined);
  return {
    address: `cluster.${ctx.name}.${id}`,
    cluster: ctx.name,
    action: found.action ??
      (task.slots?.length && !recorded
        ? "create"
        : recorded && found.diffs.every((d) => d.to === null)
        ? "delete"
        : "update"),
    cause: found.diffs.some((d) => d.drift) ? "drift" : "config",
    destructive: found.destructive ?? false,
    diffs: found.diffs,
    note: found.note ?? title,
  } satisfies ResourceChange;
}

/**
 * A registry k3d made with the cluster, when the cluster is replaced: `k3d cluster delete` deletes
 * it with its images (pkg/client/cluster.go:619-651), and the new cluster makes it again under the
 * same name (`registries.create`). Keeping it is no way out: a registry labelled for the cluster
 * counts as the cluster, and k3d refuses to create one of that name while it is there
 * (cmd/cluster/clusterCreate.go:146).
 */
function replacedWithCluster(ctx: ClusterContext): ResourceChange {
  const name = registryContainerIn(ctx);
  const info = container(ctx, name);
  const binding = info?.HostConfig.PortBindings?.["5000/tcp"]?.[0];
  const users = otherUsers(ctx, (r) => r.resources.registry?.container === name);
  const elsewhere = users.length
    ? users.map((u) => `cluster ${u.cluster}`).join(", ")
    : usedElsewhere(info, ctx.name);
  if (elsewhere) {
    throw new FirestreamError(
      `registry ${name} was made by k3d with cluster ${ctx.name}, so replacing the cluster deletes it, but ${elsewhere} uses it`,
      {
        hint:
          `give the other cluster a registry of its own first, or keep this cluster as it is (undo the change that forces its replacement)`,
      },
    );
  }
  return {
    address: `cluster.${ctx.name}.registry`,
    cluster: ctx.name,
    action: "replace",
    cause: "config",
    destructive: true,
    diffs: [
      {
        key: "address",
        from: binding ? `${binding.HostIp || "0.0.0.0"}:${binding.HostPort}` : null,
        to: `${HOST_IP}:${ctx.k3d.registry.port}`,
      },
    ],
    note:
      `${name} was made by k3d with the cluster: \`k3d cluster delete\` deletes it and its images, and the new cluster makes it again as ${name}; push images again`,
  };
}

/** The registry and the steps after the cluster (certificates, host network, forwards). */
async function planSteps(
  ctx: ClusterContext,
  record: ClusterRecord | undefined,
  tasks: AnyTask<ClusterContext>[],
  main: ResourceChange,
): Promise<ResourceChange[]> {
  const out: ResourceChange[] = [];
  const registry = tasks.find((t) => t.id === "registry");
  if (registry && (!registry.enabled || registry.enabled(ctx))) {
    if (main.action === "replace" && ctx.k3d.registry.enabled && registryWithCluster(ctx)) {
      out.push(replacedWithCluster(ctx));
    } else {
      const found = registry.check(ctx);
      if (found.diffs.length) out.push(stepChange(ctx, registry, found));
    }
  }
  const rest = tasks.filter((t) => !OWN_DIFF.has(t.id) && t.id !== "registry");
  if (!record && main.action === "create") {
    // a new cluster: each resource made with it is an add, as its delete counts each one
    for (const t of rest) {
      if (t.enabled && !t.enabled(ctx)) continue;
      out.push({
        address: `cluster.${ctx.name}.${t.id}`,
        cluster: ctx.name,
        action: "create",
        cause: "config",
        destructive: false,
        diffs: [],
        note: `${t.title} (made with the cluster)`,
      });
    }
    return out;
  }
  if (!record || !rest.length || main.action === "create" || main.action === "replace") return out;
  // a stopped cluster answers no kubectl: the steps after `ready` wait for it to start
  const ready = tasks.find((t) => t.id === "ready");
  const starts = liveCluster(ctx)?.nodes.some((n) => !n.State.Running && n.role !== "registry");
  const checked = starts && ready
    ? [{ ...ready, check: () => ({ diffs: [{ key: "ready", to: "ready" }] }) }, ...rest]
    : rest;
  for (const r of await checkTasks(checked, ctx)) {
    if (r.id === "ready") continue;
    if (r.status === "would-apply") {
      out.push(stepChange(ctx, tasks.find((t) => t.id === r.id) ?? r, r.found));
    } else if (r.status === "pending") {
      out.push({
        address: `cluster.${ctx.name}.${r.id}`,
        cluster: ctx.name,
        action: "update",
        cause: "config",
        destructive: false,
        diffs: [],
        note: `${r.title} (checked again after ${r.after.join(", ")})`,
      });
    }
  }
  return out;
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
  // a value a flag set for one run goes back to the file's, and the plan says why
  for (const d of diffs) {
    const flag = record.set_by_flags?.[d.key];
    if (flag && JSON.stringify(recorded[d.key]) !== JSON.stringify(d.to)) {
      d.reason = `set by \`cluster create ${flag}\` for that run only; the config says ${
        JSON.stringify(d.to)
      }`;
    }
  }
  const stopped = live.nodes.filter((n) => !n.State.Running && n.role !== "registry").map((n) =>
    n.name
  );
  const stoppedByUs = Boolean(record.resources.cluster?.stopped_at);
  const replace = diffs.some((d) => d.forces_replacement);
  const action: Action = replace ? "replace" : diffs.length || stopped.length ? "update" : "no-op";
  const note = replace
    ? diffs.filter((d) => d.forces_replacement).map((d) =>
      `${d.key}: ${REPLACE_KEYS[d.key] ?? "the nodes' mirror config must name the registry"}`
    ).join("; ")
    : stopped.length
    ? `${
      stoppedByUs ? "stopped by `firestream cluster stop`: " : ""
    }stopped nodes will be started: ${stopped.join(", ")}`
    : undefined;
  return {
    address: `cluster.${record.name}`,
    cluster: record.name,
    action,
    cause: diffs.some((d) => d.drift) || (stopped.length && !diffs.length && !stoppedByUs)
      ? "drift"
      : "config",
    destructive: replace,
    diffs,
    note,
  };
}

/** True when the plan changes anything. */
export function hasChanges(plan: Plan): boolean {
  return plan.changes.some((c) => c.action !== "no-op");
}
