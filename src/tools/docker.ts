/** Typed queries of the Docker engine (through the docker CLI). Never decides policy. */
import { FirestreamError } from "../errors.ts";
import { exec, firstLine } from "./exec.ts";

/** The subset of `docker container inspect` Firestream reads. */
export interface ContainerInfo {
  Id: string;
  Name: string;
  Image: string;
  State: { Status: string; Running: boolean };
  Config: { Image: string; Labels: Record<string, string> | null };
  HostConfig: {
    PortBindings: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
  };
  NetworkSettings: {
    Networks: Record<string, { IPAddress: string; Gateway: string; NetworkID: string }>;
  };
}

/** The subset of `docker network inspect` Firestream reads. */
export interface NetworkInfo {
  Name: string;
  Id: string;
  IPAM: { Config: { Subnet: string; Gateway?: string }[] | null };
  Options: Record<string, string> | null;
}

/** Server version, or a FirestreamError saying Docker is not reachable. */
export async function dockerServerVersion(): Promise<string> {
  // exec itself says "not installed" and "Docker is not running", with their fixes
  const r = await exec(["docker", "version", "--format", "{{json .Server.Version}}"]);
  return JSON.parse(r.stdout.trim() || '""');
}

/** Inspects a container; undefined only when Docker says it does not exist. */
export async function inspectContainer(name: string): Promise<ContainerInfo | undefined> {
  const r = await exec(["docker", "container", "inspect", name], { check: false });
  if (r.code === 0) return (JSON.parse(r.stdout) as ContainerInfo[])[0];
  if (/No such container/i.test(r.stderr)) return undefined;
  throw new FirestreamError(`docker container inspect ${name} failed: ${firstLine(r.stderr)}`);
}

/**
 * One `docker inspect` for containers and networks by name: those that exist, by the name asked.
 * Docker prints the found objects and says "No such object" for each missing one (exit 1).
 */
export async function inspectObjects(
  names: string[],
): Promise<Map<string, ContainerInfo | NetworkInfo>> {
  const found = new Map<string, ContainerInfo | NetworkInfo>();
  if (!names.length) return found;
  const r = await exec(["docker", "inspect", ...names], { check: false });
  const problems = r.stderr.split("\n").filter((l) => l.trim() && !/No such object/i.test(l));
  if (r.code !== 0 && (problems.length || !/No such object/i.test(r.stderr))) {
    throw new FirestreamError(`docker inspect failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
  }
  for (const doc of JSON.parse(r.stdout.trim() || "[]") as (ContainerInfo | NetworkInfo)[]) {
    // containers are named "/name", networks "name"
    found.set(doc.Name.replace(/^\//, ""), doc);
  }
  return found;
}

/** True for a container's inspect document (a network's has no State). */
export function isContainer(doc: ContainerInfo | NetworkInfo | undefined): doc is ContainerInfo {
  return doc !== undefined && "State" in doc;
}

/** Inspects a network; undefined only when Docker says it does not exist. */
export async function inspectNetwork(name: string): Promise<NetworkInfo | undefined> {
  const r = await exec(["docker", "network", "inspect", name], { check: false });
  if (r.code === 0) return (JSON.parse(r.stdout) as NetworkInfo[])[0];
  if (/not found|No such network/i.test(r.stderr)) return undefined;
  throw new FirestreamError(`docker network inspect ${name} failed: ${firstLine(r.stderr)}`);
}

/** The Linux bridge interface behind a Docker network. */
export function bridgeInterface(net: NetworkInfo): string {
  return net.Options?.["com.docker.network.bridge.name"] || `br-${net.Id.slice(0, 12)}`;
}

/** A container's address on one named network (several networks never garble it). */
export function addressOn(c: ContainerInfo, network: string): string | undefined {
  const ip = c.NetworkSettings.Networks?.[network]?.IPAddress;
  return ip ? ip : undefined;
}

/** Host port → name of the running container that publishes it. */
export async function publishedPorts(): Promise<Map<number, string>> {
  const r = await exec(["docker", "ps", "--format", "{{json .}}"]);
  return parsePublishedPorts(r.stdout);
}

/** Reads `docker ps --format {{json .}}` lines ("Ports": "127.0.0.1:5000->5000/tcp, …"). */
export function parsePublishedPorts(stdout: string): Map<number, string> {
  const held = new Map<number, string>();
  for (const line of stdout.split("\n")) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as { Names: string; Ports: string };
    for (const m of row.Ports.matchAll(/:(\d+)->/g)) held.set(Number(m[1]), row.Names);
  }
  return held;
}

/** Joins a container to a network (nothing to do when it already is). */
export async function connectNetwork(network: string, container: string): Promise<void> {
  const r = await exec(["docker", "network", "connect", network, container], { check: false });
  if (r.code !== 0 && !/already exists in network/.test(r.stderr)) {
    throw new FirestreamError(
      `docker network connect ${network} ${container} failed: ${firstLine(r.stderr)}`,
    );
  }
}

/** Every Docker network with its IPv4 subnets (`docker network ls`, then one inspect of them all). */
export async function networkSubnets(): Promise<{ name: string; subnets: string[] }[]> {
  const ls = await exec(["docker", "network", "ls", "--format", "{{.ID}}"]);
  const ids = ls.stdout.split("\n").map((l) => l.trim()).filter(Boolean);
  if (ids.length === 0) return [];
  const r = await exec(["docker", "network", "inspect", ...ids]);
  return (JSON.parse(r.stdout) as NetworkInfo[]).map((n) => ({
    name: n.Name,
    subnets: (n.IPAM.Config ?? []).map((c) => c.Subnet).filter((s) => s && !s.includes(":")),
  }));
}
