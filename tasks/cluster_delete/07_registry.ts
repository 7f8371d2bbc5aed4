/**
 * Delete the registry when firestream made it and no other cluster, of this folder or another, uses
 * it; one k3d made with the cluster is already gone with it.
 */
import type { ClusterContext } from "../context.ts";
import type { Task } from "../../src/engine/task.ts";
import { deleteRegistry } from "../../src/tools/k3d.ts";
import { describeUsers, type ManagedCluster, usersOf } from "../../src/state/owners.ts";
import { container, dockerRead, ownersRead, usedElsewhere } from "../reads.ts";

/** Why the registry must stay (not ours, shared, or kept by flag), given every managed cluster. */
export function keepRegistry(
  ctx: Pick<ClusterContext, "name" | "record" | "state" | "options">,
  machine: ManagedCluster[],
): string | undefined {
  const reg = ctx.record.resources.registry;
  if (!reg) return "none recorded";
  // one k3d made with the cluster goes with it, whoever made it (pkg/client/cluster.go:619-651)
  if (!reg.with_cluster) {
    if (!reg.created) return `${reg.container} existed before firestream used it`;
    if (ctx.options.keepRegistry) return "--keep-registry";
  }
  const users = usersOf(
    ctx.state,
    machine,
    ctx.name,
    (c) => c.resources.registry?.container === reg.container,
  );
  return users.length ? describeUsers(users) : undefined;
}

const registry: Task<ClusterContext, null> = {
  id: "delete-registry",
  title: "Delete local registry",
  enabled: (ctx) => ctx.record.resources.registry !== undefined,
  reads: () => [dockerRead, ownersRead],
  slots: ["resources.registry"],
  check: (ctx) => {
    const reg = ctx.record.resources.registry!;
    const reason = keepRegistry(ctx, ctx.live.now(ownersRead)) ??
      usedElsewhere(container(ctx, reg.container), ctx.name);
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
