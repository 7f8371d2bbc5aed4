/** `firestream state show|backups|restore|unlock|rm` */
import { FirestreamError } from "../errors.ts";
import { acquireHostLocks } from "../state/cluster_lock.ts";
import { releaseCluster } from "../state/owners.ts";
import { runningSupervisor } from "../portforward/control.ts";
import { forwardPaths } from "../portforward/files.ts";
import { k3dConfigPath } from "../tools/k3d_names.ts";
import {
  acquireLock,
  describeHolder,
  forceUnlock,
  isHolderDead,
  LOCK_FILE,
  readHolder,
} from "../state/lock.ts";
import type { StateDocument } from "../state/document.ts";
import { type GlobalFlags, openSession } from "./session.ts";

/** Prints the state document. */
export async function show(flags: GlobalFlags): Promise<void> {
  const s = await openSession(flags);
  const doc = await s.store.read();
  if (s.out.json) return s.out.data(doc);
  s.out.line(`state:     ${s.store.path}${(await s.store.exists()) ? "" : " (not written yet)"}`);
  s.out.line(`lineage:   ${doc.lineage}`);
  s.out.line(`serial:    ${doc.serial}`);
  s.out.line(`modified:  ${doc.last_modified} by ${doc.last_modified_by || "-"}`);
  const names = Object.keys(doc.clusters);
  s.out.line(`clusters:  ${names.length ? names.join(", ") : "none"}`);
  for (const rec of Object.values(doc.clusters)) {
    s.out.line("");
    s.out.line(s.out.paint("bold", `cluster ${rec.name}`));
    s.out.line(`  managed: ${rec.managed}${rec.imported ? " (imported)" : ""}`);
    const k = rec.k3d_config;
    s.out.line(
      `  servers ${k.servers}, agents ${k.agents}, k3s ${k.k3s_version}, api :${k.api_port}`,
    );
    for (const [kind, value] of Object.entries(rec.resources)) {
      // one value a line: a record is read here, not parsed (that is `--json`)
      const text = JSON.stringify(value, null, 2).split("\n").join("\n  ");
      s.out.line(`  ${kind}: ${text}`);
    }
  }
}

/** Lists backups. */
export async function backups(flags: GlobalFlags): Promise<void> {
  const s = await openSession(flags);
  const list = await s.store.backups();
  if (s.out.json) return s.out.data(list);
  if (list.length === 0) return s.out.line(`no backups in ${s.store.backupDir}`);
  s.out.table(
    ["SERIAL", "MODIFIED", "CLUSTERS", "WRITTEN BY"],
    list.map((b) => [
      String(b.serial),
      b.last_modified,
      b.clusters.join(",") || "-",
      b.command ?? "-",
    ]),
  );
}

/** What putting `backup` in place of `current` changes, one line a cluster. */
function restorePreview(current: StateDocument, backup: StateDocument): string[] {
  const names = [...new Set([...Object.keys(current.clusters), ...Object.keys(backup.clusters)])];
  return names.sort().map((n) => {
    const now = current.clusters[n];
    const then = backup.clusters[n];
    if (!now) return `  + cluster ${n}: recorded again`;
    if (!then) return `  - cluster ${n}: its record goes (the cluster itself is left as it is)`;
    if (JSON.stringify(now) === JSON.stringify(then)) return `    cluster ${n}: unchanged`;
    const keys = [...new Set([...Object.keys(now.resources), ...Object.keys(then.resources)])]
      .filter((k) =>
        JSON.stringify(now.resources[k as keyof typeof now.resources]) !==
          JSON.stringify(then.resources[k as keyof typeof then.resources])
      );
    const config = JSON.stringify(now.k3d_config) !== JSON.stringify(then.k3d_config);
    return `  ~ cluster ${n}: ${[...(config ? ["config"] : []), ...keys].join(", ") || "record"}`;
  });
}

