/** `cluster info --watch`: the view of `cluster info` again every interval, as plain text (or one JSON document a line). */
import { infoView, printView } from "./cluster.ts";
import { type GlobalFlags, openSession } from "./session.ts";

/** `cluster info [NAME] --watch [--interval SECONDS]`: until Ctrl-C or a closed stdout. */
export async function watchInfo(
  flags: GlobalFlags,
  name: string | undefined,
  opts: { interval?: number },
): Promise<void> {
  const session = await openSession(flags);
  const every = (opts.interval ?? 2) * 1000;
  for (let round = 0;; round++) {
    const started = Date.now();
    const view = await infoView(session, name);
    if (session.out.json) session.out.record({ time: new Date().toISOString(), ...view });
    else {
      if (round) session.out.line("");
      session.out.line(`— ${new Date().toLocaleTimeString()}`);
      printView(session.out, view);
    }
    // one round at a time: the next starts an interval after this one started, or at once when late
    await new Promise((r) => setTimeout(r, Math.max(0, every - (Date.now() - started))));
  }
}
