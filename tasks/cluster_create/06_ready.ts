/** Ready: every server and agent node Ready and CoreDNS available, within bounded waits. */
import type { ClusterContext } from "../context.ts";
import type { Task } from "../../src/engine/task.ts";
import { FirestreamError } from "../../src/errors.ts";
import { conditionTrue, kubectl, type KubeObject } from "../../src/tools/kubectl.ts";
import { type KubeFacts, kubeRead } from "../reads.ts";

/** Bound on each wait. */
export const READY_TIMEOUT_S = 120;

/** What is not ready yet, from what the API server holds. */
function notReady(ctx: ClusterContext, facts: KubeFacts): string[] {
  const problems = facts.nodes.filter((n) => !conditionTrue(n, "Ready")).map((n) => {
    const ready = n.status?.conditions?.find((c: KubeObject) => c.type === "Ready");
    return `node ${n.metadata.name} (${ready?.reason ?? "no Ready condition"})`;
  });
  const expected = ctx.k3d.servers + ctx.k3d.agents;
  if (facts.nodes.length < expected) {
    problems.push(`${expected - facts.nodes.length} node(s) not registered yet`);
  }
  const coredns = facts.deployments.find((d) =>
    d.metadata.name === "coredns" && d.metadata.namespace === "kube-system"
  );
  if (!coredns) problems.push("deployment kube-system/coredns missing");
  else if (!conditionTrue(coredns, "Available")) {
    problems.push("deployment kube-system/coredns not available");
  }
  return problems;
}

const ready: Task<ClusterContext, null> = {
  id: "ready",
  title: "Nodes and CoreDNS ready",
  reads: () => [kubeRead],
  check: (ctx) => {
    const problems = notReady(ctx, ctx.live.now(kubeRead));
    return { diffs: problems.length ? [{ key: "ready", from: problems, to: "ready" }] : [] };
  },
  apply: async (ctx) => {
    const timeout = `--timeout=${READY_TIMEOUT_S}s`;
    const nodes = await kubectl(ctx.kubeContext, [
      "wait",
      "--for=condition=Ready",
      "nodes",
      "--all",
      timeout,
    ], { check: false });
    const dns = nodes.code === 0
      ? await kubectl(ctx.kubeContext, [
        "-n",
        "kube-system",
        "wait",
        "--for=condition=Available",
        "deployment/coredns",
        timeout,
      ], { check: false })
      : nodes;
    if (nodes.code !== 0 || dns.code !== 0) {
      const problems = notReady(ctx, await kubeRead.fetch(ctx));
      throw new FirestreamError(
        `cluster ${ctx.name} not ready after ${READY_TIMEOUT_S}s: ${
          problems.join(", ") || "see kubectl output"
        }`,
        { hint: `inspect with \`firestream cluster diagnostics --all\`` },
      );
    }
    return null;
  },
  rollback: () => Promise.resolve(),
};

export default ready;
