/** TLS secret: `kubernetes.io/tls` secret in each namespace, and Traefik's default certificate; removed when TLS is turned off. */
import type { ClusterContext } from "../context.ts";
import { type KeyDiff, StepFailure, type Task } from "../../src/engine/task.ts";
import { certPaths } from "../../src/tls/certs.ts";
import {
  applyManifest,
  applySecrets,
  deleteSecret,
  deleteTlsStore,
  fileBase64,
  removeSecrets,
  restoreSecrets,
  secretCert,
  secretManifest,
  secretNamespaces,
  tlsStoreManifest,
  tlsStoreSecret,
  TRAEFIK_NAMESPACE,
} from "../../src/tls/secret.ts";
import { getOptional, kubectl } from "../../src/tools/kubectl.ts";
import { certRead, kubeRead, secretCertOf } from "../reads.ts";

/** What rollback needs. */
export interface TlsSecretUndo {
  /** namespaces where the secret did not exist before */
  created: string[];
  /** namespaces where an older secret was replaced */
  updated: string[];
  /** namespaces firestream created to hold the secret */
  namespaces: string[];
  tlsStore: "created" | "updated" | "unchanged";
  /** the secret was removed (TLS turned off) */
  removed?: { name: string; namespaces: string[] };
  /** the secret Traefik's default pointed at before */
  storeBefore?: string;
  /** copies of the old secret deleted after the new one was in place (renamed, or namespace dropped) */
  deleted?: { name: string; namespaces: string[] };
}

/** Bound on waiting for Traefik's CRDs after the cluster is ready. */
export const TRAEFIK_CRD_WAIT_MS = 90_000;

/** True when k3s is installing Traefik (its `traefik-crd` HelmChart exists), so its CRDs are coming. */
async function traefikComing(context: string): Promise<boolean> {
  const chart = await getOptional(context, [
    "helmcharts.helm.cattle.io",
    "traefik-crd",
    "-n",
    TRAEFIK_NAMESPACE,
  ]).catch(() => undefined);
  return chart !== undefined;
}

/**
 * Traefik's default TLSStore secret. Right after create, k3s has not yet applied Traefik's CRDs (its
 * traefik-crd HelmChart job runs later): while that chart exists, wait for the type, bounded.
 */
async function traefikStore(
  ctx: ClusterContext,
): Promise<string | "absent" | "no-traefik" | "not-yet"> {
  let store = await tlsStoreSecret(ctx.kubeContext);
  if (store !== "no-traefik" || !(await traefikComing(ctx.kubeContext))) return store;
  ctx.notice(
    "waiting for Traefik's TLSStore type (k3s installs Traefik's CRDs after the nodes are ready)",
  );
  const deadline = Date.now() + TRAEFIK_CRD_WAIT_MS;
  while (store === "no-traefik" && Date.now() < deadline && !ctx.signal?.aborted) {
    await new Promise((r) => setTimeout(r, 1000));
    store = await tlsStoreSecret(ctx.kubeContext);
  }
  return store === "no-traefik" ? "not-yet" : store;
}

