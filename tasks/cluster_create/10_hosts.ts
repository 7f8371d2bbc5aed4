/** /etc/hosts: one marked block per cluster (registry host, configured names, the parent of a wildcard TLS name). */
import type { ClusterContext } from "../context.ts";
import type { Task } from "../../src/engine/task.ts";
import { readBlock } from "../../src/host/block.ts";
import {
  hostsLines,
  ingressHostsFallback,
  shownLines,
  writeHostsBlock,
} from "../../src/host/hosts.ts";
import { hostsFilePath, readSystemFile, systemFileLink } from "../../src/host/system_file.ts";
import type { ClusterResources } from "../../src/state/document.ts";
import { fileRead, ingressHostsRead, registryHost, registryHostReads } from "../reads.ts";

type HostsRecord = NonNullable<ClusterResources["hosts_block"]>;

/** What rollback needs. */
export interface HostsUndo {
  file: string;
  /** the block's lines before this run, when there was one */
  before?: string[];
  /** the file was this symbolic link */
  link?: string;
}

/** The record of a block written to `file`, naming the link the file is, if it is one. */
async function blockRecord(
  file: string,
  lines: string[],
  link?: string,
  ingress?: string[],
): Promise<HostsRecord> {
  link ??= await systemFileLink(file);
  return {
    file,
    lines,
    ...(ingress === undefined ? {} : { ingress_hosts: ingress }),
    ...(link === undefined ? {} : { link }),
  };
}

/**
 * The Ingress hosts the block holds: where the ingress address is out of the host's reach, those
 * the cluster has now (those recorded while it does not answer); else none.
 */
function ingressNow(ctx: ClusterContext): string[] | undefined {
  if (!ingressHostsFallback(ctx.k3d)) return undefined;
  return ctx.live.now(ingressHostsRead) ??
    ctx.record.resources.hosts_block?.ingress_hosts ?? [];
}

const hosts: Task<ClusterContext, HostsUndo> = {
  id: "hosts",
  title: "/etc/hosts entries",
  needs: ["preflight"],
  enabled: (ctx) =>
    !ctx.options.skipHostNetwork &&
    (ctx.k3d.network.patch_etc_hosts || Boolean(ctx.record.resources.hosts_block)),
  reads: (ctx) => [
    fileRead(ctx.record.resources.hosts_block?.file ?? hostsFilePath()),
    ...(ingressHostsFallback(ctx.k3d) ? [ingressHostsRead] : []),
    ...registryHostReads(ctx),
  ],
  slots: ["resources.hosts_block"],
  check: (ctx) => {
    const rec = ctx.record.resources.hosts_block;
    const file = rec?.file ?? hostsFilePath();
    const { text, link } = ctx.live.now(fileRead(file));
    const current = readBlock(text, ctx.name);
    if (!ctx.k3d.network.patch_etc_hosts) {
      return {
        diffs: [{
          key: `hosts block in ${file}`,
          from: current ? shownLines(current) : null,
          to: null,
        }],
      };
    }
    const ingress = ingressNow(ctx);
    const registry = registryHost(ctx);
    const lines = hostsLines(ctx.k3d, registry, ingress);
    if (JSON.stringify(current) === JSON.stringify(lines)) {
      const base = rec ?? (link === undefined ? { file, lines } : { file, lines, link });
      const { ingress_hosts: _, ...plain } = base;
      return {
        diffs: [],
        record: ingress === undefined ? plain : { ...plain, ingress_hosts: ingress },
      };
    }
    // the block is as recorded, but the cluster's Ingresses changed: each host added or gone
    const had = rec?.ingress_hosts ?? [];
    if (
      ingress && rec &&
      JSON.stringify(current) === JSON.stringify(hostsLines(ctx.k3d, registry, had))
    ) {
      return {
        diffs: [
          ...ingress.filter((n) => !had.includes(n)).map((n) => ({
            key: `ingress host ${n}`,
            from: null,
            to: "127.0.0.1",
            drift: true,
          })),
          ...had.filter((n) => !ingress.includes(n)).map((n) => ({
            key: `ingress host ${n}`,
            from: "127.0.0.1",
            to: null,
            drift: true,
          })),
        ],
        note: "Ingress hosts of the cluster at 127.0.0.1 (its address is out of this host's reach)",
      };
    }
    // the block is not what the record says: edited or removed outside firestream
    const drift = Boolean(rec) && JSON.stringify(current) !== JSON.stringify(rec?.lines);
    return {
      diffs: [{
        key: `hosts block in ${file}`,
        from: current ? shownLines(current) : null,
        to: shownLines(lines),
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
      await writeHostsBlock(ctx.name, ctx.stateDir, file, undefined, link);
      delete ctx.record.resources.hosts_block;
      return { file, before, link };
    }
    await ctx.live.refresh(ctx, [
      ...(ingressHostsFallback(ctx.k3d) ? [ingressHostsRead] : []),
      ...registryHostReads(ctx),
    ]);
    const ingress = ingressNow(ctx);
    const lines = hostsLines(ctx.k3d, registryHost(ctx), ingress);
    await writeHostsBlock(ctx.name, ctx.stateDir, file, lines, link);
    ctx.record.resources.hosts_block = await blockRecord(file, lines, link, ingress);
    return { file, before, link };
  },
  // died while writing it: the block goes back to what the record holds (none for a new cluster)
  abandon: async (ctx) => {
    const rec = ctx.record.resources.hosts_block;
    await writeHostsBlock(
      ctx.name,
      ctx.stateDir,
      rec?.file ?? hostsFilePath(),
      rec?.lines,
      rec?.link,
    );
  },
  rollback: async (ctx, undo) => {
    await writeHostsBlock(ctx.name, ctx.stateDir, undo.file, undo.before, undo.link);
  },
};

export default hosts;
