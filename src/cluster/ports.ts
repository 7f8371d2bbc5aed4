/** Is a host port free, and if not, who holds it. */
import { exec } from "../tools/exec.ts";

/** Result of probing one port. */
export type PortState = { free: true } | { free: false; holder?: string };

/** Tries to bind the port on all addresses and on loopback; a bind we may not do counts as free. */
export function probePort(port: number): PortState {
  for (const hostname of ["0.0.0.0", "127.0.0.1"]) {
    try {
      const listener = Deno.listen({ hostname, port });
      listener.close();
    } catch (err) {
      if (err instanceof Deno.errors.AddrInUse) return { free: false };
      if (err instanceof Deno.errors.PermissionDenied) continue;
      throw err;
    }
  }
  return { free: true };
}

/** The process listening on a TCP port, from `ss`, when the system says. */
export async function listeningProcess(port: number): Promise<string | undefined> {
  const r = await exec(["ss", "-H", "-ltnp", `sport = :${port}`], { check: false });
  if (r.code !== 0) return undefined;
  const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(r.stdout);
  return m ? `${m[1]} (pid ${m[2]})` : undefined;
}
