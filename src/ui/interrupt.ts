/** Ctrl-C as a Unix tool answers it: `cancelled`, exit 130, unless a running step stops itself. */

let claims = 0;
let installed = false;

/**
 * A command part that handles Ctrl-C itself (a run stopping after its step, `logs -f` ending its
 * streams) claims it while it runs; call the returned function when done.
 */
export function claimInterrupts(): () => void {
  claims++;
  let released = false;
  return () => {
    if (!released) claims--;
    released = true;
  };
}

/** The line an interrupted command ends with. */
export const CANCELLED = "cancelled";

/** Installs the process-wide Ctrl-C handler: unclaimed, it prints `cancelled` and exits 130. */
export function installInterruptHandler(): void {
  if (installed || Deno.build.os === "windows") return;
  installed = true;
  Deno.addSignalListener("SIGINT", () => {
    if (claims > 0) return;
    try {
      Deno.stderr.writeSync(new TextEncoder().encode(`\n${CANCELLED}\n`));
    } catch { /* stderr is gone too */ }
    Deno.exit(130);
  });
}

/** True for the error a prompt raises when Ctrl-C (or Ctrl-D) closes it. */
export function isPromptCancel(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return name === "ExitPromptError" || name === "AbortPromptError";
}
