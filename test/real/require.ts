import { type RunOptions, runProgram, type RunResult } from "../run.ts";
import { realTool } from "../sim/real.ts";

/** Real components: present here, or the test is skipped out loud; under CI a missing one is a failure. */

/** The path of a real program on PATH (never a simulated one), if any. */
export const findProgram = realTool;

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
