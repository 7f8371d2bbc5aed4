/** What every cluster task works with. */
import type { Config, K3dConfig } from "../src/config/schema.ts";
import type { ClusterRecord, StateDocument } from "../src/state/document.ts";
import { LiveCache as Snapshot, type Read as AnyRead } from "../src/engine/snapshot.ts";
import { listClusters } from "../src/tools/k3d.ts";

/** The live facts of a cluster run. */
export class LiveCache extends Snapshot<ClusterContext> {}

/** One live fact a cluster step reads. */
export type Read<T> = AnyRead<ClusterContext, T>;

/**
 * `k3d cluster list`: every cluster with its nodes. The read every cluster command makes, and the
 * only one that needs no context: a command may {@link LiveCache.begin} it before its steps load.
 */
export const clustersRead = {
  key: "k3d:clusters",
  fetch: () => listClusters(),
} satisfies Read<unknown>;

/** Options from the command line that change how tasks behave. */
export interface ClusterRunOptions {
  /** replace conflicting host routes */
  force?: boolean;
  /** skip routes, DNS and /etc/hosts */
  skipHostNetwork?: boolean;
  /** a failed DNS test is an error */
  strict?: boolean;
  /** create --clean: the existing cluster is deleted first, managed or not */
  clean?: boolean;
  /** delete: keep the registry even when no other cluster uses it */
  keepRegistry?: boolean;
  /** delete: remove the cluster's certificate files */
  purgeCerts?: boolean;
}

/** The context of one run for one cluster. */
export interface ClusterContext {
  config: Config;
  k3d: K3dConfig;
  /** cluster name */
  name: string;
  /** kubeconfig context, `k3d-<name>` */
  kubeContext: string;
  projectDir: string;
  stateDir: string;
  /** the state as read at the start of the run (other clusters, for clashes and sharing) */
  state: StateDocument;
  /** this cluster's record; tasks update `resources`, the runner persists it */
  record: ClusterRecord;
  options: ClusterRunOptions;
  /** a line for the user (warnings, skipped steps with their reason) */
  notice: (message: string) => void;
  signal?: AbortSignal;
  /** read-only answers shared by the tasks of one run (e.g. `k3d cluster list`) */
  live: LiveCache;
  /** what a step's check found changed on the machine since it was recorded, by task id (a plan shows it as drift) */
  drift?: Record<string, { key: string; from?: unknown; to?: unknown }[]>;
  /**
   * after one sub-change of a step (one agent removed): earlier reads are stale and the record, as
   * the step has updated it, reaches the state file before the next sub-change
   */
  checkpoint?: () => Promise<void>;
}

/** A fresh record for a cluster about to be created. */
export function newRecord(k3d: K3dConfig, projectDir: string, configFile?: string): ClusterRecord {
  return {
    name: k3d.name,
    cluster_type: "k3d",
    managed: true,
    k3d_config: k3d,
    project_dir: projectDir,
    ...(configFile ? { config_file: configFile } : {}),
    resources: {},
  };
}
