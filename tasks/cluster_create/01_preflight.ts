/** Preflight: Docker, k3d and kubectl present; the name and every host port usable; sudo when needed. */
import type { ClusterContext } from "../../src/cluster/context.ts";
import {
  checkClusterNetworks,
  dockerNetworks,
  interfaceNetworks,
} from "../../src/host/networks.ts";
import { checkHostPorts } from "../../src/host/ports.ts";
import { hostNetworkWanted, sudoCheck } from "../../src/host/sudo.ts";
import { checkTools } from "../../src/host/tools_check.ts";
import type { Task } from "../../src/engine/task.ts";
import { FirestreamError } from "../../src/errors.ts";
import { networkSubnets, publishedPorts } from "../../src/tools/docker.ts";
import { listClusters } from "../../src/tools/k3d.ts";

async function checkPorts(ctx: ClusterContext): Promise<void> {
  const published = await ctx.live.get("docker:ports", publishedPorts);
  const bad = (await checkHostPorts(ctx.k3d, { state: ctx.state, published })).find((p) => !p.ok);
  if (bad) throw new FirestreamError(bad.detail, { hint: bad.fix });
}

/** The pod and service networks against the host's interfaces and every Docker network. */
async function checkNetworks(ctx: ClusterContext): Promise<void> {
  const docker = await ctx.live.get("docker:networks", networkSubnets);
  checkClusterNetworks(ctx.k3d, [...interfaceNetworks(), ...dockerNetworks(docker)]);
}

async function checkOwnership(ctx: ClusterContext): Promise<void> {
  const clusters = await ctx.live.get("k3d:clusters", listClusters);
  const exists = clusters.some((c) => c.name === ctx.name);
  if (exists && !ctx.state.clusters[ctx.name] && !ctx.options.clean) {
    throw new FirestreamError(
      `k3d cluster ${ctx.name} already exists but firestream does not manage it`,
      {
        hint: `run \`firestream import cluster ${ctx.name}\` to manage it, or choose another name`,
      },
    );
  }
}

const preflight: Task<ClusterContext, null> = {
  id: "preflight",
  title: "Preflight checks",
  // read-only by nature: the checks run in `check`, so a converged run and a plan run them too
  check: async (ctx) => {
    await checkTools();
    await Promise.all([checkPorts(ctx), checkOwnership(ctx), checkNetworks(ctx)]);
    if (hostNetworkWanted(ctx.k3d, ctx.options)) await sudoCheck();
    return true;
  },
  apply: () => Promise.resolve(null),
  rollback: () => Promise.resolve(),
};

export default preflight;
