/** One writer at a time: an exclusive lock file naming its holder, with dead-holder detection. */
import { FirestreamError } from "../errors.ts";
import { currentUser, processAlive as pidAlive, processStart } from "../tools/process.ts";

/** Who holds the lock. */
export interface LockHolder {
  pid: number;
  user: string;
  host: string;
  command: string;
  time: string;
  /** process start time (Linux clock ticks), to tell a reused pid from the holder */
  start?: number;
}

/** The lock file's name inside the state directory. */
export const LOCK_FILE = "state.lock";

/** A held lock; release it when done. */
export interface Lock {
  holder: LockHolder;
  /** set when a dead holder's lock was taken over */
  tookOverFrom?: LockHolder;
  release(): Promise<void>;
}

/** Takes the lock in `dir`, or throws naming the live holder. A dead holder on this host is replaced. */
export async function acquireLock(dir: string, command: string): Promise<Lock> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${LOCK_FILE}`;
  const me: LockHolder = {
    pid: Deno.pid,
    user: currentUser(),
    host: Deno.hostname(),
    command,
    time: new Date().toISOString(),
    start: processStart(Deno.pid),
  };
  let tookOverFrom: LockHolder | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    // write the holder to a private file, then hard-link it into place: the lock appears whole or not at all
    const temp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}`;
    await Deno.writeTextFile(temp, JSON.stringify(me) + "\n", { mode: 0o644 });
    try {
      await Deno.link(temp, path);
      return {
        holder: me,
        tookOverFrom,
        release: async () => {
          const now = await readHolder(path);
          if (now?.pid === me.pid && now.host === me.host) await Deno.remove(path).catch(() => {});
        },
      };
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    } finally {
      await Deno.remove(temp).catch(() => {});
    }
    const holder = await readHolder(path);
    if (holder && !isHolderDead(holder)) throw lockedError(holder);
    // dead holder (or an unreadable, half-written lock): take it over
    tookOverFrom = holder ?? undefined;
    await Deno.remove(path).catch(() => {});
  }
  throw new FirestreamError(`could not take the state lock at ${path}`, {
    hint: "another firestream is racing for it; run the command again",
  });
}

function lockedError(holder: LockHolder): FirestreamError {
  return new FirestreamError(`state is locked by ${describeHolder(holder)}`, {
    hint: `wait for it to finish; if it is gone, run \`firestream state unlock --force\``,
  });
}

/**
 * Throws, as {@link acquireLock} would, when another live process holds the lock in `dir`: a
 * command that asks first looks before it asks, so that a "yes" is not answered for nothing.
 */
export async function refuseIfLocked(dir: string): Promise<void> {
  const holder = await readHolder(`${dir}/${LOCK_FILE}`);
  const mine = holder?.pid === Deno.pid && holder.host === Deno.hostname();
  if (holder && !mine && !isHolderDead(holder)) throw lockedError(holder);
}

/** Reads the lock file's holder, if any. */
export async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as LockHolder;
  } catch {
    return undefined;
  }
}

/** "pid 123 (alice@box, `firestream apply`, since 2026-…)" */
export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} (${h.user}@${h.host}, \`${h.command}\`, since ${h.time})`;
}

/** True when the holder ran on this host and its process is gone (or its pid was reused). */
export function isHolderDead(holder: LockHolder): boolean {
  if (holder.host !== Deno.hostname()) return false;
  if (!pidAlive(holder.pid)) return true;
  const start = processStart(holder.pid);
  return holder.start !== undefined && start !== undefined && start !== holder.start;
}

/** Removes the lock regardless of holder (for `state unlock --force`). Returns the holder removed. */
export async function forceUnlock(dir: string): Promise<LockHolder | undefined> {
  const path = `${dir}/${LOCK_FILE}`;
  const holder = await readHolder(path);
  try {
    await Deno.remove(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  return holder ?? { pid: 0, user: "?", host: "?", command: "?", time: "?" };
}
