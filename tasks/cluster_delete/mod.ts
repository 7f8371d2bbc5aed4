/** The steps of `cluster delete`: everything a create did, undone in reverse. */
import type { ClusterContext } from "../../src/cluster/context.ts";
import type { AnyTask } from "../../src/engine/task.ts";
import cluster from "./05_cluster.ts";
import registry from "./06_registry.ts";

/** Every task of a delete, in order. */
export const deleteTasks: AnyTask<ClusterContext>[] = [cluster, registry];
