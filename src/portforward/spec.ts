/** The supervisor settings of a cluster, from its run context. */
import type { ClusterContext } from "../cluster/context.ts";
import type { SupervisorSpec } from "./control.ts";
import { forwardPaths } from "./files.ts";

/** Dev mode's supervisor for the cluster of `ctx`. */
export function devModeSpec(ctx: ClusterContext): SupervisorSpec {
  return {
    cluster: ctx.name,
    context: ctx.kubeContext,
    offset: ctx.k3d.dev_mode.port_offset,
    namespaces: ctx.k3d.dev_mode.namespaces,
    paths: forwardPaths({ projectDir: ctx.projectDir, stateDir: ctx.stateDir, cluster: ctx.name }),
  };
}
