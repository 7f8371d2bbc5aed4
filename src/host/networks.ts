/** The cluster's pod and service networks against the networks this host already uses. */
import { cidrsOverlap, formatCidr, parseCidr } from "../config/cidr.ts";
import type { K3dConfig } from "../config/schema.ts";
import { FirestreamError } from "../errors.ts";
import type { User } from "../state/owners.ts";

/** A network in use on the host, with what uses it. */
export interface UsedNetwork {
  cidr: string;
  what: string;
}

/** The IPv4 networks of the host's interfaces (from the kernel, no command). */
export function interfaceNetworks(): UsedNetwork[] {
  return Deno.networkInterfaces().filter((i) => i.family === "IPv4").flatMap((i) => {
    const [addr, bits] = i.cidr.split("/");
    const host = parseCidr(`${addr}/32`);
    if (!host) return [];
    const size = 2 ** (32 - Number(bits));
    const net = formatCidr({ base: host.base - (host.base % size), bits: Number(bits) });
    return [{ cidr: net, what: `interface ${i.name} (${i.cidr})` }];
  });
}

/** The IPv4 subnets of Docker's networks. */
export function dockerNetworks(list: { name: string; subnets: string[] }[]): UsedNetwork[] {
  return list.flatMap((n) => n.subnets.map((s) => ({ cidr: s, what: `Docker network ${n.name}` })));
}

/** Throws, naming the key, when the pod or service network overlaps one in use. */
export function checkClusterNetworks(k: K3dConfig, used: UsedNetwork[]): void {
  for (const key of ["pod_cidr", "service_cidr"] as const) {
    const value = k.network[key];
    const mine = parseCidr(value);
    if (!mine) continue;
    const clash = used.find((u) => {
      const c = parseCidr(u.cidr);
      return c !== undefined && cidrsOverlap(mine, c);
    });
    if (clash) {
      throw new FirestreamError(
        `\`cluster.k3d.network.${key}\` = "${value}" overlaps ${clash.what} (${clash.cidr}); a cluster network must not overlap a network this host uses`,
        { hint: `choose another private range for ${key} in firestream.toml` },
      );
    }
  }
}

/**
 * The pod and service networks of other managed clusters, when `k` routes them or asks their DNS on
 * this host: routes (and kube-dns addresses) of two clusters on one network would clash. Clusters
 * that do neither are left out.
 */
export function managedNetworks(k: K3dConfig, users: User[]): UsedNetwork[] {
  const onHost = (n: K3dConfig["network"]) => n.configure_routes || n.configure_dns;
  if (!onHost(k.network)) return [];
  return users.filter((u) => onHost(u.record.k3d_config.network)).flatMap((u) => {
    const n = u.record.k3d_config.network;
    const of = `cluster ${u.cluster}${u.folder ? ` (managed from ${u.folder})` : ""}`;
    return [
      { cidr: n.pod_cidr, what: `the pod network of ${of}` },
      { cidr: n.service_cidr, what: `the service network of ${of}` },
    ];
  });
}

/**
 * Throws when `k` wants cluster DNS on the host while another managed cluster has it: the host can
 * send `cluster.local` to one cluster's kube-dns only. `has` is whether this cluster already has it.
 */
export function checkClusterDns(k: K3dConfig, has: boolean, users: User[]): void {
  if (!k.network.configure_dns || has) return;
  const other = users.find((u) => u.record.resources.dns);
  if (!other) return;
  throw new FirestreamError(
    `cluster DNS on this host already serves cluster ${other.cluster}${
      other.folder ? ` (managed from ${other.folder})` : ""
    }: cluster.local names can lead to one cluster only`,
    {
      hint:
        "set cluster.k3d.network.configure_dns = false in firestream.toml (or turn it off for the other cluster first)",
    },
  );
}
