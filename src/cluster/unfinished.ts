/** Runs a dead process left unfinished, as `plan` and `cluster info` mention them. */
import { type RunRecord, unfinishedRuns } from "../state/journal.ts";
import { processAlive } from "../tools/process.ts";

/** An unfinished run of one of `clusters` whose process is gone, in a line with what to do. */
export interface UnfinishedRun {
  run: string;
  cluster: string;
  command: string;
  started: string;
  /** steps it changed that are still in place */
  steps: number;
  message: string;
}

function describe(r: RunRecord): UnfinishedRun {
  const cluster = r.start?.cluster ?? "";
  const command = r.start?.command ?? "firestream";
  const started = r.entries[0]?.time ?? "";
  const steps = r.pendingUndo.length + r.interrupted.length;
  return {
    run: r.run,
    cluster,
    command,
    started,
    steps,
    message:
      `run ${r.run} of \`${command}\` (started ${started}) did not finish, ${steps} step(s) ` +
      `of it in place: run the command again to carry on, or \`firestream rollback\` to undo it`,
  };
}

/** The unfinished runs of `clusters` (newest first), not counting one that is still running. */
export async function deadRuns(stateDir: string, clusters: string[]): Promise<UnfinishedRun[]> {
  const runs = await unfinishedRuns(stateDir).catch(() => []);
  return runs.filter((r) =>
    clusters.includes(r.start?.cluster ?? "") && !(r.start && processAlive(r.start.pid))
  ).map(describe);
}
