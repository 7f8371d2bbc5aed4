/** Local registry: `k3d registry create <name> --port 127.0.0.1:<port>`, reused when healthy, never removed if it predates this run. */
import type { ClusterContext } from "../context.ts";
import { HOST_IP } from "../../src/tools/k3d_config.ts";
import { waitForRegistry } from "../../src/tools/registry_health.ts";
import type { CheckResult, KeyDiff, Task } from "../../src/engine/task.ts";
import { FirestreamError } from "../../src/errors.ts";
import type { ClusterResources } from "../../src/state/document.ts";
import {
  connectNetwork,
  type ContainerInfo,
  inspectContainer,
  inspectNetwork,
} from "../../src/tools/docker.ts";
import {
  clustersRead,
  container as containerOf,
  dockerRead,
  liveCluster,
  otherUsers,
  ownersRead,
  registryContainerIn,
  registryHttpRead,
  registryWithCluster,
  usedElsewhere,
} from "../reads.ts";
import { describeUsers, type User } from "../../src/state/owners.ts";
import { createRegistry, deleteRegistry } from "../../src/tools/k3d.ts";
import {
  clusterNetwork,
  registryContainer,
  registryContainerOf,
} from "../../src/tools/k3d_names.ts";

type RegistryRecord = NonNullable<ClusterResources["registry"]>;

/** What rollback needs. */
export interface RegistryUndo {
  /** the registry this run created */
  created?: string;
  /** a registry of ours this run removed (renamed, or turned off): made again on rollback */
  removed?: RegistryRecord;
}

/** Bound on waiting for a new registry to answer. */
export const REGISTRY_WAIT_MS = 30000;

function publishedPort(info: ContainerInfo): number | undefined {
  const binding = info.HostConfig.PortBindings?.["5000/tcp"]?.[0];
  return binding ? Number(binding.HostPort) : undefined;
}

/** Why the existing registry container is not usable, or undefined when it is (from the snapshot). */
function problem(ctx: ClusterContext, info: ContainerInfo): string | undefined {
  if (!info.State.Running) return `is ${info.State.Status}`;
  const port = publishedPort(info);
  if (port !== ctx.k3d.registry.port) {
    return `publishes port ${port ?? "none"}, not ${ctx.k3d.registry.port}`;
  }
  if (!ctx.live.now(registryHttpRead)) {
    return `does not answer on http://${HOST_IP}:${ctx.k3d.registry.port}/v2/`;
  }
  return undefined;
}

/** The registry wanted by the config against the record and the live container. */
function diff(ctx: ClusterContext): CheckResult {
  const rec = ctx.record.resources.registry;
  const want = ctx.k3d.registry;
  if (!want.enabled) {
    return {
      action: rec?.created ? "delete" : "update",
      diffs: [{ key: "registry.enabled", from: true, to: false }],
      note: rec?.created
        ? `${rec.container} (if no other cluster uses it)`
        : `${rec?.container} stays: firestream did not create it`,
    };
  }
  const container = registryContainerIn(ctx);
  const info = containerOf(ctx, container);
  if (registryWithCluster(ctx)) return withCluster(ctx, container, info);
  const users = usersOf(ctx, container);
  // shared by reference: the settings are the first user's, and a clash is said before any call
  const other = users.find((u) => u.record.resources.registry!.port !== want.port);
  if (other) {
    const port = other.record.resources.registry!.port;
    throw new FirestreamError(
      `registry ${want.name} (${container}) is shared with ${
        whoUses([other])
      } on port ${port}; this config wants port ${want.port}`,
      {
        hint:
          `set cluster.k3d.registry.port = ${port} to share it, or give this project its own registry (cluster.k3d.registry.name)`,
      },
    );
  }
  const diffs: KeyDiff[] = [];
  // renamed: a registry of ours goes; one we did not create is only forgotten
  if (rec && rec.container !== container && rec.created) {
    diffs.push({ key: "registry.name", from: rec.name, to: want.name });
  }
  if (!info) {
    const ours = rec?.container === container;
    return {
      action: "create",
      // the keys the delete preview shows going to null
      diffs: diffs.length ? diffs : [
        { key: "container", from: ours ? "missing" : null, to: container },
        { key: "address", to: `${HOST_IP}:${want.port}` },
      ].map((d) => ours ? { ...d, drift: true } : d),
    };
  }
  const port = publishedPort(info);
  if (port !== want.port) {
    diffs.push({ key: "registry.port", from: port, to: want.port, drift: rec?.port === want.port });
  }
  if (!info.State.Running) {
    diffs.push({ key: "registry.running", from: false, to: true, drift: true });
  } else if (port === want.port && problem(ctx, info)) {
    diffs.push({ key: "registry.answers", from: false, to: true, drift: true });
  }
  if (!diffs.length) {
    // in use as it is: recorded as firestream's when an earlier run, or a user that shares it, made it
    const created = rec?.container === container
      ? rec.created
      : users.some((u) => u.record.resources.registry!.created);
    return {
      diffs: [],
      record: { name: want.name, container, host: HOST_IP, port: want.port, created },
    };
  }
  // replacing it would take it from every cluster that uses it
  const elsewhere = users.length ? whoUses(users) : usedElsewhere(info, ctx.name);
  if (elsewhere) {
    throw new FirestreamError(
      `registry ${container} must be replaced (${
        diffs.map((d) => `${d.key}: ${d.from} → ${d.to}`).join(", ")
      }), but ${elsewhere} uses it`,
      {
        hint: users.some((u) => u.folder)
          ? `repair it from the folder that made it (\`docker start ${container}\`, or \`firestream apply\` there), or give this project its own registry (cluster.k3d.registry.name)`
          : `repair it (e.g. \`docker start ${container}\`) or give this cluster its own registry name`,
      },
    );
  }
  return {
    action: "replace",
    diffs,
    // its images go with it
    destructive: true,
    note: "the registry is recreated; push images again",
  };
}

