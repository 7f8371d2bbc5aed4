/** Remove the TLS secrets and Traefik's default certificate (when the cluster still answers). */
import type { ClusterContext } from "../context.ts";
import { StepFailure, type Task } from "../../src/engine/task.ts";
import { clustersRead, liveCluster } from "../reads.ts";
import { serverRunning } from "../../src/tools/k3d.ts";
import { removeSecrets, restoreSecrets } from "../../src/tls/secret.ts";

const tlsSecret: Task<ClusterContext, { name: string; namespaces: string[] }> = {
  id: "delete-tls-secret",
  title: "Remove TLS secrets",
  enabled: (ctx) => Boolean(ctx.record.resources.tls?.secret.namespaces.length),
  reads: () => [clustersRead],
  slots: ["resources.tls.secret"],
  check: (ctx) => {
    const live = liveCluster(ctx);
    // a cluster that is gone or stopped takes its secrets with it, or gets them with the cluster delete
    if (!serverRunning(live)) {
      return { diffs: [] };
    }
    const s = ctx.record.resources.tls!.secret;
    return { diffs: [{ key: `secret ${s.name}`, from: s.namespaces, to: [] }] };
  },
  apply: async (ctx) => {
    const s = ctx.record.resources.tls!.secret;
    try {
      await removeSecrets(ctx.kubeContext, s.name, s.namespaces);
    } catch (err) {
      // the copies already deleted come back from the certificate files: all of them or none
      await restoreSecrets(ctx.kubeContext, ctx.k3d.tls.certs_dir, ctx.name, s.name, s.namespaces)
        .catch((undoErr) => {
          throw new StepFailure(err, {
            left: `some copies of secret ${s.name} are deleted and could not be put back (${
              (undoErr as Error).message
            }); run \`firestream cluster delete\` again to finish`,
          });
        });
      throw new StepFailure(err, { undone: true });
    }
    ctx.record.resources.tls!.secret = { name: s.name, namespaces: [] };
    return s;
  },
  // the delete failed later: the cluster still runs, so it gets its secrets back
  rollback: async (ctx, s) => {
    await restoreSecrets(ctx.kubeContext, ctx.k3d.tls.certs_dir, ctx.name, s.name, s.namespaces);
  },
  abandon: async (ctx) => {
    const s = ctx.record.resources.tls?.secret;
    if (s?.namespaces.length) {
      await restoreSecrets(ctx.kubeContext, ctx.k3d.tls.certs_dir, ctx.name, s.name, s.namespaces);
    }
  },
};

export default tlsSecret;
