/** Remove this cluster's /etc/hosts block. */
import type { ClusterContext } from "../context.ts";
import type { Task } from "../../src/engine/task.ts";
import { readBlock } from "../../src/host/block.ts";
import type { ClusterResources } from "../../src/state/document.ts";
import { writeHostsBlock } from "../../src/host/hosts.ts";
import { fileRead } from "../reads.ts";

type HostsRecord = NonNullable<ClusterResources["hosts_block"]>;

const hosts: Task<ClusterContext, HostsRecord> = {
  id: "delete-hosts",
  title: "Remove /etc/hosts entries",
  enabled: (ctx) => Boolean(ctx.record.resources.hosts_block),
  reads: (ctx) => [fileRead(ctx.record.resources.hosts_block!.file)],
  slots: ["resources.hosts_block"],
  check: (ctx) => {
    const rec = ctx.record.resources.hosts_block!;
    const block = readBlock(ctx.live.now(fileRead(rec.file)).text, ctx.name);
    if (block === undefined) return { diffs: [], record: null };
    return { diffs: [{ key: `hosts block in ${rec.file}`, from: block, to: null }] };
  },
  apply: async (ctx) => {
    const rec = ctx.record.resources.hosts_block!;
    await writeHostsBlock(ctx.name, ctx.stateDir, rec.file, undefined, rec.link);
    delete ctx.record.resources.hosts_block;
    return rec;
  },
  rollback: async (ctx, rec) => {
    await writeHostsBlock(ctx.name, ctx.stateDir, rec.file, rec.lines, rec.link);
  },
  // died while removing it: the record still names the block, which goes back as it was
  abandon: async (ctx) => {
    const rec = ctx.record.resources.hosts_block;
    if (rec) await writeHostsBlock(ctx.name, ctx.stateDir, rec.file, rec.lines, rec.link);
  },
};

export default hosts;
