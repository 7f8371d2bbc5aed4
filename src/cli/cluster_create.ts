/** `firestream cluster create`: the plan, then the run, for the config's cluster. */
import type { ClusterRunResult } from "../cluster/run.ts";
import type { Override } from "../config/load.ts";
import { FirestreamError } from "../errors.ts";
import { kubeconfigContext } from "../tools/k3d_names.ts";
import { startPlan } from "./plan.ts";
import { type GlobalFlags, openSession, type Session } from "./session.ts";

/** Flags of `cluster create`. */
export interface CreateFlags {
  name?: string;
  servers?: number;
  agents?: number;
  k3sVersion?: string;
  devMode?: boolean;
  clean?: boolean;
  config?: string;
  force?: boolean;
  skipHostNetwork?: boolean;
  strict?: boolean;
}

/** Flags that set config keys, as overrides naming the flag. */
export function createOverrides(opts: CreateFlags): Override[] {
  const o: Override[] = [];
  if (opts.name !== undefined) {
    o.push({ path: "cluster.k3d.name", value: opts.name, flag: "--name" });
  }
  if (opts.servers !== undefined) {
    o.push({ path: "cluster.k3d.servers", value: opts.servers, flag: "--servers" });
  }
  if (opts.agents !== undefined) {
    o.push({ path: "cluster.k3d.agents", value: opts.agents, flag: "--agents" });
  }
  if (opts.k3sVersion !== undefined) {
    o.push({ path: "cluster.k3d.k3s_version", value: opts.k3sVersion, flag: "--k3s-version" });
  }
  if (opts.devMode) {
    o.push({ path: "cluster.k3d.dev_mode.port_forward_all", value: true, flag: "--dev-mode" });
  }
  return o;
}

/** `cluster create`: apply for one cluster, with flags layered over the config. */
export async function create(flags: GlobalFlags, opts: CreateFlags): Promise<void> {
  const sessionOptions = { overrides: createOverrides(opts), configFile: opts.config };
  const runOptions = {
    force: opts.force,
    skipHostNetwork: opts.skipHostNetwork,
    strict: opts.strict,
    clean: opts.clean,
  };
  let session: Session;
  let runs: { result: ClusterRunResult }[];
  if (opts.clean) {
    session = await openSession(flags, sessionOptions);
    const k3d = session.loaded.config.cluster.k3d;
    const { confirmAction } = await import("../ui/confirm.ts");
    await (await import("../state/lock.ts")).refuseIfLocked(session.stateDir);
    const ok = await confirmAction(
      `Delete cluster ${k3d.name} and everything firestream created for it, then create it again?`,
      { yes: flags.yes },
    );
    if (!ok) throw new FirestreamError("cancelled; nothing was changed");
    session.out.progress(`Recreating cluster ${k3d.name}`);
    const [{ tasksFor }, { runCluster }] = await Promise.all([
      import("../cluster/apply.ts"),
      import("../cluster/run.ts"),
    ]);
    const tasks = await tasksFor("clean");
    runs = [{ result: await runCluster(session, { k3d, tasks, options: runOptions }) }];
  } else {
    const started = await startPlan(flags, sessionOptions);
    session = started.session;
    const { live, state, tasks } = started;
    const plan = await started.planning.makePlan(session, {
      onlyConfigCluster: true,
      tasks,
      live,
      state,
    });
    const { applyPlan } = await import("../cluster/apply.ts");
    // a new cluster is made as `k3d cluster create` makes it; a change to an existing one is shown
    // and asked for, as `apply` does
    const fresh = plan.changes.some((c) =>
      c.address === `cluster.${c.cluster}` && c.action === "create"
    );
    runs = (await applyPlan(session, plan, {
      yes: flags.yes,
      confirm: fresh ? "destructive" : "always",
      live,
      runOptions,
      show: !fresh,
    })).runs;
  }
  const k3d = session.loaded.config.cluster.k3d;
  const result = runs.at(-1)?.result;
  const applied = runs.flatMap((r) => r.result.summary.applied);
  const state = result?.state ?? await session.store.read();
  const record = state.clusters[k3d.name];
  if (session.out.json) {
    return session.out.data({
      cluster: k3d.name,
      changed: runs.length > 0,
      applied,
      notices: runs.flatMap((r) => r.result.notices),
      record: record ?? null,
    });
  }
  session.out.line(
    runs.length
      ? `Cluster ${k3d.name} is ready.`
      : `Cluster ${k3d.name} is already up to date; nothing to do.`,
  );
  session.out.line(
    `  API:      https://127.0.0.1:${k3d.api_port}  (kubectl context ${
      kubeconfigContext(k3d.name)
    })`,
  );
  const reg = record?.resources.registry;
  if (reg) {
    session.out.line(
      `  Registry: ${reg.container}:${reg.port}  (docker push ${reg.container}:${reg.port}/IMAGE)`,
    );
  }
}
