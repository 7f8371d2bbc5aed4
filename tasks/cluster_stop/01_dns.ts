/** Take the cluster's nameserver out of resolv.conf while it is stopped; `apply` puts it back. */
import type { ClusterContext } from "../context.ts";
import type { Task } from "../../src/engine/task.ts";
import { removeDns, setDns } from "../../src/host/dns_settings.ts";
import { hasResolvConfBlocks } from "../../src/host/dns.ts";

import type { ClusterResources } from "../../src/state/document.ts";
import { fileRead } from "../reads.ts";

type DnsRecord = NonNullable<ClusterResources["dns"]>;

const dns: Task<ClusterContext, DnsRecord> = {
  id: "stop-dns",
  title: "Take cluster DNS out of resolv.conf",
  // split DNS (systemd-resolved, macOS) sends only cluster.local names to kube-dns: left as it is
  enabled: (ctx) => ctx.record.resources.dns?.mode === "resolv.conf",
  reads: (ctx) => [fileRead(ctx.record.resources.dns!.file!)],
  check: (ctx) => {
    const rec = ctx.record.resources.dns!;
    const set = hasResolvConfBlocks(ctx.live.now(fileRead(rec.file!)).text, ctx.name);
    return { diffs: set ? [{ key: `dns ${rec.file}`, from: "cluster blocks", to: null }] : [] };
  },
  apply: async (ctx) => {
    // the record stays: the next apply starts the cluster and writes the blocks again
    const rec = ctx.record.resources.dns!;
    await removeDns(ctx.name, ctx.stateDir, rec);
    return rec;
  },
  rollback: async (ctx, rec) => await setDns(ctx.name, ctx.stateDir, rec, ctx.notice),
};

export default dns;
