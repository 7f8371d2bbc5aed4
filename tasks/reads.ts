/**
 * The live facts the cluster steps read (Terraform's refresh). Each is one external call at most,
 * made once per snapshot and concurrently with the others: `k3d cluster list`, one `docker inspect`
 * naming every container and network of interest, one `kubectl get` of nodes, deployments, secrets,
 * services, configmaps, ingresses and Traefik's TLSStores, one `ip -j route show`, one `resolvectl status`; the rest are files.
 */
import { type ClusterContext, clustersRead, type Read } from "./context.ts";
import type { ClusterRecord } from "../src/state/document.ts";
import { dockerNetworks, interfaceNetworks, type UsedNetwork } from "../src/host/networks.ts";
import { checkHostPorts, type PortCheck } from "../src/host/ports.ts";
import { waitForRegistry } from "../src/tools/registry_health.ts";
import { hostNetworkWanted, sudoCheck } from "../src/host/sudo.ts";
import { checkTools } from "../src/host/tools_check.ts";
import { FirestreamError } from "../src/errors.ts";
import { type DnsStatus, dnsStatus } from "../src/host/dns.ts";
import { type IpRoute, mainRoutes } from "../src/host/routes.ts";
import { readSystemFile, systemFileLink } from "../src/host/system_file.ts";
import { runningSupervisor } from "../src/portforward/control.ts";
import type { SupervisorInfo } from "../src/portforward/files.ts";
import { devModeSpec } from "../src/portforward/spec.ts";
import { type CertInfo, certPaths, readCert, renewalReason } from "../src/tls/certs.ts";
import { fileBase64, TRAEFIK_NAMESPACE } from "../src/tls/secret.ts";
import {
  type ContainerInfo,
  inspectObjects,
  isContainer,
  type NetworkInfo,
  networkSubnets,
  publishedPorts,
} from "../src/tools/docker.ts";
import { firstLine } from "../src/tools/exec.ts";
import { ingressDomain } from "../src/config/schema.ts";
import { ingressHosts } from "../src/host/ingress_dns.ts";
import type { K3dCluster } from "../src/tools/k3d.ts";
import {
  clusterNetwork,
  clusterOfNetwork,
  registryContainer,
  registryContainerOf,
  serverContainer,
} from "../src/tools/k3d_names.ts";
import { kubectl, type KubeObject } from "../src/tools/kubectl.ts";
import {
  machineClusters,
  type ManagedCluster,
  managedElsewhere,
  type User,
  usersOf,
} from "../src/state/owners.ts";

export { clustersRead };

/** This cluster as k3d lists it, or undefined. */
export function liveCluster(ctx: ClusterContext): K3dCluster | undefined {
  return ctx.live.now(clustersRead).find((c) => c.name === ctx.name);
}

/** Every cluster the states on this machine manage, with their records (files only, no call). */
export const ownersRead: Read<ManagedCluster[]> = { key: "owners", fetch: () => machineClusters() };

/** The state that manages this cluster when it is not this one. */
export function otherOwner(ctx: ClusterContext): ManagedCluster | undefined {
  return managedElsewhere(ctx.live.now(ownersRead), ctx.name, ctx.state.lineage);
}

/** The other clusters, of this state or another one, whose record satisfies `uses`. */
export function otherUsers(ctx: ClusterContext, uses: (r: ClusterRecord) => boolean): User[] {
  return usersOf(ctx.state, ctx.live.now(ownersRead), ctx.name, uses);
}

/**
 * The Docker objects a cluster's steps look at: its registry (recorded, made with the cluster under
 * its exact name, or made by `k3d registry create`), first server and network.
 */
export function dockerNames(ctx: ClusterContext): string[] {
  const names = [
    registryContainer(ctx.k3d.registry.name),
    ctx.k3d.registry.enabled ? ctx.k3d.registry.name : undefined,
    ctx.record.resources.registry?.container,
    serverContainer(ctx.name),
    clusterNetwork(ctx.name),
  ];
  return [...new Set(names.filter((n): n is string => Boolean(n)))];
}

/** One `docker inspect` of {@link dockerNames}. */
export const dockerRead: Read<Map<string, ContainerInfo | NetworkInfo>> = {
  key: "docker:objects",
  fetch: (ctx) => inspectObjects(dockerNames(ctx)),
};

/** A container of {@link dockerNames}, or undefined when it does not exist. */
export function container(ctx: ClusterContext, name: string): ContainerInfo | undefined {
  const doc = ctx.live.now(dockerRead).get(name);
  return isContainer(doc) ? doc : undefined;
}

/**
 * A cluster of another state folder (or made by hand) that the registry is joined to: k3d joins a
 * registry to each cluster's network `k3d-<cluster>`, so the registry's networks say who uses it.
 */