/**
 * A registry k3d made with this cluster, named exactly as it is: only `k3d cluster create` makes it
 * again under that name (`registries.create`, pkg/config/transform.go:311-345; `k3d registry
 * create` always prefixes `k3d-`), so it is never made or removed here. With no cluster (a new or
 * replaced one) the cluster step makes it; with the cluster there it must be as wanted.
 */
function withCluster(
  ctx: ClusterContext,
  container: string,
  info: ContainerInfo | undefined,
): CheckResult {
  const rec = ctx.record.resources.registry;
  const want = ctx.k3d.registry;
  const record: RegistryRecord = {
    name: want.name,
    container,
    host: HOST_IP,
    port: want.port,
    created: rec?.container === container ? rec.created : false,
    with_cluster: true,
  };
  if (!liveCluster(ctx)) {
    if (info) {
      // kept by a `k3d cluster delete` because another cluster's network holds it: k3d counts
      // it as a node of the cluster, and refuses to create the cluster again while it is there
      // (cmd/cluster/clusterCreate.go:146 ClusterGet, pkg/client/cluster.go:826)
      throw new FirestreamError(
        `registry ${container} was made by k3d with cluster ${ctx.name} and outlived it${
          usedElsewhere(info, ctx.name) ? ` (${usedElsewhere(info, ctx.name)})` : ""
        }: k3d will not create cluster ${ctx.name} while it is there`,
        {
          hint:
            `remove it (\`k3d registry delete ${container}\`) once nothing needs its images, or give this project another cluster name`,
        },
      );
    }
    return { diffs: [], record, note: `registry ${container} is made with cluster ${ctx.name}` };
  }
  // a stopped cluster stopped its registry too (k3d stops and starts it with the cluster's nodes):
  // the cluster step starts both and waits for the registry
  if (liveCluster(ctx)!.nodes.some((n) => !n.State.Running)) {
    return { diffs: [], record, note: `registry ${container} starts with cluster ${ctx.name}` };
  }
  const why = !info ? "is missing" : problem(ctx, info);
  if (why) {
    const remake =
      `delete the cluster and apply again to make both anew (\`firestream cluster delete ${ctx.name}\`, then \`firestream apply\`), or name another registry (cluster.k3d.registry.name)`;
    throw new FirestreamError(
      `registry ${container} ${why}; k3d made it with cluster ${ctx.name} and makes it again under that name only with the cluster`,
      {
        hint: !info
          ? remake
          : !info.State.Running
          ? `start it (\`docker start ${container}\`)`
          : why.startsWith("does not answer")
          ? `it may still be starting: try again in a moment; \`docker logs ${container}\` says why it does not`
          : remake,
      },
    );
  }
  return { diffs: [], record };
}

/** The other clusters, here or in other folders, that use registry `container`. */
function usersOf(ctx: ClusterContext, container: string): User[] {
  return otherUsers(ctx, (r) => r.resources.registry?.container === container);
}

/** "cluster a (managed from /home/me/a)" for messages. */
function whoUses(users: User[]): string {
  return users.map((u) => `cluster ${u.cluster}${u.folder ? ` (managed from ${u.folder})` : ""}`)
    .join(", ");
}

