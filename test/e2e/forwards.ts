/** What the port-forward tests share: the mapping file's rows and asking a forwarded port. */
import type { SimHost } from "../sim/harness.ts";

/** A row of `logs/port_forwards.json`. */
export interface Entry {
  namespace: string;
  service: string;
  port: number;
  local_port: number;
  pid: number | null;
  status: string;
}

/** The body a forwarded local port answers with, or undefined. */
export async function answer(port: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(30_000) });
    return await res.text();
  } catch {
    return undefined;
  }
}

/** The mapping file's rows (none while it does not exist). */
export function entries(h: SimHost): Entry[] {
  try {
    return JSON.parse(Deno.readTextFileSync(`${h.projectDir}/logs/port_forwards.json`));
  } catch {
    return [];
  }
}
