/**
 * Who manages what on this machine. Each managed cluster has one mark, `<owners dir>/<cluster>.json`,
 * naming the state (lineage and folder) that manages it; what the cluster uses (its registry, its
 * CA) is read from that state itself, so sharing is by reference and nothing is recorded twice.
 * The marks live in the user's state directory, not the runtime one: they must outlive a reboot,
 * as the clusters do. (k3d gives a registry no labels, and a node's labels are fixed at create, so
 * Docker cannot carry an owner that a take-over changes.)
 */
import { FirestreamError } from "../errors.ts";
import type { ClusterRecord, StateDocument } from "./document.ts";
import { readTextIfExists, writeFileAtomic } from "./fs.ts";
import { STATE_FILE } from "./store.ts";

/** The mark of one managed cluster. */
export interface OwnerMark {
  cluster: string;
  /** the managing state's lineage */
  lineage: string;
  state_dir: string;
  project_dir: string;
  since: string;
  /** the folder it was taken over from (`import cluster --take-over`) */
  taken_from?: string;
}

/** A cluster another (or this) state manages: its mark and its record in that state. */
export interface ManagedCluster {
  mark: OwnerMark;
  record: ClusterRecord;
}

let stateHome: string | undefined;

/**
 * Points this module at another state home than `$XDG_STATE_HOME` (a test's own machine), without
 * touching the process environment that parallel test modules and their children share.
 */
export function useStateHome(dir: string | undefined): void {
  stateHome = dir;
}

/** Firestream's machine-wide directory: `$XDG_STATE_HOME/firestream` (else `~/.local/state/...`). */
function machineDir(): string {
  const base = stateHome || Deno.env.get("XDG_STATE_HOME") ||
    `${Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? "/tmp"}/.local/state`;
  return `${base}/firestream`;
}

/** Where the cluster marks live. */
export function ownersDir(): string {
  return `${machineDir()}/clusters`;
}

/** Where `init` lists the config files it wrote (projects whose clusters may not exist yet). */
function projectsDir(): string {
  return `${machineDir()}/projects`;
}

async function projectEntry(configFile: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(configFile));
  const hex = [...new Uint8Array(d)].slice(0, 12).map((b) => b.toString(16).padStart(2, "0"));
  return `${projectsDir()}/${hex.join("")}.json`;
}

/** Lists a project's config file, so that the next `init` elsewhere avoids what it will use. */
export async function registerProject(configFile: string): Promise<void> {
  await Deno.mkdir(projectsDir(), { recursive: true });
  await writeFileAtomic(
    await projectEntry(configFile),
    JSON.stringify({ config_file: configFile }) + "\n",
  );
}

