/** Certificates: the shared local CA (created once) and this cluster's server certificate, reissued when stale. */
import type { ClusterContext } from "../context.ts";
import type { Task } from "../../src/engine/task.ts";
import type { ClusterResources } from "../../src/state/document.ts";
import {
  type CertInfo,
  certPaths,
  ensureCa,
  issueCert,
  readCert,
  renewalReason,
} from "../../src/tls/certs.ts";
import { certRead, registryHost, registryHostReads } from "../reads.ts";

/** What rollback needs (paths only: no key material leaves the certificates directory). */
export interface TlsCertUndo {
  caCreated: boolean;
  hadPrevious: boolean;
}

async function move(from: string, to: string): Promise<void> {
  await Deno.rename(from, to).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
}

/** The record of the certificate `info`, keeping the secret the record names. */
function tlsRecord(ctx: ClusterContext, info: CertInfo): NonNullable<ClusterResources["tls"]> {
  const p = certPaths(ctx.k3d.tls.certs_dir, ctx.name);
  return {
    ca_cert: p.caCert,
    cert: p.cert,
    key: p.key,
    fingerprint: info.fingerprint,
    not_after: info.notAfter.toISOString(),
    subject: info.subject,
    sans: [...info.sans.dns, ...info.sans.ip],
    secret: ctx.record.resources.tls?.secret ?? { name: ctx.k3d.tls.secret_name, namespaces: [] },
  };
}

async function record(ctx: ClusterContext): Promise<void> {
  const p = certPaths(ctx.k3d.tls.certs_dir, ctx.name);
  ctx.record.resources.tls = tlsRecord(ctx, (await readCert(p.cert)).info);
}

const tlsCert: Task<ClusterContext, TlsCertUndo> = {
  id: "tls-cert",
  title: "TLS certificate",
  needs: ["preflight"],
  enabled: (ctx) => ctx.k3d.tls.enabled,
  reads: (ctx) => [...registryHostReads(ctx), certRead],
  slots: ["resources.tls"],
  check: (ctx) => {
    const { reason, info } = ctx.live.now(certRead);
    const rec = ctx.record.resources.tls;
    if (!reason) return { diffs: [], record: rec ? undefined : tlsRecord(ctx, info!) };
    // the files are not what the record holds: changed or removed outside firestream
    const drift = Boolean(rec) && info?.fingerprint !== rec?.fingerprint;
    return {
      diffs: [{
        key: "tls.certificate",
        from: info ? `${info.subject} (${info.fingerprint.slice(0, 16)}…)` : null,
        to: reason === "no certificate yet" ? "issued" : "reissued",
        ...(drift ? { drift } : {}),
      }],
      note: reason,
    };
  },
  apply: async (ctx) => {
    const p = certPaths(ctx.k3d.tls.certs_dir, ctx.name);
    const caCreated = await ensureCa(p);
    // the registry's name as read now (a registry step running alongside may have recorded it)
    await ctx.live.refresh(ctx, registryHostReads(ctx));
    const registry = registryHost(ctx);
    const reason = await renewalReason(p, ctx.k3d, registry);
    const hadPrevious = reason !== "no certificate yet";
    if (hadPrevious) {
      ctx.notice(`reissuing the certificate: ${reason}`);
      await move(p.cert, `${p.cert}.prev`);
      await move(p.key, `${p.key}.prev`);
    }
    await issueCert(p, ctx.k3d, registry);
    await record(ctx);
    return { caCreated, hadPrevious };
  },
  // died while issuing: a certificate the record does not hold goes, a replaced one comes back
  // (a CA made meanwhile stays: nothing tells it from one kept by an earlier delete)
  abandon: async (ctx) => {
    const p = certPaths(ctx.k3d.tls.certs_dir, ctx.name);
    const rec = ctx.record.resources.tls;
    if (!rec) {
      await Deno.remove(p.cert).catch(() => {});
      await Deno.remove(p.key).catch(() => {});
      await Deno.remove(p.clusterDir).catch(() => {});
      return;
    }
    const now = await readCert(p.cert).catch(() => undefined);
    if (now?.info.fingerprint === rec.fingerprint) return;
    await move(`${p.cert}.prev`, p.cert);
    await move(`${p.key}.prev`, p.key);
  },
  rollback: async (ctx, undo) => {
    const p = certPaths(ctx.k3d.tls.certs_dir, ctx.name);
    await Deno.remove(p.cert).catch(() => {});
    await Deno.remove(p.key).catch(() => {});
    if (undo.hadPrevious) {
      await move(`${p.cert}.prev`, p.cert);
      await move(`${p.key}.prev`, p.key);
    } else await Deno.remove(p.clusterDir).catch(() => {});
    if (undo.caCreated) {
      await Deno.remove(p.caCert).catch(() => {});
      await Deno.remove(p.caKey).catch(() => {});
    }
  },
};

export default tlsCert;
