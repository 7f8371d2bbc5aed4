/** A registry is healthy when its v2 API root answers HTTP 200 on the published loopback port. */

/** Options for {@link waitForRegistry}. */
export interface HealthOptions {
  /** total time to wait @default 30000 */
  timeoutMs?: number;
  /** pause between attempts @default 250 */
  intervalMs?: number;
}

/** One probe of `http://127.0.0.1:<port>/v2/`; true on HTTP 200. */
export async function registryAnswers(port: number, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v2/`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Waits until the registry answers; false when it never did within the bound. */
export async function waitForRegistry(port: number, options: HealthOptions = {}): Promise<boolean> {
  const deadline = Date.now() + (options.timeoutMs ?? 30000);
  while (true) {
    if (await registryAnswers(port)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
  }
}
