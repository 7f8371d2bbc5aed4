/** /etc/hosts: one marked block per cluster (registry host, configured names, the parent of a wildcard TLS name). */
import type { ClusterContext } from "../../src/cluster/context.ts";
import type { Task } from "../../src/engine/task.ts";
import { readBlock, removeBlock, setBlock } from "../../src/host/block.ts";
import {
  hostsFilePath,
  readSystemFile,
  systemFileLink,
  writeSystemFile,
} from "../../src/host/system_file.ts";
import type { ClusterResources } from "../../src/state/document.ts";
import { registryContainer } from "../../src/tools/k3d.ts";
import { fileRead } from "../reads.ts";

type HostsRecord = NonNullable<ClusterResources["hosts_block"]>;

/** What rollback needs. */
export interface HostsUndo {
  file: string;
  /** the block's lines before this run, when there was one */
  before?: string[];
  previous?: HostsRecord;
  /** the file was this symbolic link */
  link?: string;
}

/** The record of a block written to `file`, naming the link the file is, if it is one. */
async function blockRecord(file: string, lines: string[], link?: string): Promise<HostsRecord> {
  link ??= await systemFileLink(file);
  return link === undefined ? { file, lines } : { file, lines, link };
}

function mentions(text: string, name: string): boolean {
  return text.split(/\r?\n/).some((l) =>
    !l.trim().startsWith("#") && l.trim().split(/\s+/).slice(1).includes(name)
  );
}

/** The block's lines for this cluster, given the rest of the file. */
export function hostsLines(ctx: ClusterContext, rest: string): string[] {
  const names: string[] = [];
  if (ctx.k3d.registry.enabled) names.push(registryContainer(ctx.k3d.registry.name));
  const cn = ctx.k3d.tls.certificate.common_name;
  if (ctx.k3d.tls.enabled) names.push(cn.startsWith("*.") ? cn.slice(2) : cn);
  names.push(...ctx.k3d.network.hosts);
  // the machine's own name, only when the file does not already resolve it
  const self = Deno.hostname();
  if (self && !mentions(rest, self)) names.push(self);
  return [...new Set(names)].map((n) => `127.0.0.1\t${n}`);
}

/**
 * Sets this cluster's block to `lines`, or removes it (undefined); nothing else in the file changes.
 * `link`: the file was this symbolic link when the block was written (it stays, or comes back, a link).
 */
export async function writeHostsBlock(
  ctx: ClusterContext,
  file: string,
  lines: string[] | undefined,
  link?: string,
): Promise<void> {
  const text = await readSystemFile(file);
  const next = lines ? setBlock(text, ctx.name, lines) : removeBlock(text, ctx.name);
  if (next !== text) {
    await writeSystemFile(file, next, {
      backup: `${ctx.stateDir}/backups/hosts.${ctx.name}.bak`,
      link,
    });
  }
}

const hosts: Task<ClusterContext, HostsUndo> = {
  id: "hosts",
  title: "/etc/hosts entries",
  needs: ["preflight"],
  enabled: (ctx) =>
    !ctx.options.skipHostNetwork &&
    (ctx.k3d.network.patch_etc_hosts || Boolean(ctx.record.resources.hosts_block)),
  reads: (ctx) => [fileRead(ctx.record.resources.hosts_block?.file ?? hostsFilePath())],
  slots: ["resources.hosts_block"],
  check: (ctx) => {
    const rec = ctx.record.resources.hosts_block;
    const file = rec?.file ?? hostsFilePath();
    const { text, link } = ctx.live.now(fileRead(file));
    const current = readBlock(text, ctx.name);
    if (!ctx.k3d.network.patch_etc_hosts) {
      return { diffs: [{ key: `hosts block in ${file}`, from: current ?? null, to: null }] };
    }
    const lines = hostsLines(ctx, removeBlock(text, ctx.name));
    if (JSON.stringify(current) === JSON.stringify(lines)) {
      return {
        diffs: [],
        record: rec ?? (link === undefined ? { file, lines } : { file, lines, link }),
      };
    }
    // the block is not what the record says: edited or removed outside firestream
    const drift = Boolean(rec) && JSON.stringify(current) !== JSON.stringify(rec?.lines);
    return {
      diffs: [{
        key: `hosts block in ${file}`,
        from: current ?? null,
        to: lines,
        ...(drift ? { drift } : {}),
      }],
    };
  },
  apply: async (ctx) => {
    const previous = ctx.record.resources.hosts_block;
    const file = previous?.file ?? hostsFilePath();
    const before = readBlock(await readSystemFile(file), ctx.name);
    const link = previous?.link ?? await systemFileLink(file);
    if (!ctx.k3d.network.patch_etc_hosts) {
      await writeHostsBlock(ctx, file, undefined, link);
      delete ctx.record.resources.hosts_block;
      return { file, before, previous, link };
    }
    const lines = hostsLines(ctx, removeBlock(await readSystemFile(file), ctx.name));
    await writeHostsBlock(ctx, file, lines, link);
    ctx.record.resources.hosts_block = await blockRecord(file, lines, link);
    return { file, before, previous, link };
  },
  // died while writing it: the block goes back to what the record holds (none for a new cluster)
  abandon: async (ctx) => {
    const rec = ctx.record.resources.hosts_block;
    await writeHostsBlock(ctx, rec?.file ?? hostsFilePath(), rec?.lines, rec?.link);
  },
  rollback: async (ctx, undo) => {
    await writeHostsBlock(ctx, undo.file, undo.before, undo.link);
  },
};

export default hosts;
