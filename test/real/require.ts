import { type RunOptions, runProgram, type RunResult } from "../run.ts";

/** Real components: present here, or the test is skipped out loud; under CI a missing one is a failure. */

/** The path of a program on PATH, if any. */
export function findProgram(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir || dir.includes("/test/sim/bin")) continue;
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch { /* not here */ }
  }
  return undefined;
}

/** Whether `what` is usable; prints why not, and throws under CI so the run fails. */
export function requireReal(what: string, available: boolean, why: string): boolean {
  if (available) return true;
  if (Deno.env.get("CI")) throw new Error(`CI needs ${what}, which is missing: ${why}`);
  console.error(`SKIPPED (not available here): ${what}: ${why}`);
  return false;
}

/** Runs a program and returns its output. */
export function run(program: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return runProgram(program, args, options);
}
