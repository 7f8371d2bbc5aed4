/** Stop the cluster's port-forward supervisor and every kubectl it runs. */
import type { ClusterContext } from "../context.ts";
import type { Task } from "../../src/engine/task.ts";
import { runningSupervisor, startDetached, stopSupervisor } from "../../src/portforward/control.ts";
import type { SupervisorInfo } from "../../src/portforward/files.ts";
import { devModeSpec } from "../../src/portforward/spec.ts";
import { supervisorRead } from "../reads.ts";

/** What rollback needs to start the supervisor again as it ran. */
export interface StoppedForwards {
  offset: number;
  only?: SupervisorInfo["only"];
}

/** Starts the supervisor that a delete stopped; throws (the step stays undone) when it cannot. */
async function restart(ctx: ClusterContext, stopped: StoppedForwards): Promise<void> {
  const spec = devModeSpec(ctx);
  const info = await startDetached({ ...spec, offset: stopped.offset, only: stopped.only });
  ctx.notice(`port forwarding runs again (pid ${info.pid})`);
}

const portForward: Task<ClusterContext, StoppedForwards | null> = {
  id: "delete-port-forward",
  title: "Stop port forwarding",
  reads: () => [supervisorRead],
  slots: ["resources.port_forwards"],
  check: (ctx) => {
    const running = ctx.live.now(supervisorRead);
    if (!running) return { diffs: [], record: null };
    return { diffs: [{ key: "port-forward supervisor", from: `pid ${running.pid}`, to: null }] };
  },
  apply: async (ctx) => {
    const paths = devModeSpec(ctx).paths;
    const running = await runningSupervisor(paths);
    await stopSupervisor(paths);
    delete ctx.record.resources.port_forwards;
    return running ? { offset: running.offset, only: running.only } : null;
  },
  rollback: async (ctx, stopped) => {
    if (stopped) await restart(ctx, stopped);
  },
  // died while stopping it: a supervisor the record names and that no longer runs starts again
  abandon: async (ctx) => {
    const record = ctx.record.resources.port_forwards;
    if (!record || await runningSupervisor(devModeSpec(ctx).paths)) return;
    await restart(ctx, { offset: record.offset });
  },
};

export default portForward;
