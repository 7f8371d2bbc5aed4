/** Entry: build the CLI, run it, map errors to exit codes. */
import { FirestreamError } from "../errors.ts";
import { CANCELLED, installInterruptHandler, isPromptCancel } from "../ui/interrupt.ts";
import { flushLog } from "../ui/log.ts";
import { isBrokenPipe, Output } from "../ui/output.ts";
import { versionLine } from "../version.ts";
import { HELP_80, HELP_WIDE, HELP_WIDE_MIN } from "./help_text.ts";

/**
 * The root help without commander: the text commander renders (generated into help_text.ts) when
 * it holds for this terminal's width (`undefined`: not a terminal); otherwise undefined.
 */
export function rootHelp(columns: number | undefined): string | undefined {
  if (columns === undefined || columns === 80) return HELP_80;
  return columns >= HELP_WIDE_MIN ? HELP_WIDE : undefined;
}

function terminalColumns(): number | undefined {
  if (!Deno.stdout.isTerminal()) return undefined;
  try {
    return Deno.consoleSize().columns;
  } catch {
    return undefined;
  }
}

/** Runs the CLI with `args`; resolves to the process exit code. */
export async function main(args: string[]): Promise<number> {
  // answered before the command tree loads: start-up time is a feature
  if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
    console.log(versionLine());
    return 0;
  }
  installInterruptHandler();
  if (args.length === 1 && (args[0] === "--help" || args[0] === "-h")) {
    const help = rootHelp(terminalColumns());
    if (help !== undefined) {
      await Deno.stdout.write(new TextEncoder().encode(help));
      return 0;
    }
  }
  const { buildProgram, normalizeArgs } = await import("./program.ts");
  const program = buildProgram();
  try {
    await program.parseAsync(normalizeArgs(args), { from: "user" });
    return Deno.exitCode;
  } catch (err) {
    return reportError(err, args);
  } finally {
    flushLog();
  }
}

function reportError(err: unknown, args: string[]): number {
  // a reader that stopped reading (`| head -1`) is not an error
  if (isBrokenPipe(err)) return 0;
  const out = new Output({ noColor: args.includes("--no-color") });
  if (isPromptCancel(err)) {
    console.error(CANCELLED);
    return 130;
  }
  const code = (err as { code?: string }).code;
  if (typeof code === "string" && code.startsWith("commander.")) {
    // commander already printed its message (unknown option, missing argument, help, version)
    return (err as { exitCode?: number }).exitCode ?? 1;
  }
  if (err instanceof FirestreamError && err.exitCode === 130) {
    console.error(`${CANCELLED}: ${err.message}`);
    if (err.hint) console.error(`  hint: ${err.hint}`);
    return 130;
  }
  if (err instanceof FirestreamError) {
    out.error(err.message, err.hint);
    return err.exitCode;
  }
  out.error(err instanceof Error ? err.message : String(err));
  if (Deno.env.get("FIRESTREAM_LOG") === "debug" && err instanceof Error) console.error(err.stack);
  return 1;
}
