/** Preflight: Docker, k3d and kubectl present; the name and every host port usable; sudo when needed. */
import type { ClusterContext } from "../../src/cluster/context.ts";
import { listeningProcess, probePort } from "../../src/cluster/ports.ts";
import { hostNetworkWanted, sudoCheck } from "../../src/cluster/sudo.ts";
import type { Task } from "../../src/engine/task.ts";
import { FirestreamError } from "../../src/errors.ts";
import { publishedPorts } from "../../src/tools/docker.ts";
import { dockerServerVersion } from "../../src/tools/docker.ts";
import {
  atLeast,
  k3dVersion,
  listClusters,
  MIN_K3D,
  registryContainer,
} from "../../src/tools/k3d.ts";
import { kubectlVersion } from "../../src/tools/kubectl.ts";

/** The host ports a cluster binds, by config key. */
export function hostPorts(ctx: ClusterContext): [string, number][] {
  const k = ctx.k3d;
  const ports: [string, number][] = [
    ["api_port", k.api_port],
    ["http_port", k.http_port],
    ["https_port", k.https_port],
  ];
  if (k.registry.enabled) ports.push(["registry.port", k.registry.port]);
  return ports;
}

async function checkTools(): Promise<void> {
  const [, k3d] = await Promise.all([dockerServerVersion(), k3dVersion(), kubectlVersion()]);
  if (!atLeast(k3d, MIN_K3D)) {
    throw new FirestreamError(
      `k3d ${k3d} is too old: config k3d.io/v1alpha5 needs k3d v${MIN_K3D.join(".")} or newer`,
      {
        hint:
          "upgrade k3d: curl -s https://raw.githubusercontent.com/k3d-io/k3d/main/install.sh | bash",
      },
    );
  }
}

async function checkPorts(ctx: ClusterContext): Promise<void> {
  const mine = new Set([`k3d-${ctx.name}-serverlb`]);
  const registry = registryContainer(ctx.k3d.registry.name);
  const held = await ctx.live.get("docker:ports", publishedPorts);
  for (const [key, port] of hostPorts(ctx)) {
    for (const other of Object.values(ctx.state.clusters)) {
      if (other.name === ctx.name) continue;
      const o = other.k3d_config;
      const theirs: [string, number][] = [["api_port", o.api_port], ["http_port", o.http_port], [
        "https_port",
        o.https_port,
      ]];
      const shared = key === "registry.port" && o.registry.enabled &&
        registryContainer(o.registry.name) === registry;
      const clash = theirs.find(([, p]) => p === port) ??
        (o.registry.enabled && o.registry.port === port && !shared
          ? ["registry.port", port]
          : undefined);
      if (clash) {
        throw new FirestreamError(
          `port ${port} (cluster.k3d.${key}) is also ${clash[0]} of managed cluster ${other.name}`,
          { hint: `choose another port for cluster.k3d.${key} in firestream.toml` },
        );
      }
    }
    const holder = held.get(port);
    if (holder) {
      const ours = key === "registry.port" ? holder === registry : mine.has(holder);
      if (ours) continue;
      throw new FirestreamError(
        `port ${port} (cluster.k3d.${key}) is already published by container ${holder}`,
        {
          hint: `stop ${holder} or choose another port for cluster.k3d.${key}`,
        },
      );
    }
    const probe = probePort(port);
    if (!probe.free) {
      const process = await listeningProcess(port);
      throw new FirestreamError(
        `port ${port} (cluster.k3d.${key}) is already in use${
          process ? ` by ${process}` : " by another process"
        }`,
        { hint: `stop that process or choose another port for cluster.k3d.${key}` },
      );
    }
  }
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
    await Promise.all([checkPorts(ctx), checkOwnership(ctx)]);
    if (hostNetworkWanted(ctx)) await sudoCheck();
    return true;
  },
  apply: () => Promise.resolve(null),
  rollback: () => Promise.resolve(),
};

export default preflight;
