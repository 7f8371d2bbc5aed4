/** `firestream plan`, `apply [PLANFILE]` and `rollback`. */
import { clustersRead, LiveCache } from "../../tasks/context.ts";
import type { Plan } from "../cluster/plan.ts";
import { FirestreamError } from "../errors.ts";
import { writeFileAtomic } from "../state/fs.ts";
import { confirmAction } from "../ui/confirm.ts";
import { type GlobalFlags, openSession, type Session } from "./session.ts";

/**
 * The session and state, then the planning code and the create steps, loaded while `k3d cluster
 * list` (the first read of every plan, slower than loading them) already runs. Bad config or state
 * stops the command before that call.
 */
export async function startPlan(
  flags: GlobalFlags,
  options?: Parameters<typeof openSession>[1],
) {
  const session = await openSession(flags, options);
  const state = await session.store.read();
  const live = new LiveCache();
  live.begin(clustersRead);
  const [planning, { createTasks }] = await Promise.all([
    import("../cluster/plan.ts"),
    import("../../tasks/cluster_create/mod.ts"),
  ]);
  return { session, state, live, planning, tasks: createTasks };
}

/** `plan [--out FILE] [--detailed-exitcode]`. */
export async function plan(
  flags: GlobalFlags,
  opts: { out?: string; detailedExitcode?: boolean },
): Promise<number | void> {
  const { session, state, live, planning, tasks } = await startPlan(flags);
  const { hasChanges, makePlan, renderPlan } = planning;
  const p = await makePlan(session, { tasks, live, state });
  // a killed run's changes are in the plan's refresh; what it left to do is said here
  const { deadRuns } = await import("../cluster/unfinished.ts");
  for (const r of await deadRuns(session.stateDir, Object.keys(p.desired))) {
    session.out.warn(r.message);
  }
  if (opts.out) await writeFileAtomic(opts.out, JSON.stringify(p, null, 2) + "\n");
  if (session.out.json) session.out.data(p);
  else {
    session.out.line(renderPlan(p, (c, s) => session.out.paint(c, s)));
    if (opts.out) {
      session.out.line(
        `\nSaved the plan to ${opts.out}; apply it with \`firestream apply ${opts.out}\`.`,
      );
    }
  }
  if (opts.detailedExitcode && hasChanges(p)) return 2;
}

async function readPlanFile(path: string): Promise<Plan> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      throw new FirestreamError(`cannot read plan file ${path}: ${(err as Error).message}`);
    }
    throw new FirestreamError(`no plan file ${path}`, {
      hint:
        `save one with \`firestream plan --out ${path}\`; \`firestream apply\` alone plans and applies firestream.toml`,
    });
  }
  let p: Plan;
  try {
    p = JSON.parse(text);
  } catch {
    // kubectl's `apply -f FILE` habit: the config is read by every command, never given to apply
    if (/\.toml$/i.test(path) || /^\s*\[/m.test(text)) {
      throw new FirestreamError(`${path} is a config file, not a saved plan`, {
        hint:
          `\`firestream apply\` reads ./firestream.toml itself; for another file: \`firestream -c ${path} apply\``,
      });
    }
    throw new FirestreamError(`${path} is not a firestream plan file (not JSON)`, {
      hint: "save a plan with `firestream plan --out FILE`",
    });
  }
  if (p?.format !== "firestream-plan" || p.version !== 1) {
    throw new FirestreamError(`${path} is not a firestream plan file`, {
      hint: "save a plan with `firestream plan --out FILE`",
    });
  }
  return p;
}

/** Refuses a saved plan that no longer describes what apply would do. */
export function checkStale(saved: Plan, fresh: Plan): void {
  if (saved.state.lineage !== fresh.state.lineage) {
    throw new FirestreamError(
      "saved plan is stale: it was made for a different state (lineage changed)",
      {
        hint: "run `firestream plan` again",
      },
    );
  }
  if (saved.state.serial !== fresh.state.serial) {
    throw new FirestreamError(
      `saved plan is stale: the state changed since it was made (serial ${saved.state.serial} → ${fresh.state.serial})`,
      { hint: "run `firestream plan --out FILE` again and apply the new plan" },
    );
  }
  if (saved.config.sha256 !== fresh.config.sha256 || saved.config.file !== fresh.config.file) {
    throw new FirestreamError("saved plan is stale: the config changed since it was made", {
      hint: "run `firestream plan --out FILE` again",
    });
  }
  if (JSON.stringify(saved.changes) !== JSON.stringify(fresh.changes)) {
    throw new FirestreamError("saved plan is stale: the machine changed since it was made", {
      hint: "run `firestream plan --out FILE` again",
    });
  }
}

