/** The live view of clusters: status, nodes, endpoints, registry health; and import of unmanaged clusters. */
import { validate } from "../config/load.ts";
import type { K3dConfig } from "../config/schema.ts";
import type { ClusterRecord, StateDocument, UnpublishedPort } from "../state/document.ts";
import { addressOn, inspectContainer } from "../tools/docker.ts";
import {
  apiBinding,
  type K3dCluster,
  type K3dNode,
  lbBinding,
  listClusters,
  listRegistries,
} from "../tools/k3d.ts";
import { getJson, type KubeObject } from "../tools/kubectl.ts";
import { readBlock } from "../host/block.ts";
import { type DnsStanding, dnsStanding, hasResolvConfBlocks } from "../host/dns.ts";
import { type IngressStanding, ingressStanding } from "../host/ingress_dns.ts";
import { type IpRoute, mainRoutes } from "../host/routes.ts";
import { readSystemFile } from "../host/system_file.ts";
import { listForwards } from "../portforward/control.ts";
import { forwardPaths } from "../portforward/files.ts";
import { registryAnswers } from "../tools/registry_health.ts";
import {
  clusterNetwork,
  kubeconfigContext,
  registryName,
  serverContainer,
} from "../tools/k3d_names.ts";

import { folderOf, machineClusters, managedElsewhere } from "../state/owners.ts";

/** Overall status of a cluster. */
export type ClusterStatus = "running" | "stopped" | "degraded" | "missing" | "drifted";

/** What `cluster info` and `cluster list` show. */
export interface ClusterView {
  name: string;
  managed: boolean;
  /** the project folder of the state that manages it, when another state does */
  managed_from?: string;
  importable: boolean;
  status: ClusterStatus;
  drift: string[];
  servers: { running: number; total: number; desired?: number };
  agents: { running: number; total: number; desired?: number };
  api?: string;
  context: string;
  /** the config profile the cluster was last applied with */
  profile?: string;
  /** the nodes' kubelet versions: measured by `cluster info` only (absent from `cluster list`) */
  k3s_versions?: string[];
  registry?: {
    name: string;
    container: string;
    url: string;
    /** `/v2/` answered: measured by `cluster info` only (absent from `cluster list`) */
    healthy?: boolean;
    created_by_firestream: boolean;
  };
  tls?: {
    subject: string;
    sans: string[];
    not_after: string;
    days_left: number;
    secret: string;
    secret_present: Record<string, boolean>;
  };
  host?: {
    /** `present`: the kernel routes the CIDR to the server's current address; `stale`: the server moved away from `via` */
    routes: { cidr: string; via: string; present: boolean; stale: boolean }[];
    dns?: {
      mode: string;
      server: string;
      interface?: string;
      file?: string;
      /** resolv.conf mode: whether the cluster's blocks are in the file */
      present?: boolean;
      /** what the host's DNS makes of the cluster's state, with the fix */
      standing: DnsStanding;
    };
    hosts_block?: { file: string; present: boolean; lines: string[] };
  };
  /** the ingress domain: what its names answer with, and whether one resolves on the host now */
  ingress?: IngressStanding;
  /** recorded values a flag set for one run (key → `--agents 3`) */
  set_by_flags?: Record<string, string>;
  /** runs a dead process left unfinished (`cluster info` only) */
  unfinished_runs?: { message: string; command: string; run: string }[];
  forwards?: {
    running: boolean;
    pid?: number;
    count: number;
    up: number;
    /** each forwarded port: where it listens and the pod it goes to (null: waiting) */
    ports: {
      service: string;
      port: number;
      local_port: number;
      status: string;
      pod: string | null;
    }[];
  };
  /** the Docker engine does not answer: the cluster is down with it */
  docker_down?: boolean;
  resources?: ClusterRecord["resources"];
}

function count(nodes: K3dNode[], role: string) {
  const of = nodes.filter((n) => n.role === role);
  return { running: of.filter((n) => n.State.Running).length, total: of.length };
}

/** The first server's current address on the cluster network, when it runs. */
async function serverAddress(name: string): Promise<string | undefined> {
  const info = await inspectContainer(serverContainer(name)).catch(() => undefined);
  return info ? addressOn(info, clusterNetwork(name)) : undefined;
}

