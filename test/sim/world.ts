/** The simulated machine: Docker containers and networks, k3d clusters, Kubernetes objects, routes, DNS. */
import { imageEnv, mergeEnv } from "./k3d_types.ts";

/** A simulated container (k3d node, load balancer or registry). */
export interface SimContainer {
  id: string;
  name: string;
  image: string;
  imageId: string;
  labels: Record<string, string>;
  running: boolean;
  created: string;
  started: string;
  /** `Config.Cmd`: null when neither the container nor its image gives one */
  cmd: string[] | null;
  /** `Config.Env` as the engine stores it: the container's own variables, then the image's */
  env: string[] | null;
  /** `HostConfig.Binds` */
  binds?: string[];
  /** "6443/tcp" → [{HostIp, HostPort}] */
  ports: Record<string, { HostIp: string; HostPort: string }[]>;
  networks: Record<string, { ip: string }>;
  /** a real container in the Docker engine, or a real process, answering for it */
  real?: { kind: "docker" } | { kind: "process"; pid: number };
}

/** A Docker network. */
export interface SimNetwork {
  name: string;
  id: string;
  subnet: string;
  gateway: string;
  bridge: string;
  labels: Record<string, string>;
  nextHost: number;
}

/** A Kubernetes object (only the fields the simulation needs to keep). */
// deno-lint-ignore no-explicit-any
export type KubeObject = Record<string, any>;

/** Objects of one cluster's API server. */
export interface KubeStore {
  /** kind (lowercase plural) → "namespace/name" or "name" → object */
  objects: Record<string, Record<string, KubeObject>>;
  /** pod logs: "ns/pod/container" → lines */
  logs: Record<string, string[]>;
  resourceVersion: number;
  metrics: boolean;
}

/** A k3d cluster. */
export interface SimCluster {
  name: string;
  token: string;
  network: string;
  image: string;
  apiHost: string;
  apiHostIp: string;
  apiPort: string;
  created: string;
  podCidr: string;
  serviceCidr: string;
  registriesUse: string[];
  kube: KubeStore;
  /** when Traefik's CRDs (tlsstores.traefik.io) exist; null: Traefik disabled; absent: from the start */
  traefikCrdsAt?: string | null;
  /** the load balancer's config file (/etc/confd/values.yaml), as k3d last wrote it */
  lbConfig?: unknown;
}

/** A kernel route. */
export interface SimRoute {
  dst: string;
  gateway?: string;
  dev: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
}

/** Everything the simulated host knows. */
export interface World {
  /** the engine, and the docker client's version (29 and later word connection errors anew) */
  docker: { running: boolean; serverVersion: string; clientVersion: string };
  k3dVersion: string;
  k3sDefault: string;
  kubectlVersion: string;
  /** systemd-resolved is running (resolvectl answers) */
  resolved: boolean;
  /** systemd's version: 258 adds `Delegate` sections to `resolvectl status`, 260 speaks varlink */
  systemdVersion: number;
  /** DNS delegates of systemd-resolved (systemd 258): name → servers and domains */
  delegates?: Record<string, { dns: string[]; domains: string[] }>;
  /** sudo -n works */
  sudoOk: boolean;
  /** nodes of new clusters report Ready (false: they stay NotReady, so waits time out) */
  nodesStartReady: boolean;
  /** how long after `k3d cluster create` Traefik's CRDs appear (k3s's traefik-crd HelmChart job) */
  traefikCrdDelayMs?: number;
  /** the Docker socket refuses this user (not in the `docker` group) */
  dockerDenied?: boolean;
  containers: Record<string, SimContainer>;
  networks: Record<string, SimNetwork>;
  clusters: Record<string, SimCluster>;
  kubeconfig: { contexts: string[]; current: string };
  routes: SimRoute[];
  links: Record<string, { dns: string[]; domains: string[]; defaultRoute?: boolean }>;
  nextSubnet: number;
  serial: number;
}

