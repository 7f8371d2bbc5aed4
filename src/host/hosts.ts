/** This cluster's block in /etc/hosts: its lines, and writing or removing it. */
import type { K3dConfig } from "../config/schema.ts";
import { removeBlock, setBlock } from "./block.ts";
import { readSystemFile, writeSystemFile } from "./system_file.ts";

/**
 * Whether the ingress address (Traefik's cluster IP) is out of the host's reach, so the cluster's
 * Ingress hosts go into the hosts block at 127.0.0.1 (the load balancer's published ports): without
 * the routes or the host DNS settings, and on macOS, where Docker's network is inside a VM.
 */
export function ingressHostsFallback(k3d: K3dConfig, os: string = Deno.build.os): boolean {
  return k3d.ingress.wildcard_dns && k3d.network.patch_etc_hosts &&
    (os === "darwin" || !k3d.network.configure_routes || !k3d.network.configure_dns);
}

/**
 * The block's lines for this cluster: the registry, the certificate's name, `network.hosts` and
 * Ingress hosts, if any; never the machine's own name. `registry` is the registry's container as
 * read from the state and Docker (`registryContainerOf`), undefined when the config has none.
 */
export function hostsLines(
  k3d: K3dConfig,
  registry: string | undefined,
  ingress: string[] = [],
): string[] {
  const names: string[] = [];
  if (k3d.registry.enabled && registry) names.push(registry);
  const cn = k3d.tls.certificate.common_name;
  if (k3d.tls.enabled) names.push(cn.startsWith("*.") ? cn.slice(2) : cn);
  names.push(...k3d.network.hosts);
  names.push(...ingress);
  return [...new Set(names)].map((n) => `127.0.0.1\t${n}`);
}

/** The block's lines as plan and delete preview show them: `127.0.0.1 name`, no tab escapes. */
export function shownLines(lines: string[]): string[] {
  return lines.map((l) => l.replace(/\s+/g, " "));
}

/**
 * Sets cluster `name`'s block to `lines`, or removes it (undefined); nothing else in the file
 * changes. A new block goes at the end: glibc answers an address lookup (`getent hosts 127.0.0.1`)
 * with the first line that has it, which stays the file's own `localhost`. The file before is backed up under `stateDir`.
 * `link`: the file was this symbolic link when the block was written (it stays, or comes back, a link).
 */
export async function writeHostsBlock(
  name: string,
  stateDir: string,
  file: string,
  lines: string[] | undefined,
  link?: string,
): Promise<void> {
  const text = await readSystemFile(file);
  const next = lines ? setBlock(text, name, lines, { at: "end" }) : removeBlock(text, name);
  if (next !== text) {
    await writeSystemFile(file, next, {
      backup: `${stateDir}/backups/hosts.${name}.bak`,
      link,
    });
  }
}
