/** DNS: cluster names resolve on the host (split DNS, two resolv.conf blocks, or /etc/resolver), then the seed's DNS test. */
import type { ClusterContext } from "../context.ts";
import { clusterDnsAddress } from "../../src/tools/k3d_config.ts";
import { ingressDomain } from "../../src/config/schema.ts";
import { ingressResolverPath } from "../../src/host/ingress_dns.ts";
import { type CheckResult, StepFailure, type Task } from "../../src/engine/task.ts";
import { FirestreamError } from "../../src/errors.ts";
import {
  CLUSTER_DOMAIN,
  macResolverPath,
  macResolverText,
  probeDns,
  probeTarget,
  resolvConfWith,
  SEARCH_DOMAINS,
} from "../../src/host/dns.ts";
import { resolvConfPath } from "../../src/host/system_file.ts";
import { DNS_TROUBLESHOOTING, removeDns, setDns } from "../../src/host/dns_settings.ts";
import type { ClusterResources } from "../../src/state/document.ts";
import { bridgeInterface } from "../../src/tools/docker.ts";
import { clusterNetwork } from "../../src/tools/k3d_names.ts";
import { dnsRead, dockerRead, fileRead, network } from "../reads.ts";

type DnsRecord = NonNullable<ClusterResources["dns"]>;

/** What rollback needs. */
export interface DnsUndo {
  set?: DnsRecord;
  removed?: DnsRecord;
}

function bridge(ctx: ClusterContext): string {
  const net = network(ctx);
  if (!net) {
    throw new FirestreamError(`docker network ${clusterNetwork(ctx.name)} not found`, {
      hint: "is the cluster running?",
    });
  }
  return bridgeInterface(net);
}

/** The ingress domain the host sends to kube-dns too, when the wildcard DNS is on. */
function ingressZone(ctx: ClusterContext): string | undefined {
  return ctx.k3d.ingress.wildcard_dns ? ingressDomain(ctx.k3d) : undefined;
}

/** What this step reads: the DNS method, the cluster's bridge and the files it may write. */
function reads(ctx: ClusterContext) {
  const zone = ingressZone(ctx);
  const mac = Deno.build.os === "darwin";
  return [
    dnsRead,
    dockerRead,
    fileRead(resolvConfPath()),
    ...(mac ? [fileRead(macResolverPath())] : []),
    ...(mac && zone ? [fileRead(ingressResolverPath(zone))] : []),
    ...(mac && ctx.record.resources.dns?.ingress_file
      ? [fileRead(ctx.record.resources.dns.ingress_file)]
      : []),
  ];
}

/** The DNS settings wanted, from the snapshot. */
function desiredNow(ctx: ClusterContext): DnsRecord {
  const server = clusterDnsAddress(ctx.k3d);
  const { mode } = ctx.live.now(dnsRead);
  const zone = ingressZone(ctx);
  if (mode === "resolved") {
    // the ingress domain is a routing domain beside cluster.local: its names ask kube-dns too
    const domains = [`~${CLUSTER_DOMAIN}`, ...(zone ? [`~${zone}`] : [])];
    return { mode, interface: bridge(ctx), server, domains };
  }
  if (mode === "macos-resolver") {
    const domains = [CLUSTER_DOMAIN, ...(zone ? [zone] : [])];
    return {
      mode,
      file: macResolverPath(),
      server,
      domains,
      ...(zone ? { ingress_file: ingressResolverPath(zone) } : {}),
    };
  }
  // resolv.conf: kube-dns is asked first already, and answers the ingress domain itself
  const file = resolvConfPath();
  // a link (systemd-resolved's stub, resolvconf) stays one: recorded, so delete restores exactly it
  const link = ctx.record.resources.dns?.file === file
    ? ctx.record.resources.dns.link
    : ctx.live.now(fileRead(file)).link;
  return { mode, file, server, domains: SEARCH_DOMAINS, ...(link === undefined ? {} : { link }) };
}

/** The DNS settings wanted, read afresh. */
async function desired(ctx: ClusterContext): Promise<DnsRecord> {
  await ctx.live.refresh(ctx, reads(ctx));
  return desiredNow(ctx);
}

/** What is set now where `want` goes, in words, or undefined when it is as wanted. */
function differs(ctx: ClusterContext, want: DnsRecord): string | undefined {
  if (want.mode === "resolved") {
    const link = ctx.live.now(dnsRead).links[want.interface!] ?? { dns: [], domains: [] };
    // a routing domain recorded before and no longer wanted (the ingress domain changed) must go
    const stale = (ctx.record.resources.dns?.domains ?? []).filter((d) =>
      !want.domains.includes(d) && link.domains.includes(d)
    );
    const set = link.dns.includes(want.server) &&
      want.domains.every((d) => link.domains.includes(d)) && !stale.length;
    return set ? undefined : [...link.dns, ...link.domains].join(" ") || "nothing";
  }
  const text = ctx.live.now(fileRead(want.file!)).text;
  if (want.mode === "macos-resolver") {
    const old = ctx.record.resources.dns?.ingress_file;
    const files = [want.file!, ...(want.ingress_file ? [want.ingress_file] : [])];
    const set = files.every((f) => ctx.live.now(fileRead(f)).text === macResolverText(want.server));
    const stale = old && old !== want.ingress_file && ctx.live.now(fileRead(old)).text;
    return set && !stale ? undefined : text ? "other settings" : "missing";
  }
  return resolvConfWith(text, { cluster: ctx.name, server: want.server }).text === text
    ? undefined
    : "no cluster blocks, or others";
}

