/** Agents: add (`k3d node create … --role agent`) or remove (`k3d node delete`) agents in place to match the config. */
import type { ClusterContext } from "../context.ts";
import { StepFailure, type Task } from "../../src/engine/task.ts";
import { createAgent, deleteNode, type K3dNode } from "../../src/tools/k3d.ts";
import { agentContainer, agentIndex, agentNodeName, isAgentOf } from "../../src/tools/k3d_names.ts";
import { kubectl } from "../../src/tools/kubectl.ts";
import { clustersRead, kubeRead, liveCluster } from "../reads.ts";

/** What rollback needs. */
export interface AgentsUndo {
  added: string[];
  removed: number;
}

/** The cluster's agents as the snapshot has them, in k3d's order. */
function agentsNow(ctx: ClusterContext): K3dNode[] {
  return (liveCluster(ctx)?.nodes ?? []).filter((n) => n.role === "agent")
    .sort((a, b) => agentIndex(a.name) - agentIndex(b.name));
}

/**
 * Node objects of agents whose container is gone (removed with `k3d node delete`, which leaves the
 * Node NotReady): they would keep the cluster from being ready. Unknown while the API does not answer.
 */
function orphanNodes(ctx: ClusterContext): string[] {
  let nodes;
  try {
    nodes = ctx.live.now(kubeRead).nodes;
  } catch {
    return [];
  }
  const live = new Set(agentsNow(ctx).map((n) => n.name));
  const recorded = new Set(ctx.record.resources.stale_nodes ?? []);
  return nodes.map((n) => n.metadata.name as string).filter((name) =>
    isAgentOf(ctx.name, name) && !live.has(name) && !recorded.has(name)
  );
}

/** The cluster's agents now (refreshed when a step changed the machine). */
async function liveAgents(ctx: ClusterContext): Promise<K3dNode[]> {
  await ctx.live.refresh(ctx, [clustersRead]);
  return agentsNow(ctx);
}

/** The state says how many agents the cluster has now, and it reaches the state file at once. */
async function recordAgents(ctx: ClusterContext, count: number): Promise<void> {
  ctx.record.k3d_config = { ...ctx.record.k3d_config, agents: count };
  await ctx.checkpoint?.();
}

/** Adds one agent after the highest index in `existing`; returns its container name. */
async function addOne(ctx: ClusterContext, existing: string[]): Promise<string> {
  const next = existing.reduce((m, n) => Math.max(m, agentIndex(n) + 1), 0);
  const name = agentNodeName(ctx.name, next);
  await createAgent(name, { cluster: ctx.name, image: `rancher/k3s:${ctx.k3d.k3s_version}` });
  return agentContainer(name);
}

/** Why removing an agent stopped, and whether its container is gone. */
class RemoveError extends Error {
  constructor(readonly reason: unknown, readonly containerGone: boolean, readonly note = "") {
    super(reason instanceof Error ? reason.message : String(reason));
  }
}

/**
 * Drains the node, removes its container, then its Node object (k3d leaves that behind, NotReady).
 * When the container cannot be removed the node is uncordoned again, so it is as it was.
 */
async function removeAgent(ctx: ClusterContext, name: string): Promise<void> {
  await kubectl(ctx.kubeContext, [
    "drain",
    name,
    "--ignore-daemonsets",
    "--delete-emptydir-data",
    "--force",
    "--timeout=60s",
  ], { check: false });
  try {
    await deleteNode(name);
  } catch (err) {
    const r = await kubectl(ctx.kubeContext, ["uncordon", name], { check: false })
      .catch(() => ({ code: 1 }));
    throw new RemoveError(
      err,
      false,
      r.code === 0 ? "" : `; node ${name} stays cordoned: \`kubectl uncordon ${name}\` frees it`,
    );
  }
  await deleteNodeObject(ctx, name).catch((err) => {
    throw new RemoveError(err, true);
  });
}

async function deleteNodeObject(ctx: ClusterContext, name: string): Promise<void> {
  await kubectl(ctx.kubeContext, ["delete", "node", name, "--ignore-not-found"]);
}

/** Node objects an earlier run could not delete, deleted now; the record follows each one. */
async function deleteStaleNodes(ctx: ClusterContext): Promise<void> {
  for (const name of [...(ctx.record.resources.stale_nodes ?? [])]) {
    try {
      await deleteNodeObject(ctx, name);
    } catch (err) {
      throw new StepFailure(err, {
        left:
          `Node object ${name} of a removed agent is still there; state unchanged; run \`firestream apply\` to finish`,
      });
    }
    const left = ctx.record.resources.stale_nodes!.filter((n) => n !== name);
    if (left.length) ctx.record.resources.stale_nodes = left;
    else delete ctx.record.resources.stale_nodes;
    await ctx.checkpoint?.();
  }
}