export function usedElsewhere(
  info: ContainerInfo | undefined,
  cluster: string,
): string | undefined {
  const others = Object.keys(info?.NetworkSettings.Networks ?? {})
    .map(clusterOfNetwork).filter((c) => c !== undefined && c !== cluster);
  return others.length ? `cluster ${others.join(", ")} still uses it` : undefined;
}

/**
 * The container of the wanted registry ({@link registryContainerOf}): the recorded one, or the one
 * Docker's k3d labels show was made with this cluster under exactly that name, or `k3d-NAME`.
 */
export function registryContainerIn(ctx: ClusterContext): string {
  const name = ctx.k3d.registry.name;
  return registryContainerOf(name, {
    recorded: ctx.record.resources.registry,
    madeWithCluster: labelledForCluster(ctx, name) ? name : undefined,
  });
}

/** Whether Docker's container `name` is a registry k3d labels as a node of this cluster. */
function labelledForCluster(ctx: ClusterContext, name: string): boolean {
  const labels = container(ctx, name)?.Config.Labels ?? {};
  return labels["k3d.role"] === "registry" && labels["k3d.cluster"] === ctx.name;
}

/**
 * Whether the wanted registry is one k3d made with this cluster (`--registry-create`,
 * `registries.create`), as recorded or as its k3d labels say now: a node of the cluster, deleted
 * by `k3d cluster delete` (pkg/client/cluster.go:619-651) and made again under its exact name only
 * by `k3d cluster create` (`registries.create`, pkg/config/transform.go:311-345). Needs
 * {@link dockerRead}.
 */
export function registryWithCluster(ctx: ClusterContext): boolean {
  const container = registryContainerIn(ctx);
  const rec = ctx.record.resources.registry;
  if (rec?.container === container && rec.with_cluster) return true;
  return labelledForCluster(ctx, container);
}

/**
 * The registry's host name, its container ({@link registryContainerIn}), for the hosts block, the
 * certificate and k3d's config; undefined when the config has no registry. Needs
 * {@link registryHostReads}.
 */
export function registryHost(ctx: ClusterContext): string | undefined {
  return ctx.k3d.registry.enabled ? registryContainerIn(ctx) : undefined;
}

/** The reads {@link registryHost} needs. */
export function registryHostReads(ctx: ClusterContext): Read<unknown>[] {
  return ctx.k3d.registry.enabled ? [dockerRead] : [];
}

/** The cluster's Docker network, or undefined. */
export function network(ctx: ClusterContext): NetworkInfo | undefined {
  const doc = ctx.live.now(dockerRead).get(clusterNetwork(ctx.name));
  return doc && !isContainer(doc) ? doc : undefined;
}

/** What the cluster's API server holds that the steps compare. */
export interface KubeFacts {
  nodes: KubeObject[];
  deployments: KubeObject[];
  secrets: KubeObject[];
  services: KubeObject[];
  configmaps: KubeObject[];
  ingresses: KubeObject[];
  /** the default TLSStore's secret, "absent", or "no-traefik" when its type is not installed */
  tlsStore: string | "absent" | "no-traefik";
}

const KINDS = [
  "nodes",
  "deployments.apps",
  "secrets",
  "services",
  "configmaps",
  "ingresses.networking.k8s.io",
];
const TLS_STORES = "tlsstores.traefik.io";

/**
 * One `kubectl get` of nodes, deployments, secrets, services, configmaps, ingresses and Traefik's
 * TLSStores in every namespace; when
 * the TLSStore type is not installed (yet), kubectl refuses the whole list and it is asked without it.
 */
async function kubeFacts(ctx: ClusterContext): Promise<KubeFacts> {
  const get = (kinds: string[]) =>
    kubectl(ctx.kubeContext, ["get", kinds.join(","), "--all-namespaces", "-o", "json"], {
      check: false,
    });
  let r = await get([...KINDS, TLS_STORES]);
  let traefik = true;
  if (r.code !== 0 && /doesn't have a resource type|no matches for kind/.test(r.stderr)) {
    traefik = false;
    r = await get(KINDS);
  }
  if (r.code !== 0) {
    throw new FirestreamError(`kubectl get ${KINDS.join(",")} failed: ${firstLine(r.stderr)}`, {
      hint: "is the cluster running? see `firestream cluster info`",
    });
  }
  const items = (JSON.parse(r.stdout).items ?? []) as KubeObject[];
  const of = (kind: string) => items.filter((i) => i.kind === kind);
  const store = of("TLSStore").find((s) =>
    s.metadata.name === "default" && s.metadata.namespace === TRAEFIK_NAMESPACE
  );
  return {
    nodes: of("Node"),
    deployments: of("Deployment"),
    secrets: of("Secret"),
    services: of("Service"),
    configmaps: of("ConfigMap"),
    ingresses: of("Ingress"),
    tlsStore: !traefik
      ? "no-traefik"
      : store
      ? store.spec?.defaultCertificate?.secretName ?? "absent"
      : "absent",
  };
}