function check(ctx: ClusterContext): CheckResult {
  const rec = ctx.record.resources.dns;
  if (!ctx.k3d.network.configure_dns) {
    return { diffs: [{ key: `dns ${rec?.mode}`, from: rec?.server, to: null }] };
  }
  const want = desiredNow(ctx);
  const now = differs(ctx, want);
  if (now === undefined) return { diffs: [], record: rec ?? want };
  const where = want.mode === "resolved" ? `resolvectl ${want.interface}` : want.file!;
  // drift: the machine moved away from what is recorded, for settings the config still wants
  const same = rec?.mode === want.mode && rec.interface === want.interface &&
    rec.file === want.file && JSON.stringify(rec.domains) === JSON.stringify(want.domains);
  return {
    diffs: [{
      key: `dns ${where}`,
      from: now,
      to: `${want.server} for ${want.domains.join(" ")}`,
      ...(same ? { drift: true } : {}),
    }],
  };
}

async function test(ctx: ClusterContext, server: string): Promise<void> {
  const target = probeTarget(server);
  if (target === "off") return ctx.notice("DNS test skipped (FIRESTREAM_DNS_PROBE=off)");
  const result = await probeDns(target);
  if (result.ok) {
    return ctx.notice(
      `DNS test: kubernetes.default.svc.${CLUSTER_DOMAIN} → ${result.addresses.join(", ")}`,
    );
  }
  const message = `${DNS_TROUBLESHOOTING} (asked ${target.ipAddr}:${target.port}: ${result.error})`;
  if (ctx.options.strict) {
    throw new FirestreamError(message, { hint: "without --strict this is a warning" });
  }
  ctx.notice(`warning: ${message}`);
}

const dns: Task<ClusterContext, DnsUndo> = {
  id: "dns",
  title: "Cluster DNS on the host",
  // kube-dns is reached through the routes
  needs: ["routes"],
  enabled: (ctx) =>
    !ctx.options.skipHostNetwork &&
    (ctx.k3d.network.configure_dns || Boolean(ctx.record.resources.dns)),
  reads,
  slots: ["resources.dns"],
  check,
  apply: async (ctx) => {
    const previous = ctx.record.resources.dns;
    if (!ctx.k3d.network.configure_dns) {
      await removeDns(ctx.name, ctx.stateDir, previous!);
      delete ctx.record.resources.dns;
      return { removed: previous };
    }
    const want = await desired(ctx);
    const moved = previous &&
      (previous.mode !== want.mode || previous.interface !== want.interface ||
        previous.file !== want.file || previous.ingress_file !== want.ingress_file);
    if (moved) await removeDns(ctx.name, ctx.stateDir, previous);
    try {
      await setDns(ctx.name, ctx.stateDir, want, ctx.notice);
    } catch (err) {
      if (err instanceof StepFailure || !moved) {
        throw err instanceof StepFailure ? err : new StepFailure(err, { undone: true });
      }
      // the old settings went first: put them back
      await setDns(ctx.name, ctx.stateDir, previous, ctx.notice).catch((undoErr) => {
        delete ctx.record.resources.dns;
        throw new StepFailure(err, {
          left: `cluster DNS is not set on this host (${
            (undoErr as Error).message
          }); state updated; run \`firestream apply\` to finish`,
        });
      });
      throw new StepFailure(err, { undone: true });
    }
    ctx.record.resources.dns = want;
    if (!ctx.k3d.network.configure_routes) {
      ctx.notice(
        `note: kube-dns (${want.server}) is reachable from the host only through the routes (configure_routes)`,
      );
    }
    try {
      await test(ctx, want.server);
    } catch (err) {
      // --strict: the settings that failed the test go again
      try {
        await removeDns(ctx.name, ctx.stateDir, want);
      } catch {
        throw new StepFailure(err, {
          left: "the cluster DNS settings stay in place; state updated",
        });
      }
      delete ctx.record.resources.dns;
      throw new StepFailure(
        err,
        previous
          ? { left: "the cluster DNS settings were removed; state updated" }
          : { undone: true },
      );
    }
    return { set: want };
  },
  // died while setting it: what the record does not hold goes, what it holds is put back
  abandon: async (ctx) => {
    const rec = ctx.record.resources.dns;
    const want = await desired(ctx).catch(() => undefined);
    if (want && JSON.stringify(want) !== JSON.stringify(rec)) {
      await removeDns(ctx.name, ctx.stateDir, want);
    }
    if (rec) await setDns(ctx.name, ctx.stateDir, rec, ctx.notice);
  },
  rollback: async (ctx, undo) => {
    if (undo.set) await removeDns(ctx.name, ctx.stateDir, undo.set);
    if (undo.removed) await setDns(ctx.name, ctx.stateDir, undo.removed, ctx.notice);
  },
};

export default dns;
