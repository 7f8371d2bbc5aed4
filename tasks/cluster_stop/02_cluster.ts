/** `k3d cluster stop`: a cluster that is stopped already, or down with Docker, is left alone. */
import type { ClusterContext } from "../context.ts";
import { type CheckResult, type Task, UP_TO_DATE } from "../../src/engine/task.ts";
import { FirestreamError } from "../../src/errors.ts";
import { startCluster, stopCluster } from "../../src/tools/k3d.ts";
import { clustersRead, liveCluster } from "../reads.ts";

const cluster: Task<ClusterContext, null> = {
  id: "stop-cluster",
  title: "Stop k3d cluster",
  reads: () => [clustersRead],
  slots: ["resources.cluster"],
  check: (ctx): CheckResult => {
    try {
      const found = liveCluster(ctx);
      if (!found) return { ...UP_TO_DATE, note: `k3d has no cluster ${ctx.name}: nothing to stop` };
      const running = found.nodes.filter((n) => n.State.Running).map((n) => n.name);
      return { diffs: running.length ? [{ key: "running", from: running, to: [] }] : [] };
    } catch (err) {
      if (!(err instanceof FirestreamError) || !/Docker is not running/.test(err.message)) {
        throw err;
      }
      return { ...UP_TO_DATE, note: `Docker is not running: cluster ${ctx.name} is down with it` };
    }
  },
  apply: async (ctx) => {
    await stopCluster(ctx.name);
    // firestream's own stop: plan says so instead of calling it drift
    const rec = ctx.record.resources.cluster;
    if (rec) ctx.record.resources.cluster = { ...rec, stopped_at: new Date().toISOString() };
    return null;
  },
  rollback: async (ctx) => await startCluster(ctx.name),
};

export default cluster;
