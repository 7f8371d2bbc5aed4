/** This cluster's block in /etc/hosts: its lines, and writing or removing it. */
import type { K3dConfig } from "../config/schema.ts";
import { registryContainer } from "../tools/k3d.ts";
import { blockIds, removeBlock, setBlock } from "./block.ts";
import { readSystemFile, writeSystemFile } from "./system_file.ts";

function mentions(text: string, name: string): boolean {
  return text.split(/\r?\n/).some((l) =>
    !l.trim().startsWith("#") && l.trim().split(/\s+/).slice(1).includes(name)
  );
}

/**
 * Whether the ingress address (Traefik's cluster IP) is out of the host's reach, so the cluster's
 * Ingress hosts go into the hosts block at 127.0.0.1 (the load balancer's published ports): without
 * the routes or the host DNS settings, and on macOS, where Docker's network is inside a VM.
 */
export function ingressHostsFallback(k3d: K3dConfig, os: string = Deno.build.os): boolean {
  return k3d.ingress.wildcard_dns && k3d.network.patch_etc_hosts &&
    (os === "darwin" || !k3d.network.configure_routes || !k3d.network.configure_dns);
}

/** The block's lines for this cluster, given the rest of the file (and Ingress hosts, if any). */
export function hostsLines(k3d: K3dConfig, rest: string, ingress: string[] = []): string[] {
  const names: string[] = [];
  if (k3d.registry.enabled) names.push(registryContainer(k3d.registry.name));
  const cn = k3d.tls.certificate.common_name;
  if (k3d.tls.enabled) names.push(cn.startsWith("*.") ? cn.slice(2) : cn);
  names.push(...k3d.network.hosts);
  names.push(...ingress);
  // the machine's own name, only when the file itself (not another cluster's block, which may
  // go) already resolves it
  const self = Deno.hostname();
  const own = blockIds(rest).reduce((text, id) => removeBlock(text, id), rest);
  if (self && !mentions(own, self)) names.push(self);
  return [...new Set(names)].map((n) => `127.0.0.1\t${n}`);
}

/**
 * Sets cluster `name`'s block to `lines`, or removes it (undefined); nothing else in the file
 * changes. The file before is backed up under `stateDir`.
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
  const next = lines ? setBlock(text, name, lines) : removeBlock(text, name);
  if (next !== text) {
    await writeSystemFile(file, next, {
      backup: `${stateDir}/backups/hosts.${name}.bak`,
      link,
    });
  }
}