/** A new host: Docker running, no clusters, one default route, systemd-resolved off. */
export function newWorld(): World {
  return {
    docker: { running: true, serverVersion: "28.2.2", clientVersion: "28.2.2" },
    k3dVersion: "v5.8.3",
    k3sDefault: "v1.31.5-k3s1",
    kubectlVersion: "v1.32.4",
    resolved: false,
    systemdVersion: 252,
    sudoOk: true,
    nodesStartReady: true,
    containers: {},
    networks: {
      bridge: {
        name: "bridge",
        id: hexId("bridge"),
        subnet: "172.17.0.0/16",
        gateway: "172.17.0.1",
        bridge: "docker0",
        labels: {},
        nextHost: 2,
      },
    },
    clusters: {},
    kubeconfig: { contexts: [], current: "" },
    routes: [
      { dst: "default", gateway: "192.0.2.1", dev: "eth0", protocol: "dhcp" },
      {
        dst: "172.17.0.0/16",
        dev: "docker0",
        protocol: "kernel",
        scope: "link",
        prefsrc: "172.17.0.1",
      },
    ],
    links: { eth0: { dns: ["192.0.2.53"], domains: [] } },
    nextSubnet: 18,
    serial: 0,
  };
}

/** A stable 64-hex-digit id derived from a seed. */
export function hexId(seed: string): string {
  let h1 = 0x811c9dc5;
  let out = "";
  for (let round = 0; out.length < 64; round++) {
    for (const ch of `${seed}#${round}`) h1 = Math.imul(h1 ^ ch.charCodeAt(0), 16777619) >>> 0;
    out += h1.toString(16).padStart(8, "0");
  }
  return out.slice(0, 64);
}

/** Image ID Docker would report for an image reference. */
export function imageId(ref: string): string {
  return `sha256:${hexId(`image:${ref}`)}`;
}

/** Creates a Docker network with the next free 172.x.0.0/16 subnet. */
export function createNetwork(
  world: World,
  name: string,
  labels: Record<string, string>,
): SimNetwork {
  const n = world.nextSubnet++;
  const net: SimNetwork = {
    name,
    id: hexId(`net:${name}:${n}`),
    subnet: `172.${n}.0.0/16`,
    gateway: `172.${n}.0.1`,
    bridge: `br-${hexId(`net:${name}:${n}`).slice(0, 12)}`,
    labels,
    nextHost: 2,
  };
  world.networks[name] = net;
  world.routes.push({
    dst: net.subnet,
    dev: net.bridge,
    protocol: "kernel",
    scope: "link",
    prefsrc: net.gateway,
  });
  return net;
}

/** Removes a network and its link route. */
export function removeNetwork(world: World, name: string): void {
  const net = world.networks[name];
  if (!net) return;
  delete world.networks[name];
  world.routes = world.routes.filter((r) => r.dev !== net.bridge);
  delete world.links[net.bridge];
}

/**
 * The lowest address of a network that no running container holds. Docker gives a container an
 * address when it starts and frees it when it stops, so a restart can hand out another one
 * (observed: two nodes swapped addresses after stop/start; fixtures/README.md).
 */
export function freeAddress(world: World, network: string): string {
  const net = world.networks[network];
  const base = net.subnet.split(".").slice(0, 2).join(".");
  const used = new Set(
    Object.values(world.containers).filter((c) => c.running).map((c) => c.networks[network]?.ip)
      .filter(Boolean),
  );
  for (let host = 2;; host++) {
    const ip = `${base}.${host >> 8}.${host & 255}`;
    if (!used.has(ip)) return ip;
  }
}

/** Gives a (re)started container new addresses on each of its networks, in start order. */
export function readdress(world: World, c: SimContainer): void {
  c.running = false;
  for (const network of Object.keys(c.networks)) {
    if (world.networks[network]) c.networks[network] = { ip: freeAddress(world, network) };
  }
  c.running = true;
}

/** Attaches a new container to a network, giving it the lowest free address. */
export function addContainer(
  world: World,
  c: Omit<SimContainer, "id" | "networks" | "created" | "started" | "imageId"> & {
    network: string;
  },
): SimContainer {
  const ip = freeAddress(world, c.network);
  const now = new Date().toISOString();
  const container: SimContainer = {
    ...c,
    // the engine appends the image's variables the container does not set
    env: mergeEnv(c.env ?? [], imageEnv(c.image)),
    id: hexId(`ctr:${c.name}:${world.serial++}`),
    imageId: imageId(c.image),
    created: now,
    started: now,
    networks: { [c.network]: { ip } },
  };
  delete (container as unknown as Record<string, unknown>).network;
  world.containers[c.name] = container;
  return container;
}

/** The k3s version a `rancher/k3s:<tag>` image carries, as kubelet reports it. */
export function kubeletVersion(image: string): string {
  const tag = image.split(":")[1] ?? "v1.31.5-k3s1";
  return tag.replace(/-k3s(\d+)$/, "+k3s$1");
}
