/** Dev mode: the detached port-forward supervisor, started after create, restarted on an offset change, stopped when turned off. */
import type { ClusterContext } from "../context.ts";
import type { Task } from "../../src/engine/task.ts";
import { runningSupervisor, startDetached, stopSupervisor } from "../../src/portforward/control.ts";
import { devModeSpec } from "../../src/portforward/spec.ts";
import { supervisorRead } from "../reads.ts";

/** What rollback needs. */
export interface PortForwardUndo {
  started: boolean;
  stopped?: { offset: number };
}

const portForward: Task<ClusterContext, PortForwardUndo> = {
  id: "port-forward",
  title: "Dev-mode port forwarding",
  needs: ["ready"],
  enabled: (ctx) =>
    ctx.k3d.dev_mode.port_forward_all || Boolean(ctx.record.resources.port_forwards),
  reads: () => [supervisorRead],
  slots: ["resources.port_forwards"],
  check: (ctx) => {
    const rec = ctx.record.resources.port_forwards;
    if (!ctx.k3d.dev_mode.port_forward_all) {
      return { diffs: [{ key: "dev_mode.port_forward_all", from: true, to: false }] };
    }
    const spec = devModeSpec(ctx);
    const running = ctx.live.now(supervisorRead);
    const want = `running, port offset ${spec.offset}`;
    if (!running) {
      return {
        diffs: [{
          key: "port-forward supervisor",
          from: rec ? "not running" : null,
          to: want,
          ...(rec ? { drift: true } : {}),
        }],
      };
    }
    if (running.offset !== spec.offset) {
      return {
        diffs: [{ key: "dev_mode.port_offset", from: running.offset, to: spec.offset }],
      };
    }
    if (running.only) {
      return {
        diffs: [{
          key: "port-forward supervisor",
          from: `only ${running.only.namespace}/${running.only.service}`,
          to: "every service",
        }],
      };
    }
    return { diffs: [], record: rec ?? { pid_file: spec.paths.pid, offset: spec.offset } };
  },
  apply: async (ctx) => {
    const spec = devModeSpec(ctx);
    const running = await runningSupervisor(spec.paths);
    if (running) await stopSupervisor(spec.paths);
    const stopped = running ? { offset: running.offset } : undefined;
    if (!ctx.k3d.dev_mode.port_forward_all) {
      delete ctx.record.resources.port_forwards;
      return { started: false, stopped };
    }
    const info = await startDetached(spec);
    ctx.notice(
      `port forwarding runs in the background (pid ${info.pid}); see \`firestream cluster port-forward --list\``,
    );
    ctx.record.resources.port_forwards = { pid_file: spec.paths.pid, offset: spec.offset };
    return { started: true, stopped };
  },
  // died while starting it: whatever runs now is stopped (found by its pid files), and the
  // supervisor of the record, if any, runs again as it was
  abandon: async (ctx) => {
    const spec = devModeSpec(ctx);
    const rec = ctx.record.resources.port_forwards;
    const running = await runningSupervisor(spec.paths);
    if (running && rec && running.offset === rec.offset && !running.only) return;
    await stopSupervisor(spec.paths);
    if (rec) await startDetached({ ...spec, offset: rec.offset });
  },
  rollback: async (ctx, undo) => {
    const spec = devModeSpec(ctx);
    if (undo.started) await stopSupervisor(spec.paths);
    if (undo.stopped) await startDetached({ ...spec, offset: undo.stopped.offset });
  },
};

export default portForward;
