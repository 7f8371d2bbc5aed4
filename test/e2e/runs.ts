/** Test helpers for crash recovery: the lock and the journals a run leaves in the state directory. */
import { isClosed, listRuns } from "../../src/state/journal.ts";
import type { SimHost } from "../sim/harness.ts";

/** True when the state lock file exists. */
export function lockLeft(h: SimHost): boolean {
  try {
    return Deno.statSync(`${h.projectDir}/.firestream/state.lock`).isFile;
  } catch {
    return false;
  }
}

/** Runs that neither ended well nor were closed: "RUN (OUTCOME)". */
export async function openJournals(h: SimHost): Promise<string[]> {
  return (await listRuns(`${h.projectDir}/.firestream`)).filter((r) => !isClosed(r)).map((r) =>
    `${r.run} (${r.outcome ?? "no end"})`
  );
}

/** True while `pid` runs (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

/** The simulated host's routes to the cluster networks, as "DST via GATEWAY". */
export function routesOf(h: SimHost): string[] {
  return h.world().routes.filter((r) => r.dst.startsWith("10.4")).map((r) =>
    `${r.dst} via ${r.gateway}`
  );
}
