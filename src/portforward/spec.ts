/** The supervisor settings of a cluster, from what its run knows. */
import type { K3dConfig } from "../config/schema.ts";
import type { SupervisorSpec } from "./control.ts";
import { forwardPaths } from "./files.ts";

/** What {@link devModeSpec} reads of a cluster's run (a cluster context has all of it). */
export interface DevModeRun {
  /** cluster name */
  name: string;
  kubeContext: string;
  k3d: Pick<K3dConfig, "dev_mode">;
  projectDir: string;
  stateDir: string;
}

/** Dev mode's supervisor for the cluster of `ctx`. */
export function devModeSpec(ctx: DevModeRun): SupervisorSpec {
  return {
    cluster: ctx.name,
    context: ctx.kubeContext,
    offset: ctx.k3d.dev_mode.port_offset,
    namespaces: ctx.k3d.dev_mode.namespaces,
    paths: forwardPaths({ projectDir: ctx.projectDir, stateDir: ctx.stateDir, cluster: ctx.name }),
  };
}
