/** Turns runner events into progress lines on stderr. */
import type { RunEvent } from "../engine/runner.ts";
import type { Output } from "./output.ts";

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

/** A progress printer for one run. */
export function progressReporter(out: Output): (e: RunEvent) => void {
  return (e) => {
    switch (e.type) {
      case "task-start":
        out.progress(`${out.paint("cyan", "→", "err")} ${e.title}…`);
        break;
      case "task-end":
        if (e.result === "applied") {
          out.progress(`${out.paint("green", "✓", "err")} ${e.title} (${seconds(e.ms)})`);
        } else if (e.result === "unchanged") {
          out.progress(`${out.paint("gray", "·", "err")} ${e.title}: ok`);
        } else if (e.result === "failed") {
          out.progress(`${out.paint("red", "✗", "err")} ${e.title}: ${e.error}`);
        }
        break;
      case "rollback-start":
        out.progress(
          `${out.paint("yellow", "↩", "err")} rolling back this run's changes (${e.reason})`,
        );
        break;
      case "rollback-task":
        out.progress(
          e.ok
            ? `  ${out.paint("yellow", "↩", "err")} undid ${e.title}`
            : `  ${out.paint("red", "✗", "err")} could not undo ${e.title}: ${e.error}`,
        );
        break;
    }
  };
}
