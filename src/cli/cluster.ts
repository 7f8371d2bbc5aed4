/** `firestream cluster delete|stop|list|info` and `import cluster`. */
import {
  type ClusterView,
  discoverConfig,
  liveFacts,
  viewAll,
  viewCluster,
} from "../cluster/inspect.ts";
import { type ClusterRunResult, runCluster, withStateLock } from "../cluster/run.ts";
import { DEFAULT_CONFIG_FILE, parseTomlText, stringifyConfig } from "../config/load.ts";
import { FirestreamError } from "../errors.ts";
import { writeFileAtomic } from "../state/fs.ts";
import { refuseIfLocked } from "../state/lock.ts";
import { podText } from "../portforward/files.ts";
import { deletePlan } from "../cluster/delete_plan.ts";
import { inspectObjects, isContainer } from "../tools/docker.ts";
import { findCluster } from "../tools/k3d.ts";
import { confirmAction } from "../ui/confirm.ts";
import { renderPlan } from "../ui/plan.ts";
import type { Output } from "../ui/output.ts";
import { type GlobalFlags, openSession, type Session } from "./session.ts";
import { kubeconfigContext } from "../tools/k3d_names.ts";
import {
  claimCluster,
  folderOf,
  machineClusters,
  managedElsewhere,
  managedElsewhereError,
} from "../state/owners.ts";
import { acquireHostLocks } from "../state/cluster_lock.ts";
import type { ClusterRecord } from "../state/document.ts";
import { folderName } from "../config/schema.ts";

/** Flags of `cluster delete`. */
export interface DeleteFlags {
  keepRegistry?: boolean;
  purgeCerts?: boolean;
}

/** `cluster delete [NAME]`: undo everything firestream did for the cluster. */
export async function remove(
  flags: GlobalFlags,
  name: string | undefined,
  opts: DeleteFlags,
): Promise<void> {
  const session = await openSession(flags);
  const target = name ?? session.loaded.config.cluster.k3d.name;
  const state = await session.store.read();
  const record = state.clusters[target];
  if (!record) {
    // nothing to undo, as `terraform destroy` on an empty state and `kubectl delete
    // --ignore-not-found`: a teardown run twice, or after a failed create, succeeds
    if (await findCluster(target)) await explainUnknown(target, state.clusters);
    if (session.out.json) return session.out.data({ cluster: target, deleted: false });
    return session.out.line(
      `Cluster ${target} does not exist and firestream holds no record of it; nothing to delete.`,
    );
  }
  const made = record.resources.registry;
  if (opts.keepRegistry && made?.with_cluster) {
    throw new FirestreamError(
      `--keep-registry: registry ${made.container} was made by k3d with cluster ${target}, and \`k3d cluster delete\` deletes it with the cluster`,
      { hint: "push the images you need to another registry, then delete without --keep-registry" },
    );
  }
  const { deleteTasks } = await import("../../tasks/cluster_delete/mod.ts");
  const { keepRegistry } = await import("../../tasks/cluster_delete/07_registry.ts");
  const { usedElsewhere } = await import("../../tasks/reads.ts");
  // what the delete steps will find: the cluster as k3d lists it, the registry's networks, and
  // who else on this machine uses the registry or the CA
  const registry = record!.resources.registry?.container;
  const [live, objects, machine] = await Promise.all([
    findCluster(target),
    registry ? inspectObjects([registry]) : undefined,
    machineClusters(),
  ]);
  const other = managedElsewhere(machine, target, state.lineage);
  if (other) throw managedElsewhereError(other, true);
  const info = registry ? objects?.get(registry) : undefined;
  const preview = deletePlan(
    record!,
    state,
    opts,
    live,
    (ctx, m) => keepRegistry(ctx, m) ?? usedElsewhere(isContainer(info) ? info : undefined, target),
    machine,
  );
  if (!session.out.json) {
    session.out.line(
      renderPlan(preview, (c, s) => session.out.paint(c, s), {
        heading: `Firestream will undo the following for cluster ${target}:`,
      }),
    );
    session.out.line("");
  }
  await refuseIfLocked(session.stateDir);
  const ok = await confirmAction(
    `Delete cluster ${target} and everything firestream created for it?`,
    {
      yes: flags.yes,
    },
  );
  if (!ok) throw new FirestreamError("cancelled; nothing was changed");
  session.out.progress(`Deleting cluster ${target}`);
  const result = await runCluster(session, {
    k3d: record!.k3d_config,
    tasks: deleteTasks,
    options: { keepRegistry: opts.keepRegistry, purgeCerts: opts.purgeCerts },
    onSuccess: "drop",
  });
  reportRun(session, target, "deleted", result, `Cluster ${target} deleted.`, {
    changes: preview.changes,
    summary: preview.summary,
  });
}