const tlsSecret: Task<ClusterContext, TlsSecretUndo> = {
  id: "tls-secret",
  title: "TLS secret and Traefik default certificate",
  needs: ["ready", "tls-cert"],
  enabled: (ctx) =>
    ctx.k3d.tls.enabled || Boolean(ctx.record.resources.tls?.secret.namespaces.length),
  reads: (ctx) => ctx.k3d.tls.enabled ? [certRead, kubeRead] : [],
  slots: ["resources.tls.secret"],
  check: (ctx) => {
    const recorded = ctx.record.resources.tls?.secret;
    const name = ctx.k3d.tls.secret_name;
    if (!ctx.k3d.tls.enabled) {
      return {
        action: "delete",
        diffs: [{ key: "tls.secret", from: recorded?.name, to: null }],
        note: `secret ${recorded?.name} in ${recorded?.namespaces.join(", ")}`,
      };
    }
    const want = ctx.live.now(certRead).base64;
    const facts = ctx.live.now(kubeRead);
    const namespaces = secretNamespaces(ctx.k3d.tls.namespaces);
    const diffs: KeyDiff[] = [];
    if (recorded && recorded.name !== name) {
      diffs.push({ key: "tls.secret_name", from: recorded.name, to: name });
    }
    const dropped = (recorded?.namespaces ?? []).filter((n) => !namespaces.includes(n));
    if (dropped.length) {
      diffs.push({ key: "tls.namespaces", from: recorded!.namespaces, to: namespaces });
    }
    for (const ns of namespaces) {
      const current = secretCertOf(facts, name, ns);
      if (current === want) continue;
      const ours = recorded?.name === name && recorded.namespaces.includes(ns);
      diffs.push({
        key: `secret ${ns}/${name}`,
        from: current === undefined ? null : "another certificate",
        to: "the cluster's certificate",
        ...(ours ? { drift: true } : {}),
      });
    }
    const store = facts.tlsStore;
    if (store !== "no-traefik" && store !== name) {
      const ours = recorded?.name === name;
      diffs.push({
        key: "traefik default certificate",
        from: store === "absent" ? null : store,
        to: name,
        ...(ours ? { drift: true } : {}),
      });
    }
    if (diffs.length) return { diffs };
    return { diffs: [], record: { name, namespaces } };
  },
  apply: async (ctx) => {
    const undo: TlsSecretUndo = { created: [], updated: [], namespaces: [], tlsStore: "unchanged" };
    const recorded = ctx.record.resources.tls?.secret;
    if (!ctx.k3d.tls.enabled) {
      await removeSecrets(ctx.kubeContext, recorded!.name, recorded!.namespaces);
      undo.removed = recorded;
      delete ctx.record.resources.tls;
      return undo;
    }
    const namespaces = secretNamespaces(ctx.k3d.tls.namespaces);
    const p = certPaths(ctx.k3d.tls.certs_dir, ctx.name);
    const want = await fileBase64(p.cert);
    try {
      for (const ns of namespaces) {
        if (!(await getOptional(ctx.kubeContext, ["namespace", ns]))) {
          await kubectl(ctx.kubeContext, ["create", "namespace", ns]);
          undo.namespaces.push(ns);
        }
        const current = await secretCert(ctx.kubeContext, ctx.k3d.tls.secret_name, ns);
        if (current === want) continue;
        await applySecrets(
          ctx.kubeContext,
          ctx.k3d.tls.certs_dir,
          ctx.name,
          ctx.k3d.tls.secret_name,
          [ns],
        );
        (current === undefined ? undo.created : undo.updated).push(ns);
      }
      const store = await traefikStore(ctx);
      if (store === "no-traefik") {
        ctx.notice("Traefik is not installed in this cluster: no default certificate set");
      } else if (store === "not-yet") {
        ctx.notice(
          `Traefik's TLSStore type did not appear within ${
            TRAEFIK_CRD_WAIT_MS / 1000
          }s: Traefik keeps its own certificate for now; run \`firestream apply\` again to set ${ctx.k3d.tls.secret_name} as its default`,
        );
      } else if (store !== ctx.k3d.tls.secret_name) {
        await applyManifest(ctx.kubeContext, await tlsStoreManifest(ctx.k3d.tls.secret_name));
        undo.tlsStore = store === "absent" ? "created" : "updated";
        if (store !== "absent") undo.storeBefore = store;
      }
      // a renamed secret or a namespace dropped from the list: the old copies go, once the new
      // ones are in place
      if (recorded) {
        const stale = recorded.name !== ctx.k3d.tls.secret_name
          ? recorded.namespaces
          : recorded.namespaces.filter((n) => !namespaces.includes(n));
        for (const ns of stale) {
          await deleteSecret(ctx.kubeContext, recorded.name, ns);
          undo.deleted = {
            name: recorded.name,
            namespaces: [...(undo.deleted?.namespaces ?? []), ns],
          };
        }
      }
    } catch (err) {
      try {
        await undoSecrets(ctx, undo);
      } catch (undoErr) {
        throw new StepFailure(err, {
          left: `the TLS secrets could not be put back as they were (${
            (undoErr as Error).message
          }); run \`firestream apply\` to finish`,
        });
      }
      throw new StepFailure(err, { undone: true });
    }
    ctx.record.resources.tls!.secret = { name: ctx.k3d.tls.secret_name, namespaces };
    return undo;
  },
  rollback: async (ctx, undo) => {
    await undoSecrets(ctx, undo);
  },
  // died while writing them: our secret (it holds our certificate) goes from namespaces the record
  // does not list; a cluster this run made goes as a whole with the cluster step
  abandon: async (ctx) => {
    if (!ctx.record.resources.cluster || !ctx.k3d.tls.enabled) return;
    const kept = ctx.record.resources.tls?.secret;
    const ours = await fileBase64(certPaths(ctx.k3d.tls.certs_dir, ctx.name).cert).catch(() =>
      undefined
    );
    for (const ns of secretNamespaces(ctx.k3d.tls.namespaces)) {
      if (kept?.name === ctx.k3d.tls.secret_name && kept.namespaces.includes(ns)) continue;
      const current = await secretCert(ctx.kubeContext, ctx.k3d.tls.secret_name, ns);
      if (current === undefined || current !== ours) continue;
      await deleteSecret(ctx.kubeContext, ctx.k3d.tls.secret_name, ns);
    }
  },
};

async function undoSecrets(ctx: ClusterContext, undo: TlsSecretUndo): Promise<void> {
  if (undo.removed) {
    // TLS was turned off: put the secrets back
    await restoreSecrets(
      ctx.kubeContext,
      ctx.k3d.tls.certs_dir,
      ctx.name,
      undo.removed.name,
      undo.removed.namespaces,
    );
    return;
  }
  if (undo.deleted) {
    // the old copies come back from the certificate files, before the new ones go
    await applySecrets(
      ctx.kubeContext,
      ctx.k3d.tls.certs_dir,
      ctx.name,
      undo.deleted.name,
      undo.deleted.namespaces,
    );
  }
  const name = ctx.k3d.tls.secret_name;
  for (const ns of undo.created) {
    await deleteSecret(ctx.kubeContext, name, ns);
  }
  if (undo.updated.length) {
    // the certificate step's rollback restores the previous files; its secret follows from them
    const p = certPaths(ctx.k3d.tls.certs_dir, ctx.name);
    const prev = { cert: `${p.cert}.prev`, key: `${p.key}.prev` };
    for (const ns of undo.updated) {
      const manifest = await secretManifest(ctx.kubeContext, { name, namespace: ns, ...prev });
      await applyManifest(ctx.kubeContext, manifest);
    }
  }
  if (undo.tlsStore === "created") {
    await deleteTlsStore(ctx.kubeContext);
  } else if (undo.storeBefore) {
    await applyManifest(ctx.kubeContext, await tlsStoreManifest(undo.storeBefore));
  }
  for (const ns of undo.namespaces) {
    await kubectl(ctx.kubeContext, ["delete", "namespace", ns, "--ignore-not-found"]);
  }
}

export default tlsSecret;
