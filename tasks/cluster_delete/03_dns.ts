/** Revert the host's DNS settings for this cluster. */
import type { ClusterContext } from "../../src/cluster/context.ts";
import type { Task } from "../../src/engine/task.ts";
import type { ClusterResources } from "../../src/state/document.ts";
import { removeDns, setDns } from "../cluster_create/09_dns.ts";

type DnsRecord = NonNullable<ClusterResources["dns"]>;

const dns: Task<ClusterContext, DnsRecord> = {
  id: "delete-dns",
  title: "Revert cluster DNS on the host",
  enabled: (ctx) => Boolean(ctx.record.resources.dns),
  slots: ["resources.dns"],
  check: (ctx) => ({
    diffs: [{ key: `dns ${ctx.record.resources.dns?.mode}`, from: "set", to: null }],
  }),
  apply: async (ctx) => {
    const rec = ctx.record.resources.dns!;
    await removeDns(ctx, rec);
    delete ctx.record.resources.dns;
    return rec;
  },
  rollback: async (ctx, rec) => {
    await setDns(ctx, rec);
    ctx.record.resources.dns = rec;
  },
  abandon: async (ctx) => {
    const rec = ctx.record.resources.dns;
    if (rec) await setDns(ctx, rec);
  },
};

export default dns;
