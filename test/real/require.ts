/** Real components: present here, or the test is skipped out loud; under CI a missing one is a failure. */

/** The path of a program on PATH, if any. */
export function findProgram(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir || dir.includes("/test/sim/bin")) continue;
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch { /* not here */ }
  }
  return undefined;
}

/** Whether `what` is usable; prints why not, and throws under CI so the run fails. */
export function requireReal(what: string, available: boolean, why: string): boolean {
  if (available) return true;
  if (Deno.env.get("CI")) throw new Error(`CI needs ${what}, which is missing: ${why}`);
  console.error(`SKIPPED (not available here): ${what}: ${why}`);
  return false;
}

/** Runs a program and returns its output. */
export async function run(
  program: string,
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
) {
  const child = new Deno.Command(program, {
    args,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: options.env,
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
