/** Starting, finding, listing and stopping a cluster's port-forward supervisor. */
import { FirestreamError } from "../errors.ts";
import { writeFileAtomic } from "../state/fs.ts";
import { spawnChild } from "../tools/child.ts";
import { which } from "../tools/exec.ts";
import { processAlive } from "../tools/process.ts";
import {
  type ForwardEntry,
  type ForwardEvent,
  type ForwardPaths,
  readMappings,
  readSupervisor,
  type SupervisorInfo,
} from "./files.ts";
import type { SupervisorSpec } from "./spec.ts";
import { isoNow } from "./time.ts";

/** The running supervisor of this cluster, if its process is alive. */
export async function runningSupervisor(paths: ForwardPaths): Promise<SupervisorInfo | undefined> {
  const info = await readSupervisor(paths.pid);
  return info && processAlive(info.pid) ? info : undefined;
}

/** How often a running supervisor looks whether its pid file still names it. */
const OWNER_CHECK_MS = 1000;

/**
 * Whether the pid file at `path` names this process. A file that cannot be read for another reason
 * than its absence (a full table of open files) counts as ours until it is looked at again.
 */
async function pidFileNamesUs(path: string): Promise<boolean> {
  try {
    return JSON.parse(await Deno.readTextFile(path))?.pid === Deno.pid;
  } catch (err) {
    return !(err instanceof Deno.errors.NotFound);
  }
}

/**
 * A signal that also aborts once the pid file at `path` is gone or names another process (`lost`):
 * the state directory was removed, or another supervisor took over. No command could find or stop
 * this one any more, so it stops itself, and its forwards with it.
 */
function whilePidFileNamesUs(
  path: string,
  signal: AbortSignal,
): { signal: AbortSignal; lost: AbortSignal } {
  const lost = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const look = async () => {
    if (!(await pidFileNamesUs(path))) lost.abort();
    else if (!signal.aborted) timer = setTimeout(look, OWNER_CHECK_MS);
  };
  timer = setTimeout(look, OWNER_CHECK_MS);
  const stop = () => clearTimeout(timer);
  signal.addEventListener("abort", stop, { once: true });
  lost.signal.addEventListener("abort", stop, { once: true });
  return { signal: AbortSignal.any([signal, lost.signal]), lost: lost.signal };
}

/**
 * Runs a supervisor in this process until `signal` aborts (foreground, or the detached child):
 * "stopped"; or until its pid file is gone or names another process: "lost".
 */
export async function runSupervisor(
  spec: SupervisorSpec,
  signal: AbortSignal,
  onEvent?: (e: ForwardEvent) => void,
): Promise<"stopped" | "lost"> {
  const running = await runningSupervisor(spec.paths);
  if (running && running.pid !== Deno.pid) {
    throw new FirestreamError(
      `port forwarding for ${spec.cluster} already runs (pid ${running.pid})`,
      {
        hint: "see `firestream cluster port-forward --list`, or stop it with `--stop`",
      },
    );
  }
  await Deno.mkdir(spec.paths.pid.slice(0, spec.paths.pid.lastIndexOf("/")), { recursive: true });
  const info: SupervisorInfo = {
    pid: Deno.pid,
    cluster: spec.cluster,
    offset: spec.offset,
    started: isoNow(),
    only: spec.only,
  };
  await writeFileAtomic(spec.paths.pid, JSON.stringify(info) + "\n");
  const owner = () => pidFileNamesUs(spec.paths.pid);
  const watched = whilePidFileNamesUs(spec.paths.pid, signal);
  try {
    const onReady = async () => {
      if (await owner()) {
        await writeFileAtomic(spec.paths.pid, JSON.stringify({ ...info, ready: true }) + "\n");
      }
    };
    // the forwarding loop itself, loaded only where forwards run
    const { Supervisor } = await import("./supervisor.ts");
    await new Supervisor({ ...spec, onEvent, onReady, owner }).run(watched.signal);
    return watched.lost.aborted && !signal.aborted ? "lost" : "stopped";
  } finally {
    const still = await readSupervisor(spec.paths.pid);
    if (still?.pid === Deno.pid) await Deno.remove(spec.paths.pid).catch(() => {});
  }
}

/** How to run this program again: the compiled binary itself, or `deno run -A main.ts`. */
export function selfArgv(): string[] {
  const exec = Deno.execPath();
  const name = exec.slice(exec.lastIndexOf("/") + 1);
  if (/^deno(\.exe)?$/.test(name)) {
    return [exec, "run", "-A", "--quiet", new URL(Deno.mainModule).pathname];
  }
  return [exec];
}

/**
 * V8 settings for the long-lived supervisor: a small young generation, and lite mode. Every other
 * command runs as fast with them (a certificate issued in 231–248 ms against 251–266 ms; `--help`
 * and `plan` within noise), so the compiled binary carries them for all of its commands.
 */
export const SUPERVISOR_V8_FLAGS = "--max-semi-space-size=1,--lite-mode";

/**
 * `deno run` settings for the long-lived supervisor, which keep its memory low: a small young
 * generation, and V8's lite mode, without the optimizing compilers, whose code and working memory
 * made up 4–6 MiB of its resident memory at 100 services for no time it could measure (its own CPU
 * is under a second for the whole start); no config, lock file or npm resolution (it loads no
 * package, which a test checks); and dynamic imports left lazy, as deno.json would, so that no
 * command's modules are parsed. A compiled binary takes V8 flags only when it is built, for every
 * command alike: `deno task compile` builds it with {@link SUPERVISOR_V8_FLAGS}.
 */
const SUPERVISOR_RUN = [
  `--v8-flags=${SUPERVISOR_V8_FLAGS}`,
  "--no-config",
  "--unstable-lazy-dynamic-imports",
];