/** The outcome of `cluster delete|stop`: a JSON document, or one line. */
function reportRun(
  session: Session,
  target: string,
  done: "deleted" | "stopped",
  result: ClusterRunResult,
  line: string,
  extra: Record<string, unknown> = {},
): void {
  if (!session.out.json) return session.out.line(line);
  session.out.data({
    cluster: target,
    [done]: true,
    ...extra,
    applied: result.summary.applied,
    notices: result.notices,
  });
}

/** The session and the record of the managed cluster `name` (default: the config's), or a refusal. */
async function managed(flags: GlobalFlags, name: string | undefined) {
  const session = await openSession(flags);
  const target = name ?? session.loaded.config.cluster.k3d.name;
  const state = await session.store.read();
  const record = state.clusters[target];
  if (!record) await explainUnknown(target, state.clusters);
  return { session, target, record: record! };
}

/** `cluster stop [NAME]`: the host stops asking kube-dns first, then k3d stops the cluster. */
export async function stop(flags: GlobalFlags, name: string | undefined): Promise<void> {
  const { session, target, record } = await managed(flags, name);
  const { stopTasks } = await import("../../tasks/cluster_stop/mod.ts");
  session.out.progress(`Stopping cluster ${target}`);
  const result = await runCluster(session, { k3d: record.k3d_config, tasks: stopTasks });
  reportRun(
    session,
    target,
    "stopped",
    result,
    `Cluster ${target} is stopped; \`firestream cluster start\` starts it again.`,
  );
}

async function explainUnknown(name: string, managed: Record<string, unknown>): Promise<never> {
  const other = (await machineClusters()).find((m) => m.mark.cluster === name);
  if (other) {
    const folder = folderOf(other.mark);
    throw new FirestreamError(`cluster ${name} is managed from ${folder}`, {
      hint: `run this command in ${folder}`,
    });
  }
  if (await findCluster(name)) {
    throw new FirestreamError(`cluster ${name} exists in k3d but firestream does not manage it`, {
      hint: `run \`firestream import cluster ${name}\` first to manage it with firestream`,
    });
  }
  const known = Object.keys(managed);
  throw new FirestreamError(`no cluster named ${name}`, {
    hint: known.length
      ? `managed clusters: ${known.join(", ")}`
      : "firestream manages no clusters here yet",
  });
}

/** `cluster list`. */
export async function list(flags: GlobalFlags): Promise<void> {
  const session = await openSession(flags);
  const views = await viewAll(await session.store.read());
  if (session.out.json) return session.out.data(views);
  if (views.length === 0) {
    return session.out.line("no clusters; create one with `firestream cluster create`");
  }
  session.out.table(
    ["NAME", "MANAGED", "STATUS", "SERVERS", "AGENTS", "API"],
    views.map((v) => [
      v.name,
      v.managed
        ? "yes"
        : v.managed_from
        ? `no (managed from ${v.managed_from})`
        : "no (importable)",
      v.status,
      `${v.servers.running}/${v.servers.total}`,
      `${v.agents.running}/${v.agents.total}`,
      v.api ?? "-",
    ]),
  );
}

/**
 * `cluster start [NAME]`: the steps of a create, for the cluster as recorded (not as the config now
 * says: that is `apply`'s to show first), so k3d starts it, the routes follow the server's address
 * and the nameserver goes back into resolv.conf.
 */
