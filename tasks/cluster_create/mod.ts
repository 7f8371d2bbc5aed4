/** The steps of `cluster create`, in run order. */
import type { ClusterContext } from "../../src/cluster/context.ts";
import type { AnyTask } from "../../src/engine/task.ts";
import preflight from "./01_preflight.ts";
import registry from "./02_registry.ts";
import cluster from "./03_cluster.ts";
import ready from "./04_ready.ts";

/** Every task of a create, in order. */
export const createTasks: AnyTask<ClusterContext>[] = [preflight, registry, cluster, ready];
