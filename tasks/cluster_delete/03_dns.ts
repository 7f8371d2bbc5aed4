/** Revert the host's DNS settings for this cluster. */
import type { ClusterContext } from "../context.ts";
import type { Task } from "../../src/engine/task.ts";
import { removeDns, setDns } from "../../src/host/dns_settings.ts";
import type { ClusterResources } from "../../src/state/document.ts";

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
    await removeDns(ctx.name, ctx.stateDir, rec);
    delete ctx.record.resources.dns;
    return rec;
  },
  rollback: async (ctx, rec) => {
    await setDns(ctx.name, ctx.stateDir, rec, ctx.notice);
  },
  abandon: async (ctx) => {
    const rec = ctx.record.resources.dns;
    if (rec) await setDns(ctx.name, ctx.stateDir, rec, ctx.notice);
  },
};

export default dns;