/**
 * The C library's allocator settings for the long-lived supervisor, given as its environment: glibc
 * reads them when the process starts, so they hold for `deno run` and for the compiled binary alike
 * (which ignores V8 flags given at run time), and other C libraries ignore them. Every `kubectl get`
 * the supervisor starts, beside a hundred live children, frees blocks of 64–128 KiB; glibc's
 * threshold for giving such blocks their own mapping rises past them as they are freed, so they
 * stay in its heap and fragment it: at 100 services its resident memory grew from 51 to 60 MiB over
 * the first two minutes. A fixed threshold keeps them mapped apart and returned when freed.
 */
const SUPERVISOR_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: "65536",
};

/**
 * The longest wait for something under way: a live supervisor getting ready (a process start and
 * one look at the cluster), a killed process going. A busy machine can make either take many
 * seconds, so only a hang reaches this.
 */
const UNDER_WAY_MS = 120_000;

/**
 * Starts the supervisor in the background (its own session when `setsid` exists); waits until it
 * is ready or has exited.
 */
export async function startDetached(spec: SupervisorSpec): Promise<SupervisorInfo> {
  const running = await runningSupervisor(spec.paths);
  if (running) return running;
  const self = selfArgv();
  // `deno run` takes these settings here; a compiled binary has its own
  const argv = self.length > 1
    ? [self[0], self[1], ...SUPERVISOR_RUN, ...self.slice(2), "__supervise", JSON.stringify(spec)]
    : [...self, "__supervise", JSON.stringify(spec)];
  // a session of its own: the terminal's Ctrl-C and hang-up do not reach it
  // a setting the user made for this program stays as it is
  const env = Object.fromEntries(
    Object.entries(SUPERVISOR_ENV).filter(([k]) => Deno.env.get(k) === undefined),
  );
  const child = spawnChild((await which("setsid")) ? ["setsid", ...argv] : argv, {
    detached: true,
    env,
  });
  const deadline = Date.now() + UNDER_WAY_MS;
  let readyAt: number | undefined;
  while (Date.now() < deadline) {
    const info = await readSupervisor(spec.paths.pid);
    if (info?.ready && processAlive(info.pid)) {
      // started; give the forwards a moment to come up, so callers can print them
      readyAt ??= Date.now();
      const entries = await readMappings(spec.paths.mappings);
      const settled = entries.every((e) => e.status !== "starting" && e.status !== "restarting");
      if (settled || Date.now() - readyAt > 3000) return info;
    } else if (!processAlive(child.pid) && !(info && processAlive(info.pid))) {
      throw new FirestreamError("the port-forward supervisor exited at start", {
        hint: `see ${spec.paths.events}`,
      });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const info = await readSupervisor(spec.paths.pid);
  if (info) return info;
  throw new FirestreamError("the port-forward supervisor did not start", {
    hint: `see ${spec.paths.events}`,
  });
}

function readPids(path: string): number[] {
  try {
    return Deno.readTextFileSync(path).split("\n").map(Number).filter((n) => n > 0);
  } catch {
    return [];
  }
}

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let alive = pids.filter(processAlive);
  while (alive.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    alive = alive.filter(processAlive);
  }
  return alive;
}

/** Stops the supervisor and makes sure none of its children is left. Returns whether one was running. */
export async function stopSupervisor(paths: ForwardPaths): Promise<boolean> {
  const info = await readSupervisor(paths.pid);
  const wasRunning = Boolean(info && processAlive(info.pid));
  if (info && wasRunning) {
    try {
      Deno.kill(info.pid, "SIGTERM");
    } catch { /* gone meanwhile */ }
    if ((await waitGone([info.pid], 5000)).length) {
      try {
        Deno.kill(info.pid, "SIGKILL");
      } catch { /* gone */ }
      await waitGone([info.pid], UNDER_WAY_MS);
    }
  }
  // children of a supervisor that was killed: end them here rather than wait for its watchdog
  const strays = readPids(paths.children).filter(processAlive);
  for (const pid of strays) {
    try {
      Deno.kill(pid, "SIGTERM");
    } catch { /* gone */ }
  }
  const left = await waitGone(strays, 2000);
  for (const pid of left) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
  // a killed process is gone a moment later: none is left once this returns
  await waitGone(left, UNDER_WAY_MS);
  await Deno.remove(paths.pid).catch(() => {});
  await Deno.remove(paths.children).catch(() => {});
  return wasRunning;
}

/** The mappings with live status (a dead supervisor's entries read as stopped). */
export async function listForwards(
  paths: ForwardPaths,
): Promise<{ running?: SupervisorInfo; entries: ForwardEntry[] }> {
  const running = await runningSupervisor(paths);
  const entries = (await readMappings(paths.mappings)).map((e) =>
    running && e.pid !== null && processAlive(e.pid)
      ? e
      : { ...e, status: running ? e.status : "stopped" as const, pid: running ? e.pid : null }
  );
  return { running, entries };
}

/** The hidden `__supervise SPEC` command: the detached supervisor process. */
export async function supervise(specJson: string): Promise<void> {
  const spec = JSON.parse(specJson) as SupervisorSpec;
  // the allocator settings are this process's own: kubectl and the watchdog start without them
  for (const [k, v] of Object.entries(SUPERVISOR_ENV)) {
    if (Deno.env.get(k) === v) Deno.env.delete(k);
  }
  const abort = new AbortController();
  for (const s of ["SIGINT", "SIGTERM"] as Deno.Signal[]) {
    Deno.addSignalListener(s, () => abort.abort());
  }
  // detached from any terminal: a hang-up is not a reason to stop
  Deno.addSignalListener("SIGHUP", () => {});
  await runSupervisor(spec, abort.signal);
}
