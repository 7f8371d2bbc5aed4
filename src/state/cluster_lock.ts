/**
 * A host-wide lock per cluster (and per registry) under the user's runtime directory: two runs from
 * different state folders never work on the same cluster at once, so neither rolls back the other.
 */
import { FirestreamError } from "../errors.ts";
import { acquireLock, describeHolder, type Lock, LOCK_FILE, readHolder } from "./lock.ts";

/** The user's runtime directory for Firestream's host-wide locks (`xdg` stands for `$XDG_RUNTIME_DIR`). */
export function runtimeDir(xdg = Deno.env.get("XDG_RUNTIME_DIR")): string {
  if (xdg) return `${xdg}/firestream`;
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  return `${tmp}/firestream-${Deno.uid() ?? "user"}`;
}

/** Takes the host-wide locks of `names` (e.g. "cluster-dev", "registry-registry.localhost"). */
export async function acquireHostLocks(
  names: string[],
  owner: { command: string; stateDir: string },
  root = runtimeDir(),
): Promise<{ release: () => Promise<void> }> {
  const held: Lock[] = [];
  const release = async () => {
    for (const l of held.reverse()) await l.release();
  };
  try {
    for (const name of names) {
      const dir = `${root}/${name}`;
      try {
        held.push(await acquireLock(dir, `${owner.command} (state ${owner.stateDir})`));
      } catch (err) {
        if (!(err instanceof FirestreamError)) throw err;
        const holder = await readHolder(`${dir}/${LOCK_FILE}`);
        const [kind, ...rest] = name.split("-");
        throw new FirestreamError(
          `${kind} ${rest.join("-")} is being changed by another firestream run${
            holder ? `: ${describeHolder(holder)}` : ""
          }`,
          {
            hint:
              "wait for that run to finish; each state folder manages its own clusters, so use another cluster name here",
          },
        );
      }
    }
  } catch (err) {
    await release();
    throw err;
  }
  return { release };
}
