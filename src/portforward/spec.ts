/** What a supervisor runs with, and dev mode's settings of a cluster from what its run knows. */
import type { K3dConfig } from "../config/schema.ts";
import { type ForwardPaths, forwardPaths } from "./files.ts";

/** Everything a supervisor process needs, passed to the detached one as JSON. */
export interface SupervisorSpec {
  cluster: string;
  context: string;
  offset: number;
  namespaces: string[];
  only?: { namespace: string; service: string };
  paths: ForwardPaths;
  /** how often the services and their pods are looked at (ms) */
  pollMs?: number;
  /** forwards starting at once (default: `POOL_SIZE` of supervisor.ts) */
  pool?: number;
  /** a kubectl that has not answered by then is reported as still starting (ms) */
  startDeadlineMs?: number;
}

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
