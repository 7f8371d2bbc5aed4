/** What the port-forward tests share: the config, the mapping file's rows and asking a forwarded port. */
import { type SimHost, testConfig } from "../sim/harness.ts";

/** The test config with dev mode's forwards on local port + `offset`. */
export function offsetConfig(offset: number): string {
  return testConfig().replace(
    "port_forward_all = false\n",
    `port_forward_all = false\nport_offset = ${offset}\n`,
  );
}

/** A row of `logs/port_forwards.json`. */
export interface Entry {
  namespace: string;
  service: string;
  port: number;
  local_port: number;
  pid: number | null;
  pod: string | null;
  status: string;
}

/** The body a forwarded local port answers with (`namespace/pod:port`), or undefined. */
export async function answerPod(port: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(30_000) });
    return (await res.text()).trimEnd();
  } catch {
    return undefined;
  }
}

/**
 * Which deployment's pod answered on a forwarded local port, as `namespace/deployment:port` (the
 * pod name without its template hash and suffix), or undefined.
 */
export async function answer(port: number): Promise<string | undefined> {
  return (await answerPod(port))?.replace(/-[0-9a-f]{9}-[0-9a-f]{5}:/, ":");
}

/** The mapping file's rows (none while it does not exist). */
export function entries(h: SimHost): Entry[] {
  try {
    return JSON.parse(Deno.readTextFileSync(`${h.projectDir}/logs/port_forwards.json`));
  } catch {
    return [];
  }
}
