/**
 * What `cluster delete` will undo, as a plan: one resource per thing firestream made, named as the
 * plan names them, each key's recorded value going to null, as Terraform's destroy plan shows it.
 */
import type { ClusterContext } from "../../tasks/context.ts";
import type { ClusterRecord, StateDocument } from "../state/document.ts";
import { shownLines } from "../host/hosts.ts";
import { describeUsers, type ManagedCluster, usersOf } from "../state/owners.ts";
import { certPaths } from "../tls/certs.ts";
import type { K3dCluster } from "../tools/k3d.ts";
import { kubeconfigContext } from "../tools/k3d_names.ts";
import type { Action, KeyDiff, PlanView, ResourceChange } from "../ui/plan.ts";

/** The options of `cluster delete` the preview depends on. */
export interface DeletePlanOptions {
  keepRegistry?: boolean;
  purgeCerts?: boolean;
}

/** The preview of a delete: the changes and their counts, rendered by `renderPlan`. */
export interface DeletePlan extends PlanView {
  cluster: string;
}

/**
 * The changes `cluster delete` will make, from the record, the state and every cluster the states
 * of this machine manage (`machine`: who else uses the registry or the CA) and k3d's view of the
 * cluster (`live`; undefined when it is already gone). `keepRegistry` is the delete step's own rule
 * (`tasks/cluster_delete/07_registry.ts`).
 */
export function deletePlan(
  record: ClusterRecord,
  state: StateDocument,
  opts: DeletePlanOptions,
  live: K3dCluster | undefined,
  keepRegistry: (ctx: ClusterContext, machine: ManagedCluster[]) => string | undefined,
  machine: ManagedCluster[] = [],
): DeletePlan {
  const name = record.name;
  const r = record.resources;
  const changes: ResourceChange[] = [];
  const add = (
    id: string | undefined,
    action: Action,
    diffs: KeyDiff[],
    more: Partial<ResourceChange> = {},
  ) =>
    changes.push({
      address: id ? `cluster.${name}.${id}` : `cluster.${name}`,
      cluster: name,
      action,
      cause: "config",
      destructive: false,
      diffs,
      ...more,
    });
  const gone = (key: string, from: unknown): KeyDiff => ({ key, from, to: null });

  const context = r.cluster?.context ?? kubeconfigContext(name);
  if (live) {
    const order = ["server", "agent", "loadbalancer"];
    const rank = (role: string) => order.indexOf(role) < 0 ? order.length : order.indexOf(role);
    const nodes = [...live.nodes].sort((a, b) =>
      rank(a.role) - rank(b.role) || a.name.localeCompare(b.name)
    ).map((n) => n.name);
    add(undefined, "delete", [gone("containers", nodes), gone("kube context", context)], {
      destructive: true,
    });
  } else {
    add(undefined, "delete", [gone("kube context", context)], {
      cause: "drift",
      destructive: true,
      note: "already gone from k3d; its record is dropped",
    });
  }

  if (r.registry) {
    const ctx = { name, record, state, options: opts } as unknown as ClusterContext;
    const kept = keepRegistry(ctx, machine);
    const address = `${r.registry.host}:${r.registry.port}`;
    if (kept) {
      add("registry", "no-op", [], { note: `${r.registry.container} (${address}) kept: ${kept}` });
    } else {
      add("registry", "delete", [
        gone("container", r.registry.container),
        gone("address", address),
      ], r.registry.with_cluster ? { note: "made by k3d with the cluster: deleted with it" } : {});
    }
  }

  if (r.tls?.secret.namespaces.length) {
    const secret = r.tls.secret;
    add(
      "tls-secret",
      "delete",
      secret.namespaces.map((ns) =>
        gone(`secret ${ns}/${secret.name}`, "the cluster's certificate")
      ),
      { note: "goes with the cluster" },
    );
  }

  if (r.ingress_dns) {
    const d = r.ingress_dns;
    add(
      "ingress-dns",
      "delete",
      [gone(`coredns-custom ${d.key}`, `${d.domain} → ${d.addresses.join(", ")}`)],
      {
        note: d.configmap_created
          ? "the coredns-custom ConfigMap goes when nothing else is in it"
          : "only this key of coredns-custom; its other keys stay",
      },
    );
  }

  if (r.routes?.length) {
    const restored = r.routes.filter((route) => route.replaced_via);
    add(
      "routes",
      restored.length ? "update" : "delete",
      r.routes.map((route) => ({
        key: `route ${route.cidr}`,
        from: route.via,
        to: route.replaced_via ?? null,
      })),
      restored.length ? { note: "a route firestream replaced gets its previous gateway back" } : {},
    );
  }

  if (r.dns) {
    const d = r.dns;
    const where = d.mode === "resolved" ? `resolvectl ${d.interface}` : d.file;
    const note = d.mode === "resolved"
      ? `resolvectl revert ${d.interface}`
      : d.mode === "macos-resolver"
      ? "the resolver file is removed"
      : `the \`# BEGIN firestream ${name}\` blocks are removed`;
    add("dns", "delete", [gone(`dns ${where}`, `${d.server} for ${d.domains.join(" ")}`)], {
      note,
    });
  }

  if (r.hosts_block) {
    const b = r.hosts_block;
    add(
      "hosts",
      "delete",
      [gone(`hosts block in ${b.file}`, shownLines(b.lines))],
      { note: `the \`# BEGIN firestream ${name}\` block` },
    );
  }

  if (r.port_forwards) {
    add(
      "port-forward",
      "delete",
      [gone("port-forward supervisor", `port offset ${r.port_forwards.offset}`)],
      { note: "the supervisor and its kubectl processes" },
    );
  }

  if (r.tls) {
    const tls = r.tls;
    const dir = certPaths(record.k3d_config.tls.certs_dir, name).clusterDir;
    if (!opts.purgeCerts) {
      add("tls-cert", "no-op", [], {
        note: `certificates in ${dir} kept (--purge-certs removes them)`,
      });
    } else {
      const users = usersOf(state, machine, name, (c) => c.resources.tls?.ca_cert === tls.ca_cert);
      add(
        "tls-cert",
        "delete",
        [gone("certificates", dir), ...users.length ? [] : [gone("CA", tls.ca_cert)]],
        users.length ? { note: `the CA ${tls.ca_cert} is kept: ${describeUsers(users)}` } : {},
      );
    }
  }

  const count = (a: Action) => changes.filter((c) => c.action === a).length;
  return {
    cluster: name,
    changes,
    summary: { create: 0, update: count("update"), replace: 0, delete: count("delete") },
  };
}
