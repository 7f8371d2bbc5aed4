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

/** The block's lines for this cluster, given the rest of the file. */
export function hostsLines(k3d: K3dConfig, rest: string): string[] {
  const names: string[] = [];
  if (k3d.registry.enabled) names.push(registryContainer(k3d.registry.name));
  const cn = k3d.tls.certificate.common_name;
  if (k3d.tls.enabled) names.push(cn.startsWith("*.") ? cn.slice(2) : cn);
  names.push(...k3d.network.hosts);
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
