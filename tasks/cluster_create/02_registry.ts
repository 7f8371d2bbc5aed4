/** Local registry: `k3d registry create <name> --port 127.0.0.1:<port>`, reused when healthy, never removed if it predates this run. */
import type { ClusterContext } from "../../src/cluster/context.ts";
import { HOST_IP } from "../../src/cluster/k3d_config.ts";
import { waitForRegistry } from "../../src/cluster/registry_health.ts";
import type { Task } from "../../src/engine/task.ts";
import { FirestreamError } from "../../src/errors.ts";
import type { ClusterResources } from "../../src/state/document.ts";
import { type ContainerInfo, inspectContainer } from "../../src/tools/docker.ts";
import { createRegistry, deleteRegistry, registryContainer } from "../../src/tools/k3d.ts";

/** What rollback needs. */
export interface RegistryUndo {
  container: string;
  /** the record entry before this run */
  previous?: ClusterResources["registry"];
}

/** Bound on waiting for a new registry to answer. */
export const REGISTRY_WAIT_MS = 30000;

function publishedPort(info: ContainerInfo): number | undefined {
  const binding = info.HostConfig.PortBindings?.["5000/tcp"]?.[0];
  return binding ? Number(binding.HostPort) : undefined;
}

/** Why the existing registry container is not usable, or undefined when it is. */
async function problem(ctx: ClusterContext, info: ContainerInfo): Promise<string | undefined> {
  if (!info.State.Running) return `is ${info.State.Status}`;
  const port = publishedPort(info);
  if (port !== ctx.k3d.registry.port) {
    return `publishes port ${port ?? "none"}, not ${ctx.k3d.registry.port}`;
  }
  if (!(await waitForRegistry(ctx.k3d.registry.port, { timeoutMs: 3000 }))) {
    return `does not answer on http://${HOST_IP}:${ctx.k3d.registry.port}/v2/`;
  }
  return undefined;
}

function otherUsers(ctx: ClusterContext, container: string): string[] {
  return Object.values(ctx.state.clusters).filter((c) =>
    c.name !== ctx.name && c.resources.registry?.container === container
  ).map((c) => c.name);
}

const registry: Task<ClusterContext, RegistryUndo> = {
  id: "registry",
  title: "Local registry",
  enabled: (ctx) => ctx.k3d.registry.enabled,
  check: async (ctx) => {
    const container = registryContainer(ctx.k3d.registry.name);
    const info = await ctx.live.get(
      `docker:inspect:${container}`,
      () => inspectContainer(container),
    );
    if (!info || (await problem(ctx, info))) return false;
    // in use as it is: record it, as created by us only if an earlier run created it
    const previous = ctx.record.resources.registry;
    ctx.record.resources.registry = {
      name: ctx.k3d.registry.name,
      container,
      host: HOST_IP,
      port: ctx.k3d.registry.port,
      created: previous?.container === container ? previous.created : false,
    };
    return true;
  },
  apply: async (ctx) => {
    const { name, port } = ctx.k3d.registry;
    const container = registryContainer(name);
    const previous = ctx.record.resources.registry;
    const info = await ctx.live.get(
      `docker:inspect:${container}`,
      () => inspectContainer(container),
    );
    if (info) {
      const why = await problem(ctx, info);
      const users = otherUsers(ctx, container);
      const ours = previous?.container === container && previous.created;
      if (!ours && users.length) {
        throw new FirestreamError(
          `registry ${container} ${why}, and cluster ${users.join(", ")} uses it`,
          {
            hint:
              `repair it (e.g. \`docker start ${container}\`) or give this cluster its own registry name`,
          },
        );
      }
      ctx.notice(`registry ${container} ${why}: recreating it`);
      await deleteRegistry(container);
    }
    await createRegistry(name, { hostIp: HOST_IP, port });
    ctx.live.forget("docker:");
    if (!(await waitForRegistry(port, { timeoutMs: REGISTRY_WAIT_MS }))) {
      await deleteRegistry(container).catch(() => {});
      throw new FirestreamError(
        `registry ${container} did not answer on http://${HOST_IP}:${port}/v2/ within ${
          REGISTRY_WAIT_MS / 1000
        }s`,
        { hint: "check `docker logs " + container + "`; is Docker able to publish the port?" },
      );
    }
    ctx.record.resources.registry = { name, container, host: HOST_IP, port, created: true };
    return { container, previous };
  },
  abandon: async (ctx) => {
    const container = registryContainer(ctx.k3d.registry.name);
    // recorded before the run: it predates the interrupted create, leave it
    if (ctx.record.resources.registry?.container === container) return;
    if (await inspectContainer(container)) await deleteRegistry(container);
    ctx.live.forget("docker:");
  },
  rollback: async (ctx, undo) => {
    await deleteRegistry(undo.container);
    ctx.live.forget("docker:");
    if (undo.previous) ctx.record.resources.registry = undo.previous;
    else delete ctx.record.resources.registry;
  },
};

export default registry;
