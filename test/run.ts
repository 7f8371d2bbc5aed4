/** Runs a program to completion for tests and test tools: argv as an array, output captured. */

/** What a finished program said. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@link runProgram}. */
export interface RunOptions {
  stdin?: string;
  env?: Record<string, string>;
  /** start from `env` only @default false */
  clearEnv?: boolean;
  cwd?: string;
}

/** Runs `program` with `args` and returns its exit code and output. */
export async function runProgram(
  program: string,
  args: string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const child = new Deno.Command(program, {
    args,
    cwd: options.cwd,
    env: options.env,
    clearEnv: options.clearEnv,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}