/** Differences between the recorded config and the live cluster. */
export function driftOf(record: ClusterRecord, live: K3dCluster): string[] {
  const k = record.k3d_config;
  const drift: string[] = [];
  const servers = live.nodes.filter((n) => n.role === "server").length;
  const agents = live.nodes.filter((n) => n.role === "agent").length;
  if (servers !== k.servers) drift.push(`servers: ${k.servers} recorded, ${servers} live`);
  if (agents !== k.agents) drift.push(`agents: ${k.agents} recorded, ${agents} live`);
  const api = apiBinding(live)?.HostPort;
  if (api && Number(api) !== k.api_port) {
    drift.push(`api_port: ${k.api_port} recorded, ${api} live`);
  }
  return drift;
}

/** Builds the view of one cluster from state and live data. */
export async function viewCluster(
  name: string,
  record: ClusterRecord | undefined,
  live: K3dCluster | undefined,
  options: {
    deep?: boolean;
    projectDir?: string;
    stateDir?: string;
    dockerDown?: boolean;
    /** the live facts, already asked for (see {@link liveFacts}) */
    facts?: Promise<LiveFacts>;
    /** the folder of the state that manages it, when another one does */
    managedFrom?: string;
  } = {},
): Promise<ClusterView> {
  const nodes = live?.nodes ?? [];
  const servers = count(nodes, "server");
  const agents = count(nodes, "agent");
  const drift = record && live ? driftOf(record, live) : [];
  let status: ClusterStatus;
  if (options.dockerDown) status = "stopped";
  else if (!live) status = "missing";
  else if (servers.running === 0) status = "stopped";
  else if (servers.running < servers.total || agents.running < agents.total) status = "degraded";
  else status = drift.length ? "drifted" : "running";
  const binding = live ? apiBinding(live) : undefined;
  const view: ClusterView = {
    name,
    managed: record !== undefined && !options.managedFrom,
    ...(options.managedFrom ? { managed_from: options.managedFrom } : {}),
    importable: record === undefined && live !== undefined && !options.managedFrom,
    status,
    drift,
    servers: { ...servers, desired: record?.k3d_config.servers },
    agents: { ...agents, desired: record?.k3d_config.agents },
    api: binding
      ? `https://${binding.HostIp === "0.0.0.0" ? "127.0.0.1" : binding.HostIp}:${binding.HostPort}`
      : undefined,
    context: kubeconfigContext(name),
    ...(record?.profile ? { profile: record.profile } : {}),
    resources: record?.resources,
    ...(record?.set_by_flags ? { set_by_flags: record.set_by_flags } : {}),
    ...(options.dockerDown ? { docker_down: true } : {}),
  };
  const running = live !== undefined && servers.running > 0;
  const reg = record?.resources.registry;
  if (reg) {
    view.registry = {
      name: reg.name,
      container: reg.container,
      url: `http://${reg.host}:${reg.port}`,
      created_by_firestream: reg.created,
    };
  }
  // `cluster list` shows what k3d's list says; health and versions are asked by `cluster info`
  if (!options.deep) return view;
  const facts = await (options.facts ?? liveFacts(name, record, running));
  // asked before k3d said whether the cluster runs: a stopped one's answers are not used
  const kube = running ? facts.kube : undefined;
  const { server, routes, healthy } = facts;
  const items = (kube?.items ?? []) as KubeObject[];
  view.k3s_versions = [
    ...new Set<string>(
      items.filter((i) => i.kind === "Node").map((n) => n.status?.nodeInfo?.kubeletVersion),
    ),
  ].filter(Boolean);
  if (view.registry) view.registry.healthy = healthy;
  if (record) {
    const secrets = items.filter((i) => i.kind === "Secret");
    await addDetails(view, record, { running, secrets, server, routes }, options);
  }
  return view;
}

/** What `cluster info` reads beside `k3d cluster list`. */
export interface LiveFacts {
  kube?: KubeObject;
  server?: string;
  routes?: IpRoute[];
  healthy: boolean;
}

/**
 * The live facts of a cluster's view, asked all at once: nodes and secrets, the server's address,
 * the routes and the registry. Start it with `k3d cluster list` to have everything in one round.
 */