export async function start(flags: GlobalFlags, name: string | undefined): Promise<void> {
  const { session, target, record } = await managed(flags, name);
  if (!(await findCluster(target))) {
    throw new FirestreamError(`cluster ${target} is gone from k3d`, {
      hint: "`firestream apply` creates it again, `firestream cluster delete` forgets it",
    });
  }
  const { createTasks } = await import("../../tasks/cluster_create/mod.ts");
  session.out.progress(`Starting cluster ${target}`);
  const result = await runCluster(session, { k3d: record.k3d_config, tasks: createTasks });
  if (session.out.json) {
    return session.out.data({
      cluster: target,
      started: true,
      applied: result.summary.applied,
      notices: result.notices,
    });
  }
  session.out.line(
    result.summary.applied.length
      ? `Cluster ${target} is running.`
      : `Cluster ${target} is already running; nothing to do.`,
  );
}

/** `cluster info [NAME]`. */
export async function info(flags: GlobalFlags, name: string | undefined): Promise<void> {
  const session = await openSession(flags);
  const view = await infoView(session, name);
  if (session.out.json) return session.out.data(view);
  printView(session.out, view);
}

/** The view `cluster info` prints (also each round of `cluster info --watch`). */
export async function infoView(session: Session, name: string | undefined): Promise<ClusterView> {
  const target = name ?? session.loaded.config.cluster.k3d.name;
  const state = await session.store.read();
  let dockerDown = false;
  // a managed cluster's facts are asked together with k3d's list, not after it
  const facts = state.clusters[target] ? liveFacts(target, state.clusters[target]) : undefined;
  const live = await findCluster(target).catch((err) => {
    // the recorded cluster is still shown, down with Docker
    if (!state.clusters[target] || !/Docker is not running/.test(err.message)) throw err;
    dockerDown = true;
    return undefined;
  });
  const record = state.clusters[target];
  const { deadRuns } = await import("../cluster/unfinished.ts");
  const unfinished = await deadRuns(session.stateDir, [target]);
  if (!record && !live) {
    // a create killed before it recorded anything: that run is what there is to say
    if (unfinished.length) {
      throw new FirestreamError(`cluster ${target} is not recorded: ${unfinished[0].message}`);
    }
    await explainUnknown(target, state.clusters);
  }
  const other = managedElsewhere(await machineClusters(), target, state.lineage);
  const view = await viewCluster(target, record, live, {
    managedFrom: other ? folderOf(other.mark) : undefined,
    dockerDown,
    facts,
    deep: true,
    projectDir: session.loaded.projectDir,
    stateDir: session.stateDir,
  });
  return { ...view, unfinished_runs: unfinished };
}

/** `, set by --agents 3` when a flag set the recorded value for one run. */
function byFlag(v: ClusterView, key: string): string {
  const flag = v.set_by_flags?.[key];
  return flag ? `, set by \`cluster create ${flag}\`` : "";
}