/** Adds `count` agents one by one; on a failure, removes the ones it added and says what remains. */
async function addAgents(ctx: ClusterContext, live: string[], count: number): Promise<string[]> {
  const added: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      added.push(await addOne(ctx, [...live, ...added]));
      await recordAgents(ctx, live.length + added.length);
    }
    return added;
  } catch (err) {
    try {
      while (added.length) {
        await removeAgent(ctx, added.at(-1)!);
        added.pop();
        await recordAgents(ctx, live.length + added.length);
      }
    } catch {
      throw new StepFailure(err, {
        left: `${live.length + added.length} agents remain, not ${live.length} (${
          added.join(", ")
        } could not be removed again); state updated; run \`firestream apply\` to finish`,
      });
    }
    throw new StepFailure(err, { undone: true });
  }
}

/** Removes the last `count` agents one by one; a failure is recorded as what remains. */
async function removeAgents(ctx: ClusterContext, live: string[], count: number): Promise<number> {
  let removed = 0;
  for (const name of live.slice(live.length - count).reverse()) {
    try {
      await removeAgent(ctx, name);
    } catch (err) {
      const e = err as RemoveError;
      if (e.containerGone) {
        removed++;
        ctx.record.resources.stale_nodes = [...(ctx.record.resources.stale_nodes ?? []), name];
        await recordAgents(ctx, live.length - removed);
      }
      if (removed === 0 && !e.containerGone) {
        // drained pods were evicted (they reschedule); the node itself is back as it was
        throw new StepFailure(e.reason, {
          left: e.note
            ? `no agent was removed${e.note}`
            : `no agent was removed; ${name} was drained and is schedulable again`,
        });
      }
      throw new StepFailure(e.reason, {
        left: `${live.length - removed} of ${live.length} agents remain${
          e.containerGone ? ` (Node object ${name} still to delete)` : ""
        }${e.note}; state updated; run \`firestream apply\` to finish`,
      });
    }
    removed++;
    await recordAgents(ctx, live.length - removed);
  }
  return removed;
}

const agents: Task<ClusterContext, AgentsUndo> = {
  id: "agents",
  title: "Agent nodes",
  reads: () => [clustersRead, kubeRead],
  slots: ["k3d_config.agents", "resources.stale_nodes"],
  check: (ctx) => {
    const live = agentsNow(ctx).length;
    const stale = [...(ctx.record.resources.stale_nodes ?? []), ...orphanNodes(ctx)];
    return {
      diffs: [
        ...(live !== ctx.k3d.agents
          ? [{
            key: "agents",
            from: live,
            to: ctx.k3d.agents,
            drift: live !== ctx.record.k3d_config.agents,
          }]
          : []),
        ...(stale.length ? [{ key: "stale_nodes", from: stale, to: [] }] : []),
      ],
    };
  },
  apply: async (ctx) => {
    await ctx.live.refresh(ctx, [clustersRead, kubeRead]);
    const orphans = orphanNodes(ctx);
    if (orphans.length) {
      ctx.record.resources.stale_nodes = [...(ctx.record.resources.stale_nodes ?? []), ...orphans];
    }
    await deleteStaleNodes(ctx);
    const live = (await liveAgents(ctx)).map((n) => n.name);
    const delta = ctx.k3d.agents - live.length;
    const undo: AgentsUndo = { added: [], removed: 0 };
    if (delta > 0) undo.added = await addAgents(ctx, live, delta);
    if (delta < 0) undo.removed = await removeAgents(ctx, live, -delta);
    if (delta) ctx.notice(delta > 0 ? `added ${delta} agent(s)` : `removed ${-delta} agent(s)`);
    return undo;
  },
  // died while adding or removing: the agents go back to the count of the last recorded config
  // (a cluster this run made goes as a whole with the cluster step)
  abandon: async (ctx) => {
    if (!ctx.record.resources.cluster) return;
    const before = ctx.record.k3d_config.agents;
    const live = await liveAgents(ctx);
    for (const node of live.slice(before).reverse()) await removeAgent(ctx, node.name);
    if (live.length < before) {
      await addAgents(ctx, live.map((n) => n.name), before - live.length);
    }
  },
  rollback: async (ctx, undo) => {
    let count = ctx.record.k3d_config.agents;
    for (const name of [...undo.added].reverse()) {
      await removeAgent(ctx, name);
      await recordAgents(ctx, --count);
    }
    const existing = (await liveAgents(ctx)).map((n) => n.name);
    for (let i = 0; i < undo.removed; i++) {
      existing.push(await addOne(ctx, existing));
      await recordAgents(ctx, ++count);
    }
  },
};

export default agents;
