/** Typed wrappers over the k3d CLI (v5, config k3d.io/v1alpha5). */
import { FirestreamError } from "../errors.ts";
import { exec, firstLine } from "./exec.ts";

/** A node as `k3d … list -o json` reports it. */
export interface K3dNode {
  name: string;
  role: "server" | "agent" | "loadbalancer" | "registry" | string;
  image: string;
  runtimeLabels: Record<string, string>;
  portMappings: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
  State: { Running: boolean; Status: string };
  IP: { IP: string };
  Networks?: string[];
}

/** A cluster as `k3d cluster list -o json` reports it. */
export interface K3dCluster {
  name: string;
  network: { name: string; id: string };
  nodes: K3dNode[];
  kubeAPI?: { Binding?: { HostIp: string; HostPort: string }; host?: string };
}

/** Oldest k3d that reads `k3d.io/v1alpha5` configs. */
export const MIN_K3D = [5, 5, 0];

/** `k3d version`: the k3d version, or a FirestreamError with the install hint. */
export async function k3dVersion(): Promise<string> {
  const r = await exec(["k3d", "version"]);
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
  const r = await exec(["k3d", "cluster", "list", "-o", "json"]);
  return JSON.parse(r.stdout || "[]") as K3dCluster[];
}

/** One cluster, or undefined when k3d lists no such cluster. */
export async function findCluster(name: string): Promise<K3dCluster | undefined> {
  return (await listClusters()).find((c) => c.name === name);
}

/** Every k3d registry. */
export async function listRegistries(): Promise<K3dNode[]> {
  const r = await exec(["k3d", "registry", "list", "-o", "json"]);
  return JSON.parse(r.stdout || "[]") as K3dNode[];
}

/** `k3d registry create NAME --port HOST:PORT` (container `k3d-NAME`). */
export async function createRegistry(name: string, options: { hostIp: string; port: number }) {
  await exec(["k3d", "registry", "create", name, "--port", `${options.hostIp}:${options.port}`]);
}

/** `k3d registry delete CONTAINER`. */
export async function deleteRegistry(container: string): Promise<void> {
  await exec(["k3d", "registry", "delete", container]);
}

/** `k3d cluster create --config FILE`. */
export async function createCluster(configFile: string, options: { timeoutMs?: number } = {}) {
  await exec(["k3d", "cluster", "create", "--config", configFile], {
    timeoutMs: options.timeoutMs,
  });
}

/** `k3d cluster delete NAME` (k3d answers 0 when it is already gone). */
export async function deleteCluster(name: string): Promise<void> {
  await exec(["k3d", "cluster", "delete", name]);
}

/** `k3d cluster start NAME`. */
export async function startCluster(name: string): Promise<void> {
  await exec(["k3d", "cluster", "start", name]);
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
  await exec([
    "k3d",
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
  await exec(["k3d", "node", "delete", name]);
}

/** The container name k3d gives a registry named `name`. */
export function registryContainer(name: string): string {
  return name.startsWith("k3d-") ? name : `k3d-${name}`;
}
