/** Typed wrappers over the k3d CLI (v5, config k3d.io/v1alpha5). */
import { FirestreamError } from "../errors.ts";
import { exec, type ExecOptions, type ExecResult, firstLine } from "./exec.ts";

export { registryContainer } from "./k3d_names.ts";

/** A published port as Docker reports it. */
export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/**
 * A node as `k3d … list -o json` reports it (k3d's types.Node, read back from Docker by
 * pkg/runtimes/docker/translate.go; test/sim/fixtures/k3d/ has the shape with its sources).
 */
export interface K3dNode {
  name: string;
  role: "server" | "agent" | "loadbalancer" | "registry" | string;
  image: string;
  runtimeLabels: Record<string, string>;
  /** Docker's port bindings as k3d made them: the API under "6443", others as "80/tcp"; absent when none */
  portMappings?: Record<string, PortBinding[] | null> | null;
  /** every node has it; only servers carry the API binding (from their k3d.server.api.* labels) */
  serverOpts?: { kubeAPI?: { Binding?: PortBinding; host?: string } | null };
  State: { Running: boolean; Status: string };
  IP: { IP: string };
  Networks?: string[];
}

/**
 * A cluster as `k3d cluster list -o json` reports it. k3d fills no cluster-level `kubeAPI` there
 * (ClusterList → populateClusterFieldsFromLabels): the API port is on the nodes, see {@link apiBinding}.
 */
export interface K3dCluster {
  name: string;
  network: { name: string; id?: string };
  nodes: K3dNode[];
}

/** Whether a server node of the cluster runs: a cluster that is gone or stopped answers no API. */
export function serverRunning(cluster: K3dCluster | undefined): boolean {
  return Boolean(cluster?.nodes.some((n) => n.role === "server" && n.State.Running));
}

/** The API server's published address: a server's `serverOpts.kubeAPI`, else the load balancer's "6443". */
export function apiBinding(cluster: K3dCluster): PortBinding | undefined {
  for (const n of cluster.nodes.filter((n) => n.role === "server")) {
    const b = n.serverOpts?.kubeAPI?.Binding;
    if (b?.HostPort) return b;
  }
  return lbBinding(cluster, "6443");
}

/** The host binding of a load-balancer port ("6443", or "80" for 80/tcp), if published. */
export function lbBinding(cluster: K3dCluster, port: string): PortBinding | undefined {
  const lb = cluster.nodes.find((n) => n.role === "loadbalancer");
  const map = lb?.portMappings ?? {};
  return (map[port] ?? map[`${port}/tcp`])?.[0] ?? undefined;
}

/**
 * Runs k3d without colours (LOG_COLORS=false gives logfmt lines) and without the user's LOG_LEVEL,
 * whose DEBUG lines would land on stdout before the JSON (k3d cmd/root.go initLogging).
 */
export function k3d(args: string[], options: ExecOptions = {}): Promise<ExecResult> {
  return exec(["k3d", ...args], {
    ...options,
    env: { ...options.env, LOG_COLORS: "false", LOG_LEVEL: undefined },
  });
}

/** Oldest k3d that reads `k3d.io/v1alpha5` configs. */
export const MIN_K3D = [5, 5, 0];

/** `k3d version`: the k3d version, or a FirestreamError with the install hint. */
export async function k3dVersion(): Promise<string> {
  const r = await k3d(["version"]);
  const m = /k3d version (v\d+\.\d+\.\d+\S*)/.exec(r.stdout);
  if (!m) throw new FirestreamError(`could not read the k3d version from: ${firstLine(r.stdout)}`);
  return m[1];
}

/** Compares dotted versions ("v5.6.0") with a minimum. */
export function atLeast(version: string, minimum: number[]): boolean {
  const parts = version.replace(/^v/, "").split(/[.-]/).slice(0, 3).map((p) =>
    parseInt(p, 10) || 0
  );
  for (let i = 0; i < minimum.length; i++) {
    if ((parts[i] ?? 0) !== minimum[i]) return (parts[i] ?? 0) > minimum[i];
  }
  return true;
}

/** Every k3d cluster on this machine. */
export async function listClusters(): Promise<K3dCluster[]> {
  const r = await k3d(["cluster", "list", "-o", "json"]);
  return JSON.parse(r.stdout || "[]") as K3dCluster[];
}

/** One cluster, or undefined when k3d lists no such cluster. */
export async function findCluster(name: string): Promise<K3dCluster | undefined> {
  return (await listClusters()).find((c) => c.name === name);
}

/** Every k3d registry. */
export async function listRegistries(): Promise<K3dNode[]> {
  const r = await k3d(["registry", "list", "-o", "json"]);
  return JSON.parse(r.stdout || "[]") as K3dNode[];
}

/** `k3d registry create NAME --port HOST:PORT` (container `k3d-NAME`, see {@link registryContainer}). */
export async function createRegistry(name: string, options: { hostIp: string; port: number }) {
  await k3d(["registry", "create", name, "--port", `${options.hostIp}:${options.port}`]);
}

/** `k3d registry delete CONTAINER`. */
export async function deleteRegistry(container: string): Promise<void> {
  await k3d(["registry", "delete", container]);
}

/** `k3d cluster create --config FILE`. */
export async function createCluster(configFile: string, options: { timeoutMs?: number } = {}) {
  await k3d(["cluster", "create", "--config", configFile], {
    timeoutMs: options.timeoutMs,
  });
}

/** `k3d cluster delete NAME` (k3d answers 0 when it is already gone). */
export async function deleteCluster(name: string): Promise<void> {
  await k3d(["cluster", "delete", name]);
}

/** `k3d cluster start NAME`. */
export async function startCluster(name: string): Promise<void> {
  await k3d(["cluster", "start", name]);
}

/** `k3d cluster stop NAME`. */
export async function stopCluster(name: string): Promise<void> {
  await exec(["k3d", "cluster", "stop", name]);
}

/** `k3d node create NAME --role agent --cluster CLUSTER --image IMAGE --wait`. */
export async function createAgent(
  name: string,
  options: { cluster: string; image: string },
): Promise<void> {
  await k3d([
    "node",
    "create",
    name,
    "--role",
    "agent",
    "--cluster",
    options.cluster,
    "--image",
    options.image,
    "--wait",
  ]);
}

/** `k3d node delete NAME`. */
export async function deleteNode(name: string): Promise<void> {
  await k3d(["node", "delete", name]);
}
