/** Agents: add (`k3d node create … --role agent`) or remove (`k3d node delete`) agents in place to match the config. */
import type { ClusterContext } from "../../src/cluster/context.ts";
import type { Task } from "../../src/engine/task.ts";
import { createAgent, deleteNode, type K3dNode, listClusters } from "../../src/tools/k3d.ts";
import { kubectl } from "../../src/tools/kubectl.ts";

/** What rollback needs. */
export interface AgentsUndo {
  added: string[];
  removed: number;
}

async function liveAgents(ctx: ClusterContext): Promise<K3dNode[]> {
  const cluster = (await ctx.live.get("k3d:clusters", listClusters)).find((c) =>
    c.name === ctx.name
  );
  return (cluster?.nodes ?? []).filter((n) => n.role === "agent")
    .sort((a, b) => agentIndex(a.name) - agentIndex(b.name));
}

/** Order of agents: k3d's own `-agent-N`, then added ones `-agent-N-0`, by N. */
export function agentIndex(container: string): number {
  const m = /-agent-(\d+)(?:-\d+)?$/.exec(container);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}

/** The k3d node name for the agent with index n (k3d names its container `k3d-<name>-0`). */
export function agentNodeName(cluster: string, n: number): string {
  return `${cluster}-agent-${n}`;
}

async function add(ctx: ClusterContext, count: number, existing: K3dNode[]): Promise<string[]> {
  let next = existing.reduce((m, n) => Math.max(m, agentIndex(n.name) + 1), 0);
  const added: string[] = [];
  for (let i = 0; i < count; i++, next++) {
    const name = agentNodeName(ctx.name, next);
    await createAgent(name, { cluster: ctx.name, image: `rancher/k3s:${ctx.k3d.k3s_version}` });
    added.push(`k3d-${name}-0`);
  }
  return added;
}

/** Drains the node, removes its container, then its Node object (k3d leaves that behind, NotReady). */
async function removeAgent(ctx: ClusterContext, name: string): Promise<void> {
  await kubectl(ctx.kubeContext, [
    "drain",
    name,
    "--ignore-daemonsets",
    "--delete-emptydir-data",
    "--force",
    "--timeout=60s",
  ], { check: false });
  await deleteNode(name);
  await kubectl(ctx.kubeContext, ["delete", "node", name, "--ignore-not-found"]);
}

const agents: Task<ClusterContext, AgentsUndo> = {
  id: "agents",
  title: "Agent nodes",
  check: async (ctx) => (await liveAgents(ctx)).length === ctx.k3d.agents,
  apply: async (ctx) => {
    const live = await liveAgents(ctx);
    const delta = ctx.k3d.agents - live.length;
    const undo: AgentsUndo = { added: [], removed: 0 };
    try {
      if (delta > 0) undo.added = await add(ctx, delta, live);
      for (const node of live.slice(live.length + Math.min(delta, 0)).reverse()) {
        await removeAgent(ctx, node.name);
        undo.removed++;
      }
    } catch (err) {
      // leave the cluster as it was: drop what this step already added
      for (const name of undo.added) await removeAgent(ctx, name).catch(() => {});
      throw err;
    }
    ctx.notice(delta > 0 ? `added ${delta} agent(s)` : `removed ${-delta} agent(s)`);
    return undo;
  },
  // died while adding or removing: the agents go back to the count of the last recorded config
  // (a cluster this run made goes as a whole with the cluster step)
  abandon: async (ctx) => {
    if (!ctx.record.resources.cluster) return;
    const before = ctx.record.k3d_config.agents;
    const live = await liveAgents(ctx);
    for (const node of live.slice(before).reverse()) await removeAgent(ctx, node.name);
    if (live.length < before) await add(ctx, before - live.length, live);
  },
  rollback: async (ctx, undo) => {
    for (const name of [...undo.added].reverse()) await removeAgent(ctx, name);
    if (undo.removed > 0) await add(ctx, undo.removed, await liveAgents(ctx));
  },
};

export default agents;
