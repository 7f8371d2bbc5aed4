/** Take Firestream's key out of CoreDNS's `coredns-custom` (the ConfigMap too, when Firestream made it and it holds nothing else). */
import type { ClusterContext } from "../context.ts";
import type { Task } from "../../src/engine/task.ts";
import {
  createCorednsCustom,
  getCorednsCustom,
  INGRESS_DNS_KEY,
  patchIngressKey,
  recordedServerBlock,
  removeIngressKey,
} from "../../src/host/ingress_dns.ts";
import type { ClusterResources } from "../../src/state/document.ts";
import { MANAGED_BY } from "../../src/tls/secret.ts";
import { clustersRead, liveCluster } from "../reads.ts";
import { serverRunning } from "../../src/tools/k3d.ts";

type IngressDnsRecord = NonNullable<ClusterResources["ingress_dns"]>;

/** Puts the recorded key back (the ConfigMap too, when it went). */
async function putBack(ctx: ClusterContext, rec: IngressDnsRecord): Promise<void> {
  const text = recordedServerBlock(ctx.name, rec);
  const cm = await getCorednsCustom(ctx.kubeContext);
  if (!cm) return await createCorednsCustom(ctx.kubeContext, text, MANAGED_BY);
  if (cm.data?.[INGRESS_DNS_KEY] !== text) await patchIngressKey(ctx.kubeContext, text);
}

const ingressDns: Task<ClusterContext, IngressDnsRecord> = {
  id: "delete-ingress-dns",
  title: "Remove ingress names from cluster DNS",
  enabled: (ctx) => Boolean(ctx.record.resources.ingress_dns),
  reads: () => [clustersRead],
  slots: ["resources.ingress_dns"],
  check: (ctx) => {
    const live = liveCluster(ctx);
    // a cluster that is gone or stopped: the key goes with the cluster delete
    if (!serverRunning(live)) {
      return { diffs: [] };
    }
    const rec = ctx.record.resources.ingress_dns!;
    return {
      diffs: [{ key: `coredns-custom ${rec.key}`, from: rec.domain, to: null }],
    };
  },
  apply: async (ctx) => {
    const rec = ctx.record.resources.ingress_dns!;
    await removeIngressKey(ctx.kubeContext, rec.configmap_created);
    delete ctx.record.resources.ingress_dns;
    return rec;
  },
  // the delete failed later: the cluster still runs, so its names answer again
  rollback: async (ctx, rec) => {
    await putBack(ctx, rec);
  },
  abandon: async (ctx) => {
    const rec = ctx.record.resources.ingress_dns;
    if (rec) await putBack(ctx, rec);
  },
};

export default ingressDns;