export async function liveFacts(
  name: string,
  record: ClusterRecord | undefined,
  running = true,
): Promise<LiveFacts> {
  const reg = record?.resources.registry;
  const routed = Boolean(record?.resources.routes?.length);
  const [kube, server, routes, healthy] = await Promise.all([
    running
      ? getJson(kubeconfigContext(name), ["nodes,secrets", "--all-namespaces"]).catch(() =>
        undefined
      )
      : undefined,
    routed ? serverAddress(name) : undefined,
    routed ? mainRoutes().catch(() => undefined) : undefined,
    reg ? registryAnswers(reg.port) : false,
  ]);
  return { kube, server, routes, healthy };
}

async function addDetails(
  view: ClusterView,
  record: ClusterRecord,
  facts: { running: boolean; secrets: KubeObject[]; server?: string; routes?: IpRoute[] },
  options: { projectDir?: string; stateDir?: string },
): Promise<void> {
  const r = record.resources;
  if (r.tls) {
    const present: Record<string, boolean> = {};
    if (facts.running) {
      for (const ns of r.tls.secret.namespaces) {
        present[ns] = facts.secrets.some((x) =>
          x.metadata.name === r.tls!.secret.name && x.metadata.namespace === ns
        );
      }
    }
    view.tls = {
      subject: r.tls.subject,
      sans: r.tls.sans,
      not_after: r.tls.not_after,
      days_left: Math.floor((Date.parse(r.tls.not_after) - Date.now()) / 86400_000),
      secret: r.tls.secret.name,
      secret_present: present,
    };
  }
  // compared with where the server is now: a restart can give it another address
  const routes = [];
  const server = facts.server;
  for (const route of r.routes ?? []) {
    const cur = facts.routes?.find((x) => x.dst === route.cidr);
    const target = server ?? route.via;
    const stale = server !== undefined && server !== route.via;
    routes.push({ cidr: route.cidr, via: route.via, present: cur?.gateway === target, stale });
    if (stale) {
      view.drift.push(
        `route ${route.cidr}: via ${route.via} recorded, the server is now ${server}`,
      );
    }
  }
  if (view.drift.length && view.status === "running") view.status = "drifted";
  view.host = { routes };
  if (r.dns) {
    const present = r.dns.mode === "resolv.conf"
      ? hasResolvConfBlocks(await readSystemFile(r.dns.file!), record.name)
      : undefined;
    const liveness = view.docker_down
      ? "docker-down"
      : view.status === "missing" || view.status === "stopped"
      ? view.status
      : "running";
    view.host.dns = {
      mode: r.dns.mode,
      server: r.dns.server,
      interface: r.dns.interface,
      file: r.dns.file,
      present,
      standing: dnsStanding(r.dns, { cluster: record.name, liveness, blocks: present ?? false }),
    };
  }
  if (r.ingress_dns) {
    view.ingress = await ingressStanding(r.ingress_dns, {
      running: facts.running,
      fallbackHosts: r.hosts_block?.ingress_hosts,
    });
  }
  if (r.hosts_block) {
    const text = await readSystemFile(r.hosts_block.file);
    view.host.hosts_block = {
      file: r.hosts_block.file,
      present: readBlock(text, record.name) !== undefined,
      lines: r.hosts_block.lines,
    };
  }
  if (options.projectDir && options.stateDir) {
    const paths = forwardPaths({
      projectDir: record.project_dir ?? options.projectDir,
      stateDir: options.stateDir,
      cluster: record.name,
    });
    const { running: sup, entries: listed } = await listForwards(paths);
    // the mappings file is the project's: its rows are this cluster's only when this cluster's
    // supervisor runs or ever ran here (its log exists)
    const ours = sup || await Deno.stat(paths.events).then(() => true, () => false);
    const entries = ours ? listed : [];
    view.forwards = {
      running: Boolean(sup),
      pid: sup?.pid,
      count: entries.length,
      up: entries.filter((e) => e.status === "up").length,
      ports: entries.map((e) => ({
        service: `${e.namespace}/${e.service}`,
        port: e.port,
        local_port: e.local_port,
        status: e.status,
        pod: e.pod ?? null,
      })),
    };
  }
}

