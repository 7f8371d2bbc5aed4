/** The steps of `cluster stop`: the host stops asking kube-dns first, then the cluster stops. */
import type { ClusterContext } from "../context.ts";
import type { AnyTask } from "../../src/engine/task.ts";
import dns from "./01_dns.ts";
import cluster from "./02_cluster.ts";

/** Every task of a stop, in order. */
export const stopTasks: AnyTask<ClusterContext>[] = [dns, cluster];