/** The config files `init` wrote on this machine that still exist (the list forgets the others). */
export async function knownProjects(): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(projectsDir())) {
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      const path = `${projectsDir()}/${e.name}`;
      try {
        const file = JSON.parse(await Deno.readTextFile(path)).config_file as string;
        if (await Deno.stat(file).then(() => true, () => false)) out.push(file);
        else await Deno.remove(path).catch(() => {});
      } catch {
        // an unreadable entry names nothing
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out.sort();
}

function markPath(cluster: string): string {
  return `${ownersDir()}/${cluster}.json`;
}

/** The mark of `cluster`, as written (it may be stale: see {@link machineClusters}). */
export async function readMark(cluster: string): Promise<OwnerMark | undefined> {
  const text = await readTextIfExists(markPath(cluster));
  if (text === undefined) return undefined;
  try {
    const mark = JSON.parse(text) as OwnerMark;
    return typeof mark.lineage === "string" && typeof mark.state_dir === "string"
      ? mark
      : undefined;
  } catch {
    return undefined;
  }
}

async function readState(dir: string): Promise<StateDocument | undefined> {
  try {
    const text = await readTextIfExists(`${dir}/${STATE_FILE}`);
    return text === undefined ? undefined : JSON.parse(text) as StateDocument;
  } catch {
    return undefined;
  }
}

/** The mark with its record, when the state it names still manages the cluster. */
async function resolve(
  mark: OwnerMark,
  states: Map<string, Promise<StateDocument | undefined>>,
): Promise<ManagedCluster | undefined> {
  if (!states.has(mark.state_dir)) states.set(mark.state_dir, readState(mark.state_dir));
  const doc = await states.get(mark.state_dir);
  const record = doc?.lineage === mark.lineage ? doc.clusters?.[mark.cluster] : undefined;
  return record ? { mark, record } : undefined;
}

/**
 * Every cluster a state on this machine manages. A mark whose state is gone, has another lineage
 * (a new state in the same folder) or no longer records the cluster is stale and left out.
 */
export async function machineClusters(): Promise<ManagedCluster[]> {
  let names: string[] = [];
  try {
    for await (const e of Deno.readDir(ownersDir())) {
      if (e.isFile && e.name.endsWith(".json")) names.push(e.name.slice(0, -5));
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  names = names.sort();
  const states = new Map<string, Promise<StateDocument | undefined>>();
  const found = await Promise.all(names.map(async (n) => {
    const mark = await readMark(n);
    return mark && mark.cluster === n ? await resolve(mark, states) : undefined;
  }));
  return found.filter((m): m is ManagedCluster => m !== undefined);
}

/** The state that manages `cluster`, when it is not the state of `lineage`. */
export function managedElsewhere(
  machine: ManagedCluster[],
  cluster: string,
  lineage: string,
): ManagedCluster | undefined {
  return machine.find((m) => m.mark.cluster === cluster && m.mark.lineage !== lineage);
}

/** Who the state at `mark` is, for messages: its project folder. */
export function folderOf(mark: OwnerMark): string {
  return mark.project_dir || mark.state_dir;
}

/** Another cluster that uses a shared thing, and the folder that manages it when not this one. */
export interface User {
  cluster: string;
  /** the project folder of the state that manages it, when that is another state */
  folder?: string;
  record: ClusterRecord;
}

/**
 * The clusters other than `except` whose record satisfies `uses`: this state's own, and those
 * other states on the machine manage.
 */
export function usersOf(
  state: StateDocument,
  machine: ManagedCluster[],
  except: string,
  uses: (r: ClusterRecord) => boolean,
): User[] {
  const out: User[] = Object.values(state.clusters)
    .filter((c) => c.name !== except && uses(c))
    .map((c) => ({ cluster: c.name, record: c }));
  for (const m of machine) {
    if (m.mark.lineage === state.lineage || m.mark.cluster === except) continue;
    if (out.some((u) => u.cluster === m.mark.cluster) || !uses(m.record)) continue;
    out.push({ cluster: m.mark.cluster, folder: folderOf(m.mark), record: m.record });
  }
  return out;
}

/** "cluster a still uses it", "also used by /home/me/b (cluster b)", or both. */
export function describeUsers(users: User[]): string {
  const here = users.filter((u) => !u.folder).map((u) => u.cluster);
  const parts = here.length ? [`cluster ${here.join(", ")} still uses it`] : [];
  for (const u of users.filter((u) => u.folder)) {
    parts.push(`also used by ${u.folder} (cluster ${u.cluster})`);
  }
  return parts.join("; ");
}

/** Who is writing a mark. */
export interface Claimant {
  lineage: string;
  state_dir: string;
  project_dir: string;
}

/**
 * Marks `cluster` as managed by `me`. A valid mark of another state stays (and is returned) unless
 * `takeOver`; a stale one is replaced. Callers hold the cluster's host-wide lock.
 */
export async function claimCluster(
  cluster: string,
  me: Claimant,
  options: { takeOver?: boolean } = {},
): Promise<ManagedCluster | undefined> {
  const old = await readMark(cluster);
  if (
    old?.lineage === me.lineage && old.state_dir === me.state_dir &&
    old.project_dir === me.project_dir
  ) return undefined;
  const other = old && old.lineage !== me.lineage ? await resolve(old, new Map()) : undefined;
  if (other && !options.takeOver) return other;
  const mark: OwnerMark = {
    cluster,
    ...me,
    since: new Date().toISOString(),
    ...(other ? { taken_from: folderOf(other.mark) } : {}),
  };
  await Deno.mkdir(ownersDir(), { recursive: true });
  await writeFileAtomic(markPath(cluster), JSON.stringify(mark, null, 2) + "\n");
  return undefined;
}

/** Removes the mark of `cluster` when it names the state of `lineage`. */
export async function releaseCluster(cluster: string, lineage: string): Promise<void> {
  const mark = await readMark(cluster);
  if (mark?.lineage !== lineage) return;
  await Deno.remove(markPath(cluster)).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
}

/**
 * Why this state may not work on a cluster another state manages. `recordedHere`: this state has a
 * record of it too (the cluster was taken over from here).
 */
export function managedElsewhereError(
  other: ManagedCluster,
  recordedHere: boolean,
): FirestreamError {
  const name = other.mark.cluster;
  const folder = folderOf(other.mark);
  if (recordedHere) {
    return new FirestreamError(
      `cluster ${name} is now managed from ${folder}${
        other.mark.taken_from ? " (taken over with `import cluster --take-over`)" : ""
      }; this folder no longer manages it`,
      { hint: `\`firestream state rm ${name}\` lets go of it here without touching it` },
    );
  }
  return new FirestreamError(`k3d cluster ${name} is managed from ${folder}`, {
    hint:
      `change it from ${folder}, or give this project its own cluster name (cluster.k3d.name in firestream.toml)`,
  });
}