/** `cluster info`'s text of a view. */
export function printView(out: Output, v: ClusterView): void {
  const status = {
    running: "green",
    drifted: "yellow",
    degraded: "yellow",
    stopped: "yellow",
    missing: "red",
  } as const;
  out.line(
    `${out.paint("bold", v.name)}  ${out.paint(status[v.status], v.status)}${
      v.managed_from
        ? `  (managed from ${v.managed_from})`
        : v.managed
        ? ""
        : "  (not managed: `firestream import cluster " + v.name + "`)"
    }`,
  );
  if (v.docker_down) out.line("  docker:     not running: start Docker, then `firestream apply`");
  for (const d of v.drift) out.line(`  drift:      ${d}`);
  out.line(
    `  servers:    ${v.servers.running}/${v.servers.total} running${
      v.servers.desired !== undefined
        ? ` (recorded: ${v.servers.desired}${byFlag(v, "servers")})`
        : ""
    }`,
  );
  out.line(
    `  agents:     ${v.agents.running}/${v.agents.total} running${
      v.agents.desired !== undefined ? ` (recorded: ${v.agents.desired}${byFlag(v, "agents")})` : ""
    }`,
  );
  out.line(`  api:        ${v.api ?? "-"}`);
  out.line(`  context:    ${v.context}`);
  if (v.profile) out.line(`  profile:    ${v.profile}`);
  out.line(`  k3s:        ${(v.k3s_versions ?? []).join(", ") || "-"}`);
  if (v.registry) {
    out.line(
      `  registry:   ${v.registry.container} at ${v.registry.url} (${
        v.registry.healthy ? "healthy" : "not answering"
      }${v.registry.created_by_firestream ? "" : ", not created by firestream"})`,
    );
  }
  if (v.tls) {
    const secrets = Object.entries(v.tls.secret_present).map(([ns, ok]) =>
      `${ns}${ok ? "" : " (missing)"}`
    ).join(", ");
    out.line(`  tls:        ${v.tls.subject}`);
    out.line(
      `              names ${v.tls.sans.join(", ")}; expires ${
        v.tls.not_after.slice(0, 10)
      } (${v.tls.days_left} days)`,
    );
    out.line(
      `              secret ${v.tls.secret} ${
        secrets ? `in ${secrets}` : `(not looked at: the cluster is ${v.status})`
      }`,
    );
  }
  for (const r of v.host?.routes ?? []) {
    out.line(
      `  route:      ${r.cidr} via ${r.via}${
        r.stale ? " (stale: the server's address changed; `firestream apply` repairs it)" : ""
      }${r.present || r.stale ? "" : " (missing)"}`,
    );
  }
  const dns = v.host?.dns;
  if (dns) {
    out.line(
      `  dns:        ${dns.mode} → ${dns.server}${dns.interface ? ` on ${dns.interface}` : ""}${
        dns.file ? ` in ${dns.file}` : ""
      }${dns.present === false ? " (blocks not in the file)" : ""}`,
    );
    if (dns.standing.status !== "pass" || dns.present === false) {
      out.line(`              ${dns.standing.detail}`);
      if (dns.standing.fix) out.line(`              fix: ${dns.standing.fix}`);
    }
  }
  const ingress = v.ingress;
  if (ingress) {
    out.line(`  ingress:    *.${ingress.domain} → ${ingress.answer.join(", ")}`);
    out.line(`              ${ingress.detail}`);
    if (ingress.fix) out.line(`              fix: ${ingress.fix}`);
  }
  const hosts = v.host?.hosts_block;
  if (hosts) {
    out.line(
      `  hosts:      ${hosts.file}${hosts.present ? "" : " (block missing)"}: ${
        hosts.lines.map((l) => l.split("\t")[1]).join(", ")
      }`,
    );
  }
  if (v.forwards && (v.forwards.running || v.forwards.count)) {
    out.line(
      `  forwards:   ${v.forwards.up}/${v.forwards.count} up${
        v.forwards.running
          ? ` (supervisor pid ${v.forwards.pid})`
          : v.resources?.cluster?.paused_forwards
          ? " (paused by `cluster stop`; `firestream cluster start` resumes it)"
          : " (supervisor not running)"
      }`,
    );
    for (const f of v.forwards.ports) {
      out.line(
        `    ${f.service}:${f.port} → 127.0.0.1:${f.local_port}  ${f.status}  ${podText(f)}`,
      );
    }
  }
  for (const r of v.unfinished_runs ?? []) out.line(`  unfinished: ${r.message}`);
}

/** Flags of `import cluster`. */
export interface ImportFlags {
  writeConfig?: boolean;
  /** take the cluster from the folder that manages it */
  takeOver?: boolean;
}

