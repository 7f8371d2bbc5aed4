/** Pause port forwarding: a stopped cluster has nothing to forward, so the supervisor stops with it. */
import type { ClusterContext } from "../context.ts";
import type { Task } from "../../src/engine/task.ts";
import stopForwards, { type StoppedForwards } from "../cluster_delete/01_port_forward.ts";

/** The delete's step, which also notes what ran so that starting the cluster starts it again. */
const pause: Task<ClusterContext, StoppedForwards | null> = {
  ...stopForwards,
  id: "stop-port-forward",
  title: "Pause port forwarding",
  slots: ["resources.port_forwards", "resources.cluster"],
  apply: async (ctx) => {
    const stopped = await stopForwards.apply(ctx);
    const rec = ctx.record.resources.cluster;
    if (stopped && rec) ctx.record.resources.cluster = { ...rec, paused_forwards: stopped };
    return stopped;
  },
};

export default pause;
