/** The steps of `cluster delete`: everything a create did, undone in reverse. */
import type { ClusterContext } from "../context.ts";
import type { AnyTask } from "../../src/engine/task.ts";
import portForward from "./01_port_forward.ts";
import hosts from "./02_hosts.ts";
import dns from "./03_dns.ts";
import routes from "./04_routes.ts";
import tlsSecret from "./05_tls_secret.ts";
import cluster from "./06_cluster.ts";
import registry from "./07_registry.ts";
import certs from "./08_certs.ts";
import ingressDns from "./09_ingress_dns.ts";

/** Every task of a delete, in order. */
export const deleteTasks: AnyTask<ClusterContext>[] = [
  portForward,
  hosts,
  dns,
  routes,
  ingressDns,
  tlsSecret,
  cluster,
  registry,
  certs,
];
