/** Turns runner events into progress lines on stderr. */
import type { RunEvent } from "../engine/runner.ts";
import type { Output } from "../ui/output.ts";

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * On a terminal: one live line naming the step that has run longest, with its elapsed time, once a
 * step takes over a second (several at once: "+N more").
 */
function liveLine(out: Output) {
  const running = new Map<string, { title: string; started: number }>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let frame = 0;
  const draw = () => {
    const now = performance.now();
    const slow = [...running.values()].filter((t) => now - t.started >= 1000)
      .sort((a, b) => a.started - b.started);
    if (!slow.length) return out.status("");
    const first = slow[0];
    const more = running.size > 1 ? ` (+${running.size - 1} more)` : "";
    frame = (frame + 1) % SPINNER.length;
    out.status(
      `${out.paint("cyan", SPINNER[frame], "err")} ${first.title}… ${
        Math.floor((now - first.started) / 1000)
      }s${more}`,
    );
  };
  return {
    start(id: string, title: string) {
      running.set(id, { title, started: performance.now() });
      if (timer === undefined) {
        const t = setInterval(draw, 100);
        Deno.unrefTimer(t);
        timer = t;
      }
    },
    end(id: string) {
      running.delete(id);
      if (running.size === 0 && timer !== undefined) {
        clearInterval(timer);
        timer = undefined;
        out.status("");
      } else draw();
    },
  };
}

/** A progress printer for one run: a live line on a terminal, plain lines when piped. */
export function progressReporter(out: Output): (e: RunEvent) => void {
  const live = out.live ? liveLine(out) : undefined;
  return (e) => {
    switch (e.type) {
      case "task-start":
        if (live) live.start(e.id, e.title);
        else out.progress(`${out.paint("cyan", "→", "err")} ${e.title}…`);
        break;
      case "task-end":
        live?.end(e.id);
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
