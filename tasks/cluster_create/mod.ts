/** The steps of `cluster create` (and `apply`), in run order. */
import type { ClusterContext } from "../context.ts";
import type { AnyTask } from "../../src/engine/task.ts";
import preflight from "./01_preflight.ts";
import registry from "./02_registry.ts";
import tlsCert from "./03_tls_cert.ts";
import cluster from "./04_cluster.ts";
import agents from "./05_agents.ts";
import ready from "./06_ready.ts";
import tlsSecret from "./07_tls_secret.ts";
import routes from "./08_routes.ts";
import dns from "./09_dns.ts";
import hosts from "./10_hosts.ts";
import portForward from "./11_port_forward.ts";
import ingressDns from "./12_ingress_dns.ts";

/**
 * Every task of a create, in order. `needs` lets independent steps overlap: certificates and the
 * hosts block are made while the registry and cluster start; routes then DNS follow the cluster.
 */
export const createTasks: AnyTask<ClusterContext>[] = [
  preflight,
  registry,
  tlsCert,
  cluster,
  agents,
  ready,
  tlsSecret,
  ingressDns,
  routes,
  dns,
  hosts,
  portForward,
];