/** `import cluster NAME [--write-config] [--take-over]`. */
export async function importCluster(
  flags: GlobalFlags,
  name: string,
  opts: ImportFlags,
): Promise<void> {
  // the config's own cluster is not what this command works on: no word about the defaults
  const session = await openSession(flags, { quietDefaults: true });
  const live = await findCluster(name);
  if (!live) {
    throw new FirestreamError(`k3d has no cluster named ${name}`, {
      hint: "see `k3d cluster list` or `firestream cluster list`",
    });
  }
  const found = await discoverConfig(live);
  const configPath = session.loaded.file ??
    `${session.loaded.projectDir}/${DEFAULT_CONFIG_FILE}`;
  const { record, takenFrom, already } = await withStateLock(session, async () => {
    const hostLock = await acquireHostLocks([`cluster-${name}`], {
      command: session.command,
      stateDir: session.stateDir,
    });
    try {
      const state = await session.store.read();
      const other = managedElsewhere(await machineClusters(), name, state.lineage);
      if (state.clusters[name] && !other) {
        if (opts.writeConfig) return { record: state.clusters[name], already: true };
        throw new FirestreamError(`cluster ${name} is already managed by firestream`, {
          hint:
            `see \`firestream cluster info ${name}\`; \`--write-config\` writes its [cluster.k3d] table`,
        });
      }
      if (other && !opts.takeOver) {
        const folder = folderOf(other.mark);
        throw new FirestreamError(`cluster ${name} is managed from ${folder}`, {
          hint:
            `work on it from ${folder}; to move it here, run \`firestream state rm ${name}\` there first, or pass --take-over to take it from that folder`,
        });
      }
      state.clusters[name] = importedRecord(session, found, {
        // tied to this config only when the config describes it: otherwise a plan would delete it
        configFile: opts.writeConfig ||
            (session.loaded.file && session.loaded.config.cluster.k3d.name === name)
          ? configPath
          : undefined,
      });
      const written = await session.store.write(state);
      await claimCluster(name, {
        lineage: written.lineage,
        state_dir: session.stateDir,
        project_dir: session.loaded.projectDir,
      }, { takeOver: true });
      return {
        record: written.clusters[name],
        takenFrom: other ? folderOf(other.mark) : undefined,
        already: false,
      };
    } finally {
      await hostLock.release();
    }
  });
  let written: string | undefined;
  if (opts.writeConfig) {
    written = await writeClusterTable(session, configPath, tableOf(record));
  }
  if (session.out.json) {
    return session.out.data({
      imported: already ? null : name,
      record,
      config_written: written ?? null,
      taken_from: takenFrom ?? null,
    });
  }
  const k = found.k3d;
  if (!already) {
    session.out.line(
      `Imported cluster ${name}: ${k.servers} server(s), ${k.agents} agent(s), k3s ${k.k3s_version}, api :${k.api_port}${
        k.registry.enabled ? `, registry ${found.registry?.container}:${k.registry.port}` : ""
      }`,
    );
  }
  if (takenFrom) {
    session.out.line(
      `Took it over from ${takenFrom}: firestream there no longer changes it, and its plan says so.`,
    );
  }
  session.out.line(
    written
      ? `Wrote its [cluster.k3d] table to ${written}; review it, then run \`firestream plan\`.`
      : "Next: describe it in firestream.toml (or re-run with --write-config), then use `firestream plan` and `firestream apply`.",
  );
}

/** The record of a cluster made elsewhere: what it is, nothing firestream created. */
function importedRecord(
  session: Session,
  found: Awaited<ReturnType<typeof discoverConfig>>,
  options: { configFile?: string },
): ClusterRecord {
  const name = found.k3d.name;
  return {
    name,
    cluster_type: "k3d",
    managed: true,
    imported: true,
    k3d_config: found.k3d,
    ...(found.unpublished.length ? { unpublished_ports: found.unpublished } : {}),
    project_dir: session.loaded.projectDir,
    ...(options.configFile ? { config_file: options.configFile } : {}),
    resources: {
      cluster: {
        config_file: "",
        context: kubeconfigContext(name),
        created: false,
        created_at: new Date().toISOString(),
      },
      ...(found.registry
        ? {
          registry: {
            name: found.k3d.registry.name,
            container: found.registry.container,
            host: "127.0.0.1",
            port: found.registry.port,
            created: false,
            ...(found.registry.withCluster ? { with_cluster: true } : {}),
          },
        }
        : {}),
    },
  };
}

/** The `[cluster.k3d]` table of a record, without the ports the cluster does not publish. */
function tableOf(record: ClusterRecord): Record<string, unknown> {
  const table: Record<string, unknown> = { ...record.k3d_config };
  for (const key of record.unpublished_ports ?? []) delete table[key];
  return table;
}

async function writeClusterTable(session: Session, path: string, k3d: unknown): Promise<string> {
  let doc: Record<string, unknown> = {};
  try {
    doc = parseTomlText(await Deno.readTextFile(path), path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    // a new file: the project is named after its folder, as `init` names it
    doc = {
      project: {
        ...session.loaded.config.project,
        name: folderName(session.loaded.projectDir) ?? session.loaded.config.project.name,
      },
    };
  }
  const cluster = (doc.cluster ?? {}) as Record<string, unknown>;
  cluster.k3d = k3d;
  doc.cluster = cluster;
  await writeFileAtomic(path, stringifyConfig(doc) + "\n");
  return path;
}