/** Restores a backup under the lock, after showing what it changes and asking. */
export async function restore(flags: GlobalFlags, serial: number): Promise<void> {
  const s = await openSession(flags);
  const lock = await acquireLock(s.stateDir, s.command);
  try {
    const current = await s.store.read();
    const backup = await s.store.backup(serial);
    if (!s.out.json) {
      s.out.line(
        `Backup ${serial} (${backup.last_modified}${
          backup.last_command ? `, written by \`${backup.last_command}\`` : ""
        }) replaces the state at serial ${current.serial}:`,
      );
      for (const l of restorePreview(current, backup)) s.out.line(l);
      s.out.line("");
    }
    const { confirmAction } = await import("../ui/confirm.ts");
    if (!(await confirmAction(`Restore backup ${serial}?`, { yes: flags.yes }))) {
      throw new FirestreamError("restore cancelled; nothing was changed");
    }
    const doc = await s.store.restore(serial);
    if (s.out.json) return s.out.data({ restored: serial, serial: doc.serial });
    s.out.line(
      `restored backup ${serial} as serial ${doc.serial}; \`firestream plan\` shows how the machine compares`,
    );
  } finally {
    await lock.release();
  }
}

/** Removes a stale lock; a live holder needs --force. */
export async function unlock(flags: GlobalFlags, opts: { force?: boolean }): Promise<void> {
  const s = await openSession(flags);
  const holder = await readHolder(`${s.stateDir}/${LOCK_FILE}`);
  if (!holder && !opts.force) {
    if (s.out.json) return s.out.data({ unlocked: false, holder: null });
    return s.out.line("the state is not locked");
  }
  if (holder && !isHolderDead(holder) && !opts.force) {
    throw new FirestreamError(
      `the lock is held by ${describeHolder(holder)}, which is still running`,
      {
        hint: "wait for it, or use --force if you are sure it is gone",
      },
    );
  }
  const removed = await forceUnlock(s.stateDir);
  if (s.out.json) return s.out.data({ unlocked: removed !== undefined, holder: removed ?? null });
  s.out.line(
    removed ? `removed the lock of ${describeHolder(removed)}` : "the state is not locked",
  );
  // prove the lock can be taken again
  const check = await acquireLock(s.stateDir, s.command);
  await check.release();
}

/**
 * `state rm CLUSTER`: this state stops managing the cluster and touches nothing on the machine; its
 * mark goes, so another folder can `import` it.
 */
export async function rm(flags: GlobalFlags, name: string): Promise<void> {
  const s = await openSession(flags, { quietDefaults: true });
  const lock = await acquireLock(s.stateDir, s.command);
  try {
    const host = await acquireHostLocks([`cluster-${name}`], {
      command: s.command,
      stateDir: s.stateDir,
    });
    try {
      const state = await s.store.read();
      const record = state.clusters[name];
      if (!record) {
        const known = Object.keys(state.clusters);
        throw new FirestreamError(`this state manages no cluster named ${name}`, {
          hint: known.length
            ? `managed clusters: ${known.join(", ")}`
            : "firestream manages no clusters here",
        });
      }
      // a supervisor of this folder would go on forwarding a cluster nobody here manages
      const running = await runningSupervisor(
        forwardPaths({
          projectDir: record.project_dir ?? s.loaded.projectDir,
          stateDir: s.stateDir,
          cluster: name,
        }),
      );
      if (running) {
        throw new FirestreamError(
          `the port-forward supervisor of cluster ${name} runs from this folder (pid ${running.pid})`,
          { hint: "stop it first: `firestream cluster port-forward --stop`" },
        );
      }
      delete state.clusters[name];
      await s.store.write(state);
      await releaseCluster(name, state.lineage);
      // k3d's config that this state generated for it
      await Deno.remove(k3dConfigPath(s.stateDir, name)).catch(() => {});
      const left = Object.keys(record.resources).filter((k) =>
        ["routes", "dns", "hosts_block"].includes(k)
      );
      if (s.out.json) {
        return s.out.data({ removed: name, left_on_the_machine: ["cluster", ...left] });
      }
      s.out.line(
        `Cluster ${name} is no longer managed from here; nothing on the machine changed${
          left.length
            ? ` (its ${left.join(", ").replace("hosts_block", "hosts block")} stay too)`
            : ""
        }.`,
      );
      s.out.line(`Another folder can manage it now: \`firestream import cluster ${name}\`.`);
    } finally {
      await host.release();
    }
  } finally {
    await lock.release();
  }
}
