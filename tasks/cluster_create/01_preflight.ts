/** Preflight: Docker, k3d and kubectl present; the name and every host port usable; sudo when needed. */
import type { ClusterContext } from "../context.ts";
import { checkClusterDns, checkClusterNetworks, managedNetworks } from "../../src/host/networks.ts";
import { managedElsewhereError } from "../../src/state/owners.ts";
import { type Task, UP_TO_DATE } from "../../src/engine/task.ts";
import { FirestreamError } from "../../src/errors.ts";
import {
  clustersRead,
  liveCluster,
  otherOwner,
  otherUsers,
  ownersRead,
  preflightRead,
} from "../reads.ts";

const preflight: Task<ClusterContext, null> = {
  id: "preflight",
  title: "Preflight checks",
  reads: () => [preflightRead, clustersRead, ownersRead],
  // read-only by nature: the checks run in `check`, so a converged run and a plan run them too
  check: (ctx) => {
    const other = otherOwner(ctx);
    if (other) throw managedElsewhereError(other, Boolean(ctx.state.clusters[ctx.name]));
    const facts = ctx.live.now(preflightRead);
    const bad = facts.ports.find((p) => !p.ok);
    if (bad) throw new FirestreamError(bad.detail, { hint: bad.fix });
    // the pod and service networks against the host's interfaces and every Docker network
    checkClusterDns(ctx.k3d, Boolean(ctx.record.resources.dns), otherUsers(ctx, () => true));
    // a cluster to be made: also against the pod and service networks of every other managed one
    checkClusterNetworks(ctx.k3d, [
      ...facts.networks,
      ...(liveCluster(ctx) ? [] : managedNetworks(ctx.k3d, otherUsers(ctx, () => true))),
    ]);
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
