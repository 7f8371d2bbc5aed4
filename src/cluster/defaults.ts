/**
 * Per-project defaults for `init` that clash with nothing the other projects on this machine use:
 * the cluster name from the folder, the shared registry (or a free one), free ports, and pod and
 * service networks that overlap no other managed cluster's.
 */
import { cidrsOverlap, parseCidr } from "../config/cidr.ts";
import { CLUSTER_NAME, configDefaults, folderName } from "../config/schema.ts";
import { interfaceNetworks } from "../host/networks.ts";
import { hostPorts, probePort } from "../host/ports.ts";
import type { ClusterRecord } from "../state/document.ts";
import { folderOf, knownProjects, machineClusters } from "../state/owners.ts";
import { registryContainer } from "../tools/k3d_names.ts";
import { HOST_IP } from "../tools/k3d_config.ts";
import { loadConfig } from "../config/load.ts";
import { newRecord } from "../../tasks/context.ts";

/** A managed cluster of another project, and the folder it is managed from. */
export interface TakenCluster {
  record: ClusterRecord;
  folder: string;
}

/** What `init` proposes. */
export interface ProjectDefaults {
  name: string;
  apiPort: number;
  httpPort: number;
  httpsPort: number;
  registryName: string;
  registryPort: number;
  /** the project whose registry this one shares, when one does */
  registrySharedWith?: string;
  podCidr: string;
  serviceCidr: string;
  offset: number;
  /** the folder whose cluster has (or will have) cluster DNS on this host, when another has it */
  dnsTakenBy?: string;
}

/** What {@link chooseDefaults} decides from. */
export interface DefaultsInput {
  /** the project folder */
  folder: string;
  /** clusters the other projects on this machine manage */
  taken: TakenCluster[];
  /** a registry of this project's own rather than the shared one */
  ownRegistry?: boolean;
  /** whether a host port is free to bind */
  isFree: (port: number) => boolean;
  /** networks the host's interfaces use */
  hostNetworks: string[];
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/** The defaults for a new project: pure, from what is taken. */
export function chooseDefaults(input: DefaultsInput): ProjectDefaults {
  const k = configDefaults().cluster.k3d;
  const records = input.taken.map((t) => t.record);
  const names = new Set(records.map((r) => r.name));
  const base = folderName(input.folder) ?? k.name;
  let name = base;
  for (let i = 2; names.has(name); i++) {
    const suffix = `-${i}`;
    name = `${base.slice(0, 32 - suffix.length).replace(/-+$/, "")}${suffix}`;
  }
  if (!CLUSTER_NAME.test(name)) name = k.name;
  const used = new Set(records.flatMap((r) => hostPorts(r.k3d_config, r).map(([, p]) => p)));
  const pick = (candidates: number[]) => {
    const port = candidates.find((p) => !used.has(p) && input.isFree(p)) ?? candidates[0];
    used.add(port);
    return port;
  };
  const apiPort = pick(range(k.api_port, 50));
  const httpPort = pick([k.http_port, ...range(8080, 20)]);
  const httpsPort = pick([k.https_port, ...range(8443, 20)]);

  // the registry: shared with the projects that use the default one, on their port
  let registryName = k.registry.name;
  let registryPort: number;
  let registrySharedWith: string | undefined;
  const sharer = input.taken.find((t) =>
    t.record.resources.registry?.container === registryContainer(k.registry.name)
  );
  if (input.ownRegistry) {
    registryName = `${name}-registry.localhost`;
    registryPort = pick(range(k.registry.port + 1, 100));
  } else if (sharer) {
    registryPort = sharer.record.resources.registry!.port;
    registrySharedWith = sharer.folder;
  } else {
    registryPort = pick(range(k.registry.port, 100));
  }

  // pod and service networks: 10.42/10.43, else the next pair free of every other cluster's
  const busy = [
    ...records.flatMap((r) => [r.k3d_config.network.pod_cidr, r.k3d_config.network.service_cidr]),
    ...input.hostNetworks,
  ].map(parseCidr).filter((c) => c !== undefined);
  const free = (cidr: string) => {
    const c = parseCidr(cidr)!;
    return !busy.some((b) => cidrsOverlap(b, c));
  };
  let podCidr = k.network.pod_cidr;
  let serviceCidr = k.network.service_cidr;
  for (let second = 42; second <= 254; second += 2) {
    const pod = `10.${second}.0.0/16`;
    const svc = `10.${second + 1}.0.0/16`;
    if (free(pod) && free(svc)) {
      podCidr = pod;
      serviceCidr = svc;
      break;
    }
  }

  // dev-mode offsets one thousand apart, so two projects' forwards do not meet
  const offsets = new Set(records.map((r) => r.k3d_config.dev_mode.port_offset));
  const offset =
    range(0, 40).map((i) => k.dev_mode.port_offset + i * 1000).find((o) => !offsets.has(o)) ??
      k.dev_mode.port_offset;

  // cluster.local on the host leads to one cluster only
  const dns = input.taken.find((t) =>
    t.record.resources.dns || t.record.k3d_config.network.configure_dns
  );

  return {
    name,
    dnsTakenBy: dns?.folder,
    apiPort,
    httpPort,
    httpsPort,
    registryName,
    registryPort,
    registrySharedWith,
    podCidr,
    serviceCidr,
    offset,
  };
}

/**
 * The clusters the other projects on this machine manage (not the state in `stateDir`), and those
 * the configs of other projects `init` set up describe, made or not yet.
 */
export async function takenClusters(stateDir: string, configFile: string): Promise<TakenCluster[]> {
  const [machine, projects] = await Promise.all([machineClusters(), knownProjects()]);
  const taken: TakenCluster[] = machine.filter((m) => m.mark.state_dir !== stateDir).map((m) => ({
    record: m.record,
    folder: folderOf(m.mark),
  }));
  const managedHere = new Set(
    machine.filter((m) => m.mark.state_dir === stateDir).map((m) => m.mark.cluster),
  );
  for (const file of projects) {
    if (file === configFile) continue;
    const k3d = await loadConfig({ file }).then((l) => l.config.cluster.k3d, () => undefined);
    if (!k3d || managedHere.has(k3d.name) || taken.some((t) => t.record.name === k3d.name)) {
      continue;
    }
    const folder = file.slice(0, file.lastIndexOf("/"));
    const record = newRecord(k3d, folder, file);
    if (k3d.registry.enabled) {
      record.resources.registry = {
        name: k3d.registry.name,
        container: registryContainer(k3d.registry.name),
        host: HOST_IP,
        port: k3d.registry.port,
        created: true,
      };
    }
    taken.push({ record, folder });
  }
  return taken;
}

/** The defaults for the project in `folder` on this machine, given what is `taken`. */
export function projectDefaults(
  folder: string,
  options: { taken: TakenCluster[]; ownRegistry?: boolean },
): ProjectDefaults {
  return chooseDefaults({
    folder,
    taken: options.taken,
    ownRegistry: options.ownRegistry,
    isFree: (port) => probePort(port).free,
    hostNetworks: interfaceNetworks().map((n) => n.cidr),
  });
}
