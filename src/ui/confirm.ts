/** One rule for every confirmation: prompt on a TTY, skip with --yes, refuse without either. */
import { FirestreamError } from "../errors.ts";

/** True when prompts may be shown: stdin and stdout are terminals and CI is not set. */
export function canPrompt(): boolean {
  return !Deno.env.get("CI") && Deno.stdin.isTerminal() && Deno.stdout.isTerminal();
}

/** Asks `question`; returns true to go on. Throws when it cannot ask and `yes` is not given. */
export async function confirmAction(
  question: string,
  options: { yes?: boolean; flag?: string } = {},
): Promise<boolean> {
  if (options.yes) return true;
  if (!canPrompt()) {
    throw new FirestreamError(
      `${question.replace(/\?$/, "")}: confirmation needed but there is no terminal to ask on`,
      { hint: `re-run with ${options.flag ?? "--yes"} to proceed without a prompt` },
    );
  }
  const { confirm } = await import("@inquirer/prompts");
  return await confirm({ message: question, default: false });
}
