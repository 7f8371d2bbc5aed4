/** Delete the k3d cluster (and its kubeconfig context) and the generated k3d config. */
import type { ClusterContext } from "../context.ts";
import type { Task } from "../../src/engine/task.ts";
import { deleteCluster } from "../../src/tools/k3d.ts";
import { clustersRead, liveCluster } from "../reads.ts";

const cluster: Task<ClusterContext, null> = {
  id: "delete-cluster",
  title: "Delete k3d cluster",
  reads: () => [clustersRead],
  slots: ["resources.cluster"],
  check: (ctx) =>
    liveCluster(ctx)
      ? { diffs: [{ key: "cluster", from: ctx.name, to: null }] }
      : { diffs: [], record: null },
  apply: async (ctx) => {
    await deleteCluster(ctx.name);
    const file = ctx.record.resources.cluster?.config_file;
    if (file) await Deno.remove(file).catch(() => {});
    delete ctx.record.resources.cluster;
    return null;
  },
  // a deleted cluster cannot be brought back: from here a failed delete is finished, not undone
  pointOfNoReturn: true,
  rollback: () => Promise.resolve(),
};

export default cluster;
