/** Preflight: Docker, k3d and kubectl present; the name and every host port usable; sudo when needed. */
import type { ClusterContext } from "../context.ts";
import { checkClusterNetworks } from "../../src/host/networks.ts";
import { type Task, UP_TO_DATE } from "../../src/engine/task.ts";
import { FirestreamError } from "../../src/errors.ts";
import { clustersRead, liveCluster, preflightRead } from "../reads.ts";

const preflight: Task<ClusterContext, null> = {
  id: "preflight",
  title: "Preflight checks",
  reads: () => [preflightRead, clustersRead],
  // read-only by nature: the checks run in `check`, so a converged run and a plan run them too
  check: (ctx) => {
    const facts = ctx.live.now(preflightRead);
    const bad = facts.ports.find((p) => !p.ok);
    if (bad) throw new FirestreamError(bad.detail, { hint: bad.fix });
    // the pod and service networks against the host's interfaces and every Docker network
    checkClusterNetworks(ctx.k3d, facts.networks);
    if (liveCluster(ctx) && !ctx.state.clusters[ctx.name] && !ctx.options.clean) {
      throw new FirestreamError(
        `k3d cluster ${ctx.name} already exists but firestream does not manage it`,
        {
          hint:
            `run \`firestream import cluster ${ctx.name}\` to manage it, or choose another name`,
        },
      );
    }
    return UP_TO_DATE;
  },
  apply: () => Promise.resolve(null),
  rollback: () => Promise.resolve(),
};

export default preflight;