/** What the API server holds (one kubectl call). */
export const kubeRead: Read<KubeFacts> = { key: "kube", fetch: kubeFacts };

/** A secret's tls.crt, base64, or undefined. */
export function secretCertOf(facts: KubeFacts, name: string, namespace: string) {
  const s = facts.secrets.find((x) =>
    x.metadata.name === name && x.metadata.namespace === namespace
  );
  return s ? (s.data?.["tls.crt"] as string | undefined) ?? "" : undefined;
}

/**
 * The cluster's Ingress hosts under the ingress domain, from {@link kubeRead} (no call of its own):
 * [] before the cluster exists, undefined when it does not answer (stopped, starting).
 */
export const ingressHostsRead: Read<string[] | undefined> = {
  key: "kube:ingress-hosts",
  fetch: async (ctx) => {
    if (!ctx.record.resources.cluster) return [];
    await ctx.live.refresh(ctx, [kubeRead]);
    try {
      return ingressHosts(ctx.live.now(kubeRead).ingresses, ingressDomain(ctx.k3d));
    } catch {
      return undefined;
    }
  },
};

/** The main table's routes, all of them (`ip -j route show`). */
export const routesRead: Read<IpRoute[]> = { key: "ip:routes", fetch: mainRoutes };

/** The host's DNS method and its links' settings (`resolvectl status`). */
export const dnsRead: Read<DnsStatus> = { key: "dns:status", fetch: () => dnsStatus() };

/** A host file's text ("" when missing) and the link it is, if it is one. */
export interface FileFacts {
  text: string;
  link?: string;
}

/** A read of a host file (no external call). */
export function fileRead(path: string): Read<FileFacts> {
  return {
    key: `file:${path}`,
    fetch: async () => {
      const [text, link] = await Promise.all([readSystemFile(path), systemFileLink(path)]);
      return link === undefined ? { text } : { text, link };
    },
  };
}

/** The cluster's certificate: why it must be (re)issued, and what it is now. */
export interface CertFacts {
  reason?: string;
  info?: CertInfo;
  /** the certificate file, base64 (what the secrets must hold) */
  base64?: string;
}

/** Reads the cluster's certificate files. */
export const certRead: Read<CertFacts> = {
  key: "tls:cert",
  fetch: async (ctx) => {
    const p = certPaths(ctx.k3d.tls.certs_dir, ctx.name);
    await ctx.live.refresh(ctx, registryHostReads(ctx));
    const reason = await renewalReason(p, ctx.k3d, registryHost(ctx));
    if (reason === "no certificate yet") return { reason };
    const [{ info }, base64] = await Promise.all([readCert(p.cert), fileBase64(p.cert)]);
    return { reason, info, base64 };
  },
};

/** Whether the wanted registry answers on its port (asked only when its container runs there). */
export const registryHttpRead: Read<boolean> = {
  key: "registry:http",
  fetch: async (ctx) => {
    await ctx.live.refresh(ctx, [dockerRead]);
    const info = container(ctx, registryContainerIn(ctx));
    const port = Number(info?.HostConfig.PortBindings?.["5000/tcp"]?.[0]?.HostPort);
    if (!info?.State.Running || port !== ctx.k3d.registry.port) return false;
    return await waitForRegistry(port, { timeoutMs: 3000 });
  },
};

/** The dev-mode supervisor running for this cluster, if any (its pid files). */
export const supervisorRead: Read<SupervisorInfo | undefined> = {
  key: "portforward:supervisor",
  fetch: (ctx) => runningSupervisor(devModeSpec(ctx).paths),
};

/** What preflight needs: the tools, the host's ports and networks, and sudo when it is needed. */
export interface PreflightFacts {
  tools: Awaited<ReturnType<typeof checkTools>>;
  ports: PortCheck[];
  networks: UsedNetwork[];
}

/** Preflight's reads (the tools first: their messages say what to install). */
export const preflightRead: Read<PreflightFacts> = {
  key: "preflight",
  fetch: async (ctx) => {
    const tools = await checkTools();
    const [published, docker] = await Promise.all([publishedPorts(), networkSubnets()]);
    await ctx.live.refresh(ctx, [ownersRead]);
    const others = otherUsers(ctx, (r) => r.name !== ctx.name).filter((u) => u.folder);
    const ports = await checkHostPorts(ctx.k3d, {
      state: ctx.state,
      published,
      others: others.map((u) => u.record),
    });
    if (hostNetworkWanted(ctx.k3d, ctx.options)) await sudoCheck();
    return { tools, ports, networks: [...interfaceNetworks(), ...dockerNetworks(docker)] };
  },
};