/** Every managed cluster and every k3d cluster, managed first. */
export async function viewAll(state: StateDocument): Promise<ClusterView[]> {
  const [live, machine] = await Promise.all([listClusters(), machineClusters()]);
  const names = [...new Set([...Object.keys(state.clusters), ...live.map((c) => c.name)])];
  const views = await Promise.all(
    names.map((n) => {
      const other = managedElsewhere(machine, n, state.lineage);
      return viewCluster(n, state.clusters[n], live.find((c) => c.name === n), {
        managedFrom: other ? folderOf(other.mark) : undefined,
      });
    }),
  );
  return views.sort((a, b) =>
    Number(b.managed) - Number(a.managed) || a.name.localeCompare(b.name)
  );
}

/** Reads an unmanaged cluster's shape from k3d and Docker into a `[cluster.k3d]` config. */
export async function discoverConfig(
  live: K3dCluster,
): Promise<
  {
    k3d: K3dConfig;
    registry?: { container: string; port: number; withCluster: boolean };
    unpublished: UnpublishedPort[];
  }
> {
  const server = live.nodes.find((n) => n.role === "server");
  const lb = live.nodes.find((n) => n.role === "loadbalancer");
  const info = server ? await inspectContainer(server.name) : undefined;
  const image = info?.Config.Image ?? "";
  const tag = /:(v\d+\.\d+\.\d+-k3s\d+)$/.exec(image)?.[1];
  const args = (info as { Config: { Cmd?: string[] } } | undefined)?.Config.Cmd ?? [];
  const argValue = (flag: string) =>
    args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
  const hostPort = (port: string) => {
    const b = lbBinding(live, port);
    return b ? Number(b.HostPort) : undefined;
  };
  // the registry k3d made with the cluster (labelled for it, and among its nodes), else one joined
  // to its network; its container name is read, never derived
  const registries = await listRegistries();
  const reg = live.nodes.find((n) => n.role === "registry") ??
    registries.find((r) => r.runtimeLabels?.["k3d.cluster"] === live.name) ??
    registries.find((r) => r.Networks?.includes(live.network.name));
  const regPort = reg?.portMappings?.["5000/tcp"]?.[0]?.HostPort;
  const k3d: Record<string, unknown> = {
    name: live.name,
    servers: live.nodes.filter((n) => n.role === "server").length,
    agents: live.nodes.filter((n) => n.role === "agent").length,
    network: {
      configure_routes: false,
      configure_dns: false,
      patch_etc_hosts: false,
      ...(argValue("--cluster-cidr") ? { pod_cidr: argValue("--cluster-cidr") } : {}),
      ...(argValue("--service-cidr") ? { service_cidr: argValue("--service-cidr") } : {}),
    },
    tls: { enabled: false },
    // as it is: no CoreDNS key of Firestream's answers an ingress domain yet
    ingress: { wildcard_dns: false },
    dev_mode: { port_forward_all: false },
    registry: reg && regPort
      ? { enabled: true, name: registryName(reg.name), port: Number(regPort) }
      : { enabled: false },
  };
  if (tag) k3d.k3s_version = tag;
  const api = apiBinding(live)?.HostPort;
  if (api) k3d.api_port = Number(api);
  // a port the load balancer does not publish is absent, not the default: recorded as unpublished
  const unpublished: UnpublishedPort[] = [];
  for (const [key, port] of [["http_port", "80"], ["https_port", "443"]] as const) {
    if (hostPort(port)) k3d[key] = hostPort(port);
    else if (lb) unpublished.push(key);
  }
  if (!api) unpublished.push("api_port");
  const config = validate({ cluster: { k3d } }, `cluster ${live.name} as k3d reports it`);
  return {
    k3d: config.cluster.k3d,
    registry: reg && regPort
      ? {
        container: reg.name,
        port: Number(regPort),
        // one of the cluster's nodes: k3d labels it for the cluster and deletes it with it
        withCluster: live.nodes.some((n) => n.name === reg.name) ||
          reg.runtimeLabels?.["k3d.cluster"] === live.name,
      }
      : undefined,
    unpublished,
  };
}
