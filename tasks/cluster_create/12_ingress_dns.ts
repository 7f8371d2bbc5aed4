/** Ingress DNS: every name under the ingress domain answers, inside the cluster, with Traefik's Service (one key of CoreDNS's `coredns-custom`). */
import type { ClusterContext } from "../context.ts";
import { type CheckResult, type KeyDiff, StepFailure, type Task } from "../../src/engine/task.ts";
import { ingressDomain } from "../../src/config/schema.ts";
import {
  addressList,
  corednsCustomOf,
  corednsServerBlock,
  createCorednsCustom,
  getCorednsCustom,
  INGRESS_DNS_KEY,
  type IngressAddresses,
  patchIngressKey,
  readServerBlock,
  recordedServerBlock,
  removeIngressKey,
  traefikAddresses,
} from "../../src/host/ingress_dns.ts";
import type { ClusterResources } from "../../src/state/document.ts";
import { MANAGED_BY } from "../../src/tls/secret.ts";
import { type KubeFacts, kubeRead } from "../reads.ts";

type IngressDnsRecord = NonNullable<ClusterResources["ingress_dns"]>;

/** What rollback needs: the key's text before (null: absent), and whether the ConfigMap was made. */
export interface IngressDnsUndo {
  before: string | null;
  created: boolean;
}

/** The diff key of Firestream's entry. */
export const INGRESS_DNS_DIFF_KEY = `coredns-custom ${INGRESS_DNS_KEY}`;

/** What the key should hold, from the config and the cluster; undefined: no key. */
export function wantedIngressDns(
  ctx: ClusterContext,
  facts: KubeFacts,
): { domain: string; addresses: IngressAddresses; text: string } | undefined {
  if (!ctx.k3d.ingress.wildcard_dns) return undefined;
  const addresses = traefikAddresses(facts.services);
  if (!addresses) return undefined;
  const domain = ingressDomain(ctx.k3d);
  return { domain, addresses, text: corednsServerBlock(ctx.name, domain, addresses) };
}

/** The ConfigMap carries Firestream's label: Firestream created it. */
function createdByFirestream(cm: { metadata?: { labels?: Record<string, string> } } | undefined) {
  return Object.entries(MANAGED_BY).every(([k, v]) => cm?.metadata?.labels?.[k] === v);
}

function check(ctx: ClusterContext): CheckResult {
  const facts = ctx.live.now(kubeRead);
  const rec = ctx.record.resources.ingress_dns;
  const cm = corednsCustomOf(facts.configmaps);
  const current: string | undefined = cm?.data?.[INGRESS_DNS_KEY];
  const want = wantedIngressDns(ctx, facts);
  const note = ctx.k3d.ingress.wildcard_dns && !traefikAddresses(facts.services)
    ? "Traefik's Service is not in this cluster: ingress names are not answered"
    : undefined;
  if (!want) {
    if (current === undefined) return { diffs: [], record: null, ...(note ? { note } : {}) };
    return {
      action: "delete",
      diffs: [{
        key: INGRESS_DNS_DIFF_KEY,
        from: readServerBlock(current)?.domain ?? "set",
        to: null,
      }],
      ...(note ? { note } : {}),
    };
  }
  const record: IngressDnsRecord = {
    domain: want.domain,
    addresses: addressList(want.addresses),
    key: INGRESS_DNS_KEY,
    configmap_created: rec?.configmap_created ?? createdByFirestream(cm),
  };
  if (current === want.text) return { diffs: [], record };
  const now = current === undefined ? undefined : readServerBlock(current);
  const diffs: KeyDiff[] = [];
  if (!now) {
    // absent, or not a block Firestream wrote: the whole key
    diffs.push({
      key: INGRESS_DNS_DIFF_KEY,
      from: current === undefined ? null : "another server block",
      to: `${want.domain} → ${record.addresses.join(", ")}`,
      ...(rec ? { drift: true } : {}),
    });
    return { action: rec ? "update" : "create", diffs };
  }
  if (now.domain !== want.domain) {
    diffs.push({
      key: `${INGRESS_DNS_DIFF_KEY} domain`,
      from: now.domain,
      to: want.domain,
      ...(rec && rec.domain === want.domain ? { drift: true } : {}),
    });
  }
  if (JSON.stringify(now.addresses) !== JSON.stringify(record.addresses)) {
    // Traefik's Service got another address (recreated): the cluster moved, not the config
    diffs.push({
      key: `${INGRESS_DNS_DIFF_KEY} address`,
      from: now.addresses,
      to: record.addresses,
      ...(rec ? { drift: true } : {}),
    });
  }
  if (!diffs.length) {
    diffs.push({ key: INGRESS_DNS_DIFF_KEY, from: "edited", to: "as written", drift: true });
  }
  return { diffs };
}