/** `apply [PLANFILE] [--auto-approve]`. */
export async function apply(
  flags: GlobalFlags,
  planfile: string | undefined,
  opts: { autoApprove?: boolean; force?: boolean; skipHostNetwork?: boolean },
): Promise<void> {
  // a file that is no plan is refused before anything is read of the machine
  const saved = planfile ? await readPlanFile(planfile) : undefined;
  const { session, state, live, planning, tasks } = await startPlan(flags);
  const fresh = await planning.makePlan(session, { tasks, live, state });
  let p = fresh;
  if (saved) {
    checkStale(saved, fresh);
    p = saved;
  }
  await finish(session, p, planning.hasChanges(p), {
    // a saved plan was reviewed when it was made: applying it is the approval, as in Terraform
    yes: flags.yes || opts.autoApprove || planfile !== undefined,
    runOptions: { force: opts.force, skipHostNetwork: opts.skipHostNetwork },
    live,
  });
}

async function finish(
  session: Session,
  p: Plan,
  changes: boolean,
  opts: {
    yes?: boolean;
    runOptions: { force?: boolean; skipHostNetwork?: boolean };
    live: LiveCache;
  },
): Promise<void> {
  if (!changes) {
    const { settleConverged } = await import("../cluster/run.ts");
    await settleConverged(session, Object.keys(p.desired));
    if (session.out.json) return session.out.data({ changed: false, plan: p, runs: [] });
    return session.out.line("No changes. The machine matches the configuration.");
  }
  const { applyPlan } = await import("../cluster/apply.ts");
  const result = await applyPlan(session, p, {
    yes: opts.yes,
    yesFlag: "--auto-approve (or --yes)",
    confirm: "always",
    runOptions: opts.runOptions,
    live: opts.live,
  });
  if (session.out.json) {
    return session.out.data({
      changed: true,
      plan: p,
      runs: result.runs.map((r) => ({
        cluster: r.cluster,
        kind: r.kind,
        applied: r.result.summary.applied,
      })),
    });
  }
  const s = p.summary;
  session.out.line(
    `Apply complete: ${s.create} added, ${s.update} changed, ${s.replace} replaced, ${s.delete} destroyed.`,
  );
}

/** `rollback`: show what unfinished runs left, ask, then undo (or finish) them from their journals. */
export async function rollback(flags: GlobalFlags): Promise<void> {
  const session = await openSession(flags);
  const { renderRollbackPlan, rollbackLastRun } = await import("../cluster/rollback.ts");
  const result = await rollbackLastRun(session, {
    confirm: async (plan) => {
      if (!session.out.json) {
        session.out.progress(renderRollbackPlan(plan));
        session.out.progress("");
      }
      const forward = plan.some((p) => p.direction === "forward");
      const question = forward ? "Undo (or finish) these runs?" : "Undo these changes?";
      await (await import("../state/lock.ts")).refuseIfLocked(session.stateDir);
      if (!(await confirmAction(question, { yes: flags.yes }))) {
        throw new FirestreamError("rollback cancelled; nothing was changed");
      }
      return true;
    },
  });
  if (session.out.json) return session.out.data(result);
  if (!result.run) return session.out.line(`Nothing to undo: ${result.reason}.`);
  for (const r of result.runs) {
    session.out.line(
      `${
        r.direction === "forward" ? "Finished" : "Rolled back"
      } run ${r.run} (${r.undone.length} step(s) ${r.direction === "forward" ? "done" : "undone"}${
        r.failed.length ? `, ${r.failed.length} failed` : ""
      }).`,
    );
  }
  if (result.failed.length) {
    throw new FirestreamError(`could not undo ${result.failed.join(", ")}`, {
      hint: "fix the cause shown above and run `firestream rollback` again",
    });
  }
}
