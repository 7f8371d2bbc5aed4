/** Delete the registry when this cluster's create made it and no other managed cluster uses it. */
import type { ClusterContext } from "../../src/cluster/context.ts";
import type { Task } from "../../src/engine/task.ts";
import { inspectContainer } from "../../src/tools/docker.ts";
import { deleteRegistry } from "../../src/tools/k3d.ts";

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

const registry: Task<ClusterContext, null> = {
  id: "delete-registry",
  title: "Delete local registry",
  enabled: (ctx) => ctx.record.resources.registry !== undefined,
  check: async (ctx) => {
    const reason = keepRegistry(ctx);
    const reg = ctx.record.resources.registry!;
    if (reason) {
      ctx.notice(`keeping registry ${reg.container}: ${reason}`);
      delete ctx.record.resources.registry;
      return true;
    }
    const gone = !(await inspectContainer(reg.container));
    if (gone) delete ctx.record.resources.registry;
    return gone;
  },
  apply: async (ctx) => {
    await deleteRegistry(ctx.record.resources.registry!.container);
    delete ctx.record.resources.registry;
    return null;
  },
  rollback: () => Promise.resolve(),
};

export default registry;
