/** Facts about local processes, read from /proc where there is one. */

/** True while the process exists and has not exited (a zombie counts as gone). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (Deno.build.os === "linux") {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      return !/^\d+ \(.*\) [ZX] /.test(stat);
    } catch {
      return false;
    }
  }
  try {
    // signal 0 does not exist in Deno's API; SIGCONT to a running process is a no-op
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch (err) {
    return err instanceof Deno.errors.PermissionDenied;
  }
}

/** The process's start time (Linux clock ticks since boot), to tell a reused pid from the original. */
export function processStart(pid: number): number | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in KiB (Linux), for reports. */
export function residentKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The user running this process, as shown in locks and the state's last_modified_by. */
export function currentUser(): string {
  return Deno.env.get("USER") ?? Deno.env.get("USERNAME") ?? String(Deno.uid?.() ?? "unknown");
}
