/** Cluster: write k3d's config under the state dir and `k3d cluster create --config <file>`; start it when stopped. */
import type { ClusterContext } from "../context.ts";
import { HOST_IP, k3dConfigYaml } from "../../src/tools/k3d_config.ts";
import { waitForRegistry } from "../../src/tools/registry_health.ts";
import { REGISTRY_WAIT_MS } from "./02_registry.ts";
import { k3dConfigPath, registryContainerOf } from "../../src/tools/k3d_names.ts";
import type { Task } from "../../src/engine/task.ts";
import { FirestreamError } from "../../src/errors.ts";
import { writeFileAtomic } from "../../src/state/fs.ts";
import { createCluster, deleteCluster, findCluster, startCluster } from "../../src/tools/k3d.ts";
import { runningSupervisor, startDetached } from "../../src/portforward/control.ts";
import { devModeSpec } from "../../src/portforward/spec.ts";
import { clustersRead, liveCluster } from "../reads.ts";

/** What rollback needs. */
export interface ClusterUndo {
  action: "created" | "started";
}

/** Bound on k3d's own wait for the cluster. */
/**
 * Waits for the registry k3d made with the cluster to answer; what went wrong when it does not
 * (the steps after the cluster's push to it).
 */
async function registryDown(ctx: ClusterContext, container: string): Promise<string | undefined> {
  const port = ctx.k3d.registry.port;
  if (await waitForRegistry(port, { timeoutMs: REGISTRY_WAIT_MS })) return undefined;
  return `registry ${container} (made with the cluster) did not answer on http://${HOST_IP}:${port}/v2/ within ${
    REGISTRY_WAIT_MS / 1000
  }s`;
}

export const CLUSTER_TIMEOUT_S = 300;

/** The cluster's record without the mark of `firestream cluster stop` (it runs again). */
function runningRecord(
  rec: ClusterContext["record"]["resources"]["cluster"],
): ClusterContext["record"]["resources"]["cluster"] {
  if (!rec?.stopped_at && !rec?.paused_forwards) return rec;
  const { stopped_at: _, paused_forwards: __, ...running } = rec;
  return running;
}

const cluster: Task<ClusterContext, ClusterUndo> = {
  id: "cluster",
  title: "k3d cluster",
  // certificates are made meanwhile; the cluster waits only for its registry
  needs: ["registry"],
  reads: () => [clustersRead],
  slots: ["resources.cluster"],
  check: (ctx) => {
    const found = liveCluster(ctx);
    if (!found) {
      const recorded = Boolean(ctx.record.resources.cluster);
      return {
        action: "create",
        diffs: [{
          key: "cluster",
          from: recorded ? "missing" : null,
          to: ctx.name,
          ...(recorded ? { drift: true } : {}),
        }],
      };
    }
    const stopped = found.nodes.filter((n) => !n.State.Running).map((n) => n.name);
    if (stopped.length) {
      const ours = ctx.record.resources.cluster?.stopped_at;
      return {
        diffs: [{ key: "running", from: false, to: true, ...(ours ? {} : { drift: true }) }],
        note: `${
          ours ? "stopped by `firestream cluster stop`: " : ""
        }stopped nodes will be started: ${stopped.join(", ")}`,
      };
    }
    // made by a run that died before recording it: the record of this managed cluster adopts it
    return {
      diffs: [],
      record: runningRecord(ctx.record.resources.cluster) ?? {
        config_file: k3dConfigPath(ctx.stateDir, ctx.name),
        context: ctx.kubeContext,
        created: true,
        created_at: new Date().toISOString(),
      },
    };
  },
  abandon: async (ctx) => {
    if (ctx.record.resources.cluster) return;
    if (await findCluster(ctx.name)) await deleteCluster(ctx.name);
    await Deno.remove(k3dConfigPath(ctx.stateDir, ctx.name)).catch(() => {});
  },
  apply: async (ctx) => {
    const found = await findCluster(ctx.name);
    if (found?.nodes.every((n) => n.State.Running)) {
      throw new FirestreamError(`cluster ${ctx.name} runs, but not as the config wants`, {
        hint: "`firestream plan` shows what must change",
      });
    }
    if (found) {
      ctx.notice(`cluster ${ctx.name} is stopped: starting it`);
      await startCluster(ctx.name);
      // a registry k3d made with the cluster starts with it: the steps after this one push to it
      const reg = ctx.record.resources.registry;
      if (ctx.k3d.registry.enabled && reg?.with_cluster) {
        const down = await registryDown(ctx, reg.container);
        if (down) {
          throw new FirestreamError(`${down} of the cluster's start`, {
            hint: `\`docker logs ${reg.container}\` says why; then \`firestream apply\``,
          });
        }
      }
      // the forwarding `cluster stop` paused comes back with the cluster (dev mode's own, if it
      // is on, is the port-forward step's)
      const paused = ctx.record.resources.cluster?.paused_forwards;
      if (paused && !ctx.k3d.dev_mode.port_forward_all) {
        const spec = devModeSpec(ctx);
        if (!(await runningSupervisor(spec.paths))) {
          const info = await startDetached({ ...spec, offset: paused.offset, only: paused.only });
          ctx.notice(`port forwarding runs again (pid ${info.pid})`);
        }
      }
      ctx.record.resources.cluster = runningRecord(ctx.record.resources.cluster);
      return { action: "started" };
    }
    const file = k3dConfigPath(ctx.stateDir, ctx.name);
    // the registry step came first (`needs`): its record names the container the cluster uses,
    // or the one k3d makes with the cluster under that exact name
    const recorded = ctx.record.resources.registry;
    const registry = ctx.k3d.registry.enabled
      ? registryContainerOf(ctx.k3d.registry.name, { recorded })
      : undefined;
    const withCluster = registry !== undefined && recorded?.container === registry &&
      recorded.with_cluster === true;
    await Deno.mkdir(`${ctx.stateDir}/k3d`, { recursive: true });
    await writeFileAtomic(
      file,
      await k3dConfigYaml(ctx.k3d, registry, {
        timeoutSeconds: CLUSTER_TIMEOUT_S,
        registryWithCluster: withCluster,
      }),
    );
    try {
      // k3d rolls back its own half-made cluster (its registry too); the config file is ours to remove
      await createCluster(file, { timeoutMs: (CLUSTER_TIMEOUT_S + 60) * 1000 });
    } catch (err) {
      await Deno.remove(file).catch(() => {});
      throw err;
    }
    const down = withCluster ? await registryDown(ctx, registry) : undefined;
    if (down) {
      // the registry's failure is the one to report, whatever the delete says
      await deleteCluster(ctx.name).catch(() => {});
      await Deno.remove(file).catch(() => {});
      throw new FirestreamError(`${down}; the cluster was deleted again`, {
        hint: `is Docker able to publish port ${ctx.k3d.registry.port}?`,
      });
    }
    ctx.record.resources.cluster = {
      config_file: file,
      context: ctx.kubeContext,
      created: true,
      created_at: new Date().toISOString(),
    };
    return { action: "created" };
  },
  rollback: async (ctx, undo) => {
    if (undo.action === "created") {
      await deleteCluster(ctx.name);
      await Deno.remove(k3dConfigPath(ctx.stateDir, ctx.name)).catch(() => {});
    }
  },
};

export default cluster;
