/** Carries out a plan: deletions of clusters gone from the config, then create/update/replace of the config's cluster. */
import type { Workspace } from "./workspace.ts";
import type { AnyTask } from "../engine/task.ts";
import { FirestreamError } from "../errors.ts";
import { refuseIfLocked } from "../state/lock.ts";
import { confirmAction } from "../ui/confirm.ts";
import type { ClusterContext, ClusterRunOptions, LiveCache } from "../../tasks/context.ts";
import { hasChanges, type Plan, renderPlan } from "./plan.ts";
import { type ClusterRunResult, runCluster, settleConverged } from "./run.ts";

/** Options for {@link applyPlan}. */
export interface ApplyOptions {
  /** confirm without asking */
  yes?: boolean;
  /** the flag that would have given consent, named in the refusal */
  yesFlag?: string;
  /** ask even for non-destructive changes (apply) or only for destructive ones (cluster create) */
  confirm: "always" | "destructive";
  runOptions?: ClusterRunOptions;
  /** print the plan before asking @default true */
  show?: boolean;
  /** the plan's read-only answers, reused by the runs */
  live?: LiveCache;
}

/** What ran. */
export interface ApplyResult {
  runs: {
    cluster: string;
    kind: "create" | "update" | "replace" | "delete";
    result: ClusterRunResult;
  }[];
}

/** Task lists for a plan's cluster actions, and for `cluster create --clean`. */
export async function tasksFor(
  kind: "create" | "update" | "replace" | "delete" | "clean",
): Promise<AnyTask<ClusterContext>[]> {
  const { createTasks } = await import("../../tasks/cluster_create/mod.ts");
  const { deleteTasks } = await import("../../tasks/cluster_delete/mod.ts");
  if (kind === "delete") return deleteTasks;
  if (kind === "create" || kind === "update") return createTasks;
  // replace: only the cluster goes (registry, certificates and host setup are reused);
  // clean: everything goes; either way preflight first, then the create
  const [preflight, ...rest] = createTasks;
  const removed = kind === "clean"
    ? deleteTasks
    : deleteTasks.filter((t) => t.id === "delete-cluster");
  const half = (name: string) => (t: AnyTask<ClusterContext>) => ({
    ...t,
    title: `${kind} (${name} half): ${t.title}`,
  });
  // the create half starts once the delete half is over: a step that needs only preflight (the
  // certificate, the hosts block) would otherwise be checked against what the delete then removes
  const afterDelete = (t: AnyTask<ClusterContext>) =>
    t.needs ? { ...t, needs: [...t.needs, ...removed.map((r) => r.id)] } : t;
  return [
    preflight,
    ...removed.map(half("delete")),
    ...(kind === "clean" ? rest.map(half("create")).map(afterDelete) : rest),
  ];
}

/** Shows, confirms and carries out the plan. */
export async function applyPlan(
  session: Workspace,
  plan: Plan,
  options: ApplyOptions,
): Promise<ApplyResult> {
  const out = session.out;
  if (!hasChanges(plan)) {
    await settleConverged(session, Object.keys(plan.desired));
    return { runs: [] };
  }
  if (options.show !== false && !out.json) {
    out.progress(renderPlan(plan, (c, s) => out.paint(c, s, "err")));
    out.progress("");
  }
  const destructive = plan.changes.filter((c) => c.destructive);
  if (options.confirm === "always" || destructive.length) {
    // a held lock is said before the question, not after the answer
    await refuseIfLocked(session.stateDir);
    const what = destructive.length
      ? `This destroys ${destructive.map((c) => c.address).join(", ")}. Apply these changes?`
      : "Apply these changes?";
    if (!(await confirmAction(what, { yes: options.yes, flag: options.yesFlag }))) {
      throw new FirestreamError("apply cancelled; nothing was changed");
    }
  }
  const runs: ApplyResult["runs"] = [];
  const state = await session.store.read();
  for (
    const change of plan.changes.filter((c) =>
      c.action === "delete" && c.address === `cluster.${c.cluster}`
    )
  ) {
    const record = state.clusters[change.cluster];
    if (!record) continue;
    session.out.progress(`Deleting cluster ${change.cluster} (no longer in the config)`);
    const result = await runCluster(session, {
      k3d: record.k3d_config,
      tasks: await tasksFor("delete"),
      options: options.runOptions,
      live: options.live && { cache: options.live, serial: plan.state.serial },
      onSuccess: "drop",
    });
    runs.push({ cluster: change.cluster, kind: "delete", result });
  }
  for (const [name, k3d] of Object.entries(plan.desired)) {
    if (!k3d) continue;
    const mine = plan.changes.filter((c) => c.cluster === name && c.action !== "no-op");
    if (!mine.length) continue;
    const main = mine.find((c) => c.address === `cluster.${name}`);
    const kind = main?.action === "replace"
      ? "replace"
      : main?.action === "create"
      ? "create"
      : "update";
    session.out.progress(
      `${
        kind === "create" ? "Creating" : kind === "replace" ? "Replacing" : "Updating"
      } cluster ${name} (${k3d.servers} server${k3d.servers === 1 ? "" : "s"}, ${k3d.agents} agent${
        k3d.agents === 1 ? "" : "s"
      }, k3s ${k3d.k3s_version})`,
    );
    const result = await runCluster(session, {
      k3d,
      tasks: await tasksFor(kind),
      options: options.runOptions,
      live: options.live && { cache: options.live, serial: plan.state.serial },
    });
    runs.push({ cluster: name, kind, result });
  }
  return { runs };
}
