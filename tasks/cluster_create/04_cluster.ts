/** Cluster: write k3d's config under the state dir and `k3d cluster create --config <file>`; start it when stopped. */
import type { ClusterContext } from "../../src/cluster/context.ts";
import { k3dConfigYaml } from "../../src/tools/k3d_config.ts";
import { k3dConfigPath } from "../../src/tools/k3d_names.ts";
import type { Task } from "../../src/engine/task.ts";
import type { ClusterResources } from "../../src/state/document.ts";
import { writeFileAtomic } from "../../src/state/fs.ts";
import {
  createCluster,
  deleteCluster,
  findCluster,
  listClusters,
  startCluster,
} from "../../src/tools/k3d.ts";

/** What rollback needs. */
export interface ClusterUndo {
  action: "created" | "started";
  previous?: ClusterResources["cluster"];
}

/** Bound on k3d's own wait for the cluster. */
export const CLUSTER_TIMEOUT_S = 300;

const cluster: Task<ClusterContext, ClusterUndo> = {
  id: "cluster",
  title: "k3d cluster",
  // certificates are made meanwhile; the cluster waits only for its registry
  needs: ["registry"],
  check: async (ctx) => {
    const found = (await ctx.live.get("k3d:clusters", listClusters)).find((c) =>
      c.name === ctx.name
    );
    if (!found) return false;
    // made by a run that died before recording it: the record of this managed cluster adopts it
    ctx.record.resources.cluster ??= {
      config_file: k3dConfigPath(ctx.stateDir, ctx.name),
      context: ctx.kubeContext,
      created: true,
      created_at: new Date().toISOString(),
    };
    return found.nodes.every((n) => n.State.Running);
  },
  abandon: async (ctx) => {
    if (ctx.record.resources.cluster) return;
    if (await findCluster(ctx.name)) await deleteCluster(ctx.name);
    await Deno.remove(k3dConfigPath(ctx.stateDir, ctx.name)).catch(() => {});
  },
  apply: async (ctx) => {
    const previous = ctx.record.resources.cluster;
    if (await findCluster(ctx.name)) {
      ctx.notice(`cluster ${ctx.name} is stopped: starting it`);
      await startCluster(ctx.name);
      return { action: "started", previous };
    }
    const file = k3dConfigPath(ctx.stateDir, ctx.name);
    await Deno.mkdir(`${ctx.stateDir}/k3d`, { recursive: true });
    await writeFileAtomic(
      file,
      await k3dConfigYaml(ctx.k3d, { timeoutSeconds: CLUSTER_TIMEOUT_S }),
    );
    try {
      // k3d rolls back its own half-made cluster; the config file is ours to remove
      await createCluster(file, { timeoutMs: (CLUSTER_TIMEOUT_S + 60) * 1000 });
    } catch (err) {
      await Deno.remove(file).catch(() => {});
      throw err;
    }
    ctx.record.resources.cluster = {
      config_file: file,
      context: ctx.kubeContext,
      created: true,
      created_at: new Date().toISOString(),
    };
    return { action: "created", previous };
  },
  rollback: async (ctx, undo) => {
    if (undo.action === "created") {
      await deleteCluster(ctx.name);
      await Deno.remove(k3dConfigPath(ctx.stateDir, ctx.name)).catch(() => {});
    }
    if (undo.previous) ctx.record.resources.cluster = undo.previous;
    else delete ctx.record.resources.cluster;
  },
};

export default cluster;
