/** Entry: parse the command line, run the command, map errors to exit codes. */
import { FirestreamError } from "../errors.ts";
import { CANCELLED, installInterruptHandler, isPromptCancel } from "../ui/interrupt.ts";
import { flushLog } from "../ui/log.ts";
import { isBrokenPipe, Output } from "../ui/output.ts";
import { versionLine } from "../version.ts";
import { parseArgv, renderHelp, UsageError } from "./args.ts";
import { normalizeArgs, PROGRAM } from "./program.ts";

function columns(stream: typeof Deno.stdout | typeof Deno.stderr): number {
  if (!stream.isTerminal()) return 80;
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 80;
  }
}

/** Runs the CLI with `args`; resolves to the process exit code. */
export async function main(args: string[]): Promise<number> {
  installInterruptHandler();
  try {
    // bare `firestream` on a terminal is the live view; elsewhere it prints the help
    if (args.length === 0 && (await import("../ui/confirm.ts")).canPrompt()) args = ["ui"];
    const parsed = parseArgv(PROGRAM, normalizeArgs(args));
    if (parsed.kind === "version") {
      console.log(versionLine());
      return 0;
    }
    if (parsed.kind === "help") {
      const stream = parsed.toStderr ? Deno.stderr : Deno.stdout;
      await stream.write(new TextEncoder().encode(renderHelp(parsed.path, columns(stream))));
      return parsed.toStderr ? 1 : 0;
    }
    const { call, path } = parsed;
    if (call.all.output === "yaml") {
      const { stringify } = await import("yaml");
      (await import("../ui/output.ts")).useYaml((v) => stringify(v));
    }
    const code = await path[path.length - 1].run!(call);
    return typeof code === "number" ? code : 0;
  } catch (err) {
    return reportError(err, args);
  } finally {
    flushLog();
  }
}

function reportError(err: unknown, args: string[]): number {
  // a reader that stopped reading (`| head -1`) is not an error
  if (isBrokenPipe(err)) return 0;
  if (err instanceof UsageError) {
    console.error(`error: ${err.message}`);
    if (err.suggestion) console.error(`(Did you mean ${err.suggestion}?)`);
    return 1;
  }
  const out = new Output({ noColor: args.includes("--no-color") });
  if (isPromptCancel(err)) {
    console.error(CANCELLED);
    return 130;
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
