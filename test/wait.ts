/**
 * Waiting in tests: for an event (a file written, a line printed, a process gone, a port
 * answering), looked at every few milliseconds, with an outer limit that only catches a hang: a
 * busy machine makes a wait longer, never a failure.
 */

/** The outer limit of every wait: long enough that only a hang reaches it. */
export const HANG_MS = 120_000;

/** Polls `fn` until it gives a value, or fails naming `what` after `ms`. */
export async function until<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  ms = HANG_MS,
): Promise<T> {
  const end = Date.now() + ms;
  while (true) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
