/** This cluster's block in /etc/hosts: its lines, and writing or removing it. */
import type { K3dConfig } from "../config/schema.ts";
import { registryContainer } from "../tools/k3d.ts";
import { removeBlock, setBlock } from "./block.ts";
import { readSystemFile, writeSystemFile } from "./system_file.ts";

/** The block's lines for this cluster: the registry, the certificate's name and `network.hosts`. */
export function hostsLines(k3d: K3dConfig): string[] {
  const names: string[] = [];
  if (k3d.registry.enabled) names.push(registryContainer(k3d.registry.name));
  const cn = k3d.tls.certificate.common_name;
  if (k3d.tls.enabled) names.push(cn.startsWith("*.") ? cn.slice(2) : cn);
  names.push(...k3d.network.hosts);
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
