/** Ready: every server and agent node Ready and CoreDNS available, within bounded waits. */
import type { ClusterContext } from "../../src/cluster/context.ts";
import type { Task } from "../../src/engine/task.ts";
import { FirestreamError } from "../../src/errors.ts";
import {
  conditionTrue,
  getJson,
  getOptional,
  kubectl,
  type KubeObject,
} from "../../src/tools/kubectl.ts";

/** Bound on each wait. */
export const READY_TIMEOUT_S = 120;

async function notReady(ctx: ClusterContext): Promise<string[]> {
  const nodes = await getJson(ctx.kubeContext, ["nodes"]);
  const problems = nodes.items.filter((n: KubeObject) => !conditionTrue(n, "Ready")).map(
    (n: KubeObject) => {
      const ready = n.status?.conditions?.find((c: KubeObject) => c.type === "Ready");
      return `node ${n.metadata.name} (${ready?.reason ?? "no Ready condition"})`;
    },
  );
  const expected = ctx.k3d.servers + ctx.k3d.agents;
  if (nodes.items.length < expected) {
    problems.push(`${expected - nodes.items.length} node(s) not registered yet`);
  }
  const coredns = await getOptional(ctx.kubeContext, [
    "-n",
    "kube-system",
    "deployment",
    "coredns",
  ]);
  if (!coredns) problems.push("deployment kube-system/coredns missing");
  else if (!conditionTrue(coredns, "Available")) {
    problems.push("deployment kube-system/coredns not available");
  }
  return problems;
}

const ready: Task<ClusterContext, null> = {
  id: "ready",
  title: "Nodes and CoreDNS ready",
  check: async (ctx) => (await notReady(ctx)).length === 0,
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
      const problems = await notReady(ctx);
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