/** Removes a registry of ours that no other cluster uses; says why when it stays. */
async function retire(ctx: ClusterContext, rec: RegistryRecord): Promise<boolean> {
  // who uses it now: read again when a step changed the machine since the step's own refresh
  await ctx.live.refresh(ctx, [ownersRead]);
  const users = usersOf(ctx, rec.container);
  if (!rec.created || rec.with_cluster || users.length) {
    ctx.notice(
      `keeping registry ${rec.container}: ${
        !rec.created
          ? "firestream did not create it"
          : rec.with_cluster
          ? "k3d made it with the cluster, and deletes it with the cluster"
          : describeUsers(users)
      }`,
    );
    return false;
  }
  if (await inspectContainer(rec.container)) await deleteRegistry(rec.container);
  return true;
}

/**
 * Makes the registry with `k3d registry create NAME` and waits until it answers; a running cluster
 * gets it on its network. Returns the container k3d made.
 */
async function make(ctx: ClusterContext, name: string, port: number): Promise<string> {
  const container = registryContainer(name);
  // k3d joins a registry to a cluster's network only at cluster create; a remade one is joined here.
  // The read comes first: when it fails, no registry has been made
  const network = clusterNetwork(ctx.name);
  const join = await inspectNetwork(network);
  await createRegistry(name, { hostIp: HOST_IP, port });
  try {
    if (!(await waitForRegistry(port, { timeoutMs: REGISTRY_WAIT_MS }))) {
      throw new FirestreamError(
        `registry ${container} did not answer on http://${HOST_IP}:${port}/v2/ within ${
          REGISTRY_WAIT_MS / 1000
        }s`,
        { hint: `check \`docker logs ${container}\`; is Docker able to publish the port?` },
      );
    }
    if (join) await connectNetwork(network, container);
  } catch (err) {
    // the step leaves no registry it made behind
    await deleteRegistry(container).catch(() => {});
    throw err;
  }
  return container;
}

const registry: Task<ClusterContext, RegistryUndo> = {
  id: "registry",
  title: "Local registry",
  enabled: (ctx) => ctx.k3d.registry.enabled || Boolean(ctx.record.resources.registry),
  reads: (ctx) =>
    ctx.k3d.registry.enabled
      ? [dockerRead, registryHttpRead, ownersRead, clustersRead]
      : [dockerRead, ownersRead],
  slots: ["resources.registry"],
  check: diff,
  apply: async (ctx) => {
    const previous = ctx.record.resources.registry;
    if (!ctx.k3d.registry.enabled) {
      const removed = await retire(ctx, previous!);
      delete ctx.record.resources.registry;
      return { removed: removed ? previous : undefined };
    }
    const { name, port } = ctx.k3d.registry;
    const undo: RegistryUndo = {};
    await ctx.live.refresh(ctx, [dockerRead, registryHttpRead, ownersRead]);
    const container = registryContainerIn(ctx);
    const info = containerOf(ctx, container);
    const why = info ? problem(ctx, info) : "is missing";
    if (info && why) {
      // read again now: what another folder started meanwhile is never replaced
      const users = usersOf(ctx, container);
      const elsewhere = users.length ? whoUses(users) : usedElsewhere(info, ctx.name);
      if (elsewhere) {
        throw new FirestreamError(`registry ${container} ${why}, and ${elsewhere} uses it`, {
          hint:
            `repair it (e.g. \`docker start ${container}\`) or give this cluster its own registry name`,
        });
      }
      ctx.notice(`registry ${container} ${why}: recreating it`);
      await deleteRegistry(container);
    }
    if (why) undo.created = await make(ctx, name, port);
    const made = undo.created ?? container;
    const created = undo.created !== undefined ||
      (previous?.container === made
        ? previous.created
        : usersOf(ctx, made).some((u) => u.record.resources.registry!.created));
    ctx.record.resources.registry = { name, container: made, host: HOST_IP, port, created };
    // renamed: the old registry goes when it was ours and nobody else uses it
    if (previous && previous.container !== made && (await retire(ctx, previous))) {
      undo.removed = previous;
    }
    return undo;
  },
  abandon: async (ctx) => {
    // the recorded container of that name (one k3d made with the cluster keeps its exact name),
    // else the one `k3d registry create` was making
    const container = registryContainerOf(ctx.k3d.registry.name, {
      recorded: ctx.record.resources.registry,
    });
    // recorded before the run: it predates the interrupted create, leave it
    if (ctx.record.resources.registry?.container === container) return;
    if (await inspectContainer(container)) await deleteRegistry(container);
  },
  rollback: async (ctx, undo) => {
    if (undo.created) await deleteRegistry(undo.created);
    if (undo.removed) await make(ctx, undo.removed.name, undo.removed.port);
  },
};

export default registry;
