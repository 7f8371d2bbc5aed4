/** The steps of `cluster create` (and `apply`), in run order. */
import type { ClusterContext } from "../../src/cluster/context.ts";
import type { AnyTask } from "../../src/engine/task.ts";
import preflight from "./01_preflight.ts";
import registry from "./02_registry.ts";
import cluster from "./03_cluster.ts";
import agents from "./04_agents.ts";
import ready from "./05_ready.ts";

/** Every task of a create, in order. */
export const createTasks: AnyTask<ClusterContext>[] = [preflight, registry, cluster, agents, ready];
