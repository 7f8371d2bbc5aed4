/** `k3d cluster stop`: a cluster that is stopped already, or down with Docker, is left alone. */
import type { ClusterContext } from "../../src/cluster/context.ts";
import type { Task } from "../../src/engine/task.ts";
import { FirestreamError } from "../../src/errors.ts";
import { listClusters, startCluster, stopCluster } from "../../src/tools/k3d.ts";

const cluster: Task<ClusterContext, null> = {
  id: "stop-cluster",
  title: "Stop k3d cluster",
  check: async (ctx) => {
    try {
      const found = (await ctx.live.get("k3d:clusters", listClusters)).find((c) =>
        c.name === ctx.name
      );
      if (!found) ctx.notice(`k3d has no cluster ${ctx.name}: nothing to stop`);
      return !found || found.nodes.every((n) => !n.State.Running);
    } catch (err) {
      if (!(err instanceof FirestreamError) || !/Docker is not running/.test(err.message)) {
        throw err;
      }
      ctx.notice(`Docker is not running: cluster ${ctx.name} is down with it`);
      return true;
    }
  },
  apply: async (ctx) => {
    await stopCluster(ctx.name);
    return null;
  },
  rollback: async (ctx) => await startCluster(ctx.name),
};

export default cluster;
