/** `firestream doctor`. */
import { runDoctor } from "../observe/doctor.ts";
import { type GlobalFlags, openSession } from "./session.ts";

/** Prints every check; exit code 1 when any failed. */
export async function doctor(flags: GlobalFlags): Promise<number> {
  const session = await openSession(flags);
  const checks = await runDoctor(session);
  const failed = checks.filter((c) => c.status === "fail").length;
  const code = failed ? 1 : 0;
  if (session.out.json) {
    session.out.data({ ok: failed === 0, checks });
    return code;
  }
  const mark = {
    pass: session.out.paint("green", "✓ pass"),
    warn: session.out.paint("yellow", "! warn"),
    fail: session.out.paint("red", "✗ fail"),
  };
  // --quiet: only what failed, then the result line
  for (const c of checks) {
    if (session.out.quiet && c.status !== "fail") continue;
    session.out.line(`${mark[c.status]}  ${c.name}: ${c.detail}`);
    if (c.fix && c.status !== "pass") session.out.line(`         fix: ${c.fix}`);
  }
  const warned = checks.filter((c) => c.status === "warn").length;
  session.out.line(
    `${session.out.quiet ? "" : "\n"}${checks.length} checks: ${
      checks.length - failed - warned
    } passed, ${warned} ${warned === 1 ? "warning" : "warnings"}, ${failed} failed`,
  );
  return code;
}
