/**
 * The steps of `cluster stop`: port forwarding pauses, the host stops asking kube-dns, then the
 * cluster stops.
 */
import type { ClusterContext } from "../context.ts";
import type { AnyTask } from "../../src/engine/task.ts";
import forwards from "./00_port_forward.ts";
import dns from "./01_dns.ts";
import cluster from "./02_cluster.ts";

/** Every task of a stop, in order. */
export const stopTasks: AnyTask<ClusterContext>[] = [forwards, dns, cluster];
