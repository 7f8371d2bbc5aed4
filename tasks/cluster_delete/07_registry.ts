/** Delete the registry when this cluster's create made it and no other managed cluster uses it. */
import type { ClusterContext } from "../context.ts";
import type { Task } from "../../src/engine/task.ts";
import type { ContainerInfo } from "../../src/tools/docker.ts";
import { deleteRegistry } from "../../src/tools/k3d.ts";
import { clusterOfNetwork } from "../../src/tools/k3d_names.ts";
import { container, dockerRead } from "../reads.ts";

/** True when the registry must stay: not ours, shared, or kept by flag. */
export function keepRegistry(ctx: ClusterContext): string | undefined {
  const reg = ctx.record.resources.registry;
  if (!reg) return "none recorded";
  if (!reg.created) return `${reg.container} existed before firestream used it`;
  if (ctx.options.keepRegistry) return "--keep-registry";
  const users = Object.values(ctx.state.clusters).filter((c) =>
    c.name !== ctx.name && c.resources.registry?.container === reg.container
  );
  if (users.length) return `cluster ${users.map((u) => u.name).join(", ")} still uses it`;
  return undefined;
}

/**
 * A cluster of another state folder (or made by hand) that the registry is joined to: k3d joins a
 * registry to each cluster's network `k3d-<cluster>`, so the registry's networks say who uses it.
 */
export function usedElsewhere(
  info: ContainerInfo | undefined,
  cluster: string,
): string | undefined {
  const others = Object.keys(info?.NetworkSettings.Networks ?? {})
    .map(clusterOfNetwork).filter((c) => c !== undefined && c !== cluster);
  return others.length ? `cluster ${others.join(", ")} still uses it` : undefined;
}

const registry: Task<ClusterContext, null> = {
  id: "delete-registry",
  title: "Delete local registry",
  enabled: (ctx) => ctx.record.resources.registry !== undefined,
  reads: () => [dockerRead],
  slots: ["resources.registry"],
  check: (ctx) => {
    const reg = ctx.record.resources.registry!;
    const reason = keepRegistry(ctx) ?? usedElsewhere(container(ctx, reg.container), ctx.name);
    // kept, or gone already: either way the record lets go of it
    if (reason) {
      return { diffs: [], record: null, note: `keeping registry ${reg.container}: ${reason}` };
    }
    if (!container(ctx, reg.container)) return { diffs: [], record: null };
    return { diffs: [{ key: "registry", from: reg.container, to: null }] };
  },
  apply: async (ctx) => {
    await deleteRegistry(ctx.record.resources.registry!.container);
    delete ctx.record.resources.registry;
    return null;
  },
  rollback: () => Promise.resolve(),
};

export default registry;