/** Puts the key back to `text` (null: out), the ConfigMap going when this run created it. */
async function restore(ctx: ClusterContext, undo: IngressDnsUndo): Promise<void> {
  if (undo.created) return await removeIngressKey(ctx.kubeContext, true);
  const cm = await getCorednsCustom(ctx.kubeContext);
  // the key went with the ConfigMap Firestream had made: both come back
  if (!cm) {
    if (undo.before !== null) await createCorednsCustom(ctx.kubeContext, undo.before, MANAGED_BY);
    return;
  }
  if ((cm.data?.[INGRESS_DNS_KEY] ?? null) !== undo.before) {
    await patchIngressKey(ctx.kubeContext, undo.before);
  }
}

const ingressDns: Task<ClusterContext, IngressDnsUndo> = {
  id: "ingress-dns",
  title: "Ingress names in cluster DNS",
  needs: ["ready"],
  enabled: (ctx) => ctx.k3d.ingress.wildcard_dns || Boolean(ctx.record.resources.ingress_dns),
  reads: () => [kubeRead],
  slots: ["resources.ingress_dns"],
  check,
  apply: async (ctx) => {
    const rec = ctx.record.resources.ingress_dns;
    const want = wantedIngressDns(ctx, ctx.live.now(kubeRead));
    let before: string | null = null;
    let created = false;
    // one write at most, and last: a failure leaves the ConfigMap as it was
    try {
      // read afresh: another key may have been added since the refresh
      const cm = await getCorednsCustom(ctx.kubeContext);
      before = cm?.data?.[INGRESS_DNS_KEY] ?? null;
      if (!want) {
        if (cm) await removeIngressKey(ctx.kubeContext, rec?.configmap_created ?? false);
      } else if (!cm) {
        await createCorednsCustom(ctx.kubeContext, want.text, MANAGED_BY);
        created = true;
      } else await patchIngressKey(ctx.kubeContext, want.text);
    } catch (err) {
      throw new StepFailure(err, { undone: true });
    }
    if (!want) {
      delete ctx.record.resources.ingress_dns;
      return { before, created: false };
    }
    ctx.record.resources.ingress_dns = {
      domain: want.domain,
      addresses: addressList(want.addresses),
      key: INGRESS_DNS_KEY,
      configmap_created: created || (rec?.configmap_created ?? false),
    };
    return { before, created };
  },
  rollback: async (ctx, undo) => {
    await restore(ctx, undo);
  },
  // died while writing it: the key goes back to what the record says (out, when it says nothing)
  abandon: async (ctx) => {
    if (!ctx.record.resources.cluster) return;
    const rec = ctx.record.resources.ingress_dns;
    const cm = await getCorednsCustom(ctx.kubeContext).catch(() => undefined);
    const current = cm?.data?.[INGRESS_DNS_KEY];
    if (current === undefined) return;
    if (!rec) {
      return await removeIngressKey(ctx.kubeContext, createdByFirestream(cm));
    }
    const text = recordedServerBlock(ctx.name, rec);
    if (current !== text) await patchIngressKey(ctx.kubeContext, text);
  },
};

export default ingressDns;
