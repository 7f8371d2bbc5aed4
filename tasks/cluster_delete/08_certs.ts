/** With --purge-certs: remove the cluster's certificate files, and the CA once no other cluster uses it. */
import type { ClusterContext } from "../context.ts";
import type { Task } from "../../src/engine/task.ts";
import { certPaths } from "../../src/tls/certs.ts";
import { describeUsers } from "../../src/state/owners.ts";
import { otherUsers, ownersRead } from "../reads.ts";

const certs: Task<ClusterContext, null> = {
  id: "delete-certs",
  title: "Remove certificate files",
  enabled: (ctx) => Boolean(ctx.record.resources.tls),
  slots: ["resources.tls"],
  reads: () => [ownersRead],
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
    // the CA is shared by reference: it goes with its last user, of this folder or another
    await ctx.live.refresh(ctx, [ownersRead]);
    const users = otherUsers(ctx, (c) => c.resources.tls?.ca_cert === tls.ca_cert);
    if (users.length) {
      ctx.notice(`keeping the CA ${tls.ca_cert}: ${describeUsers(users)}`);
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
