/** Stop the cluster's port-forward supervisor and every kubectl it runs. */
import type { ClusterContext } from "../../src/cluster/context.ts";
import type { Task } from "../../src/engine/task.ts";
import { runningSupervisor, stopSupervisor } from "../../src/portforward/control.ts";
import { devModeSpec } from "../../src/portforward/spec.ts";

const portForward: Task<ClusterContext, null> = {
  id: "delete-port-forward",
  title: "Stop port forwarding",
  check: async (ctx) => {
    const running = await runningSupervisor(devModeSpec(ctx).paths);
    if (!running) delete ctx.record.resources.port_forwards;
    return !running;
  },
  apply: async (ctx) => {
    await stopSupervisor(devModeSpec(ctx).paths);
    delete ctx.record.resources.port_forwards;
    return null;
  },
  rollback: () => Promise.resolve(),
};

export default portForward;
