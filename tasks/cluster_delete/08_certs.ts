/** With --purge-certs: remove the cluster's certificate files, and the CA once no other cluster uses it. */
import type { ClusterContext } from "../context.ts";
import type { Task } from "../../src/engine/task.ts";
import { certPaths } from "../../src/tls/certs.ts";

const certs: Task<ClusterContext, null> = {
  id: "delete-certs",
  title: "Remove certificate files",
  enabled: (ctx) => Boolean(ctx.record.resources.tls),
  slots: ["resources.tls"],
  check: (ctx) => {
    const dir = certPaths(ctx.record.k3d_config.tls.certs_dir, ctx.name).clusterDir;
    if (!ctx.options.purgeCerts) {
      return {
        diffs: [],
        record: null,
        note: `keeping certificates in ${dir} (--purge-certs removes them)`,
      };
    }
    return { diffs: [{ key: "certificates", from: dir, to: null }] };
  },
  apply: async (ctx) => {
    const tls = ctx.record.resources.tls!;
    const p = certPaths(ctx.record.k3d_config.tls.certs_dir, ctx.name);
    await Deno.remove(p.clusterDir, { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
    const others = Object.values(ctx.state.clusters).filter((c) =>
      c.name !== ctx.name && c.resources.tls?.ca_cert === tls.ca_cert
    );
    if (others.length) {
      ctx.notice(`keeping the CA: cluster ${others.map((o) => o.name).join(", ")} uses it`);
    } else {
      await Deno.remove(tls.ca_cert).catch(() => {});
      await Deno.remove(tls.ca_cert.replace(/\.crt$/, ".key")).catch(() => {});
    }
    delete ctx.record.resources.tls;
    return null;
  },
  rollback: () => Promise.resolve(),
};

export default certs;
