/** sudo for host-network commands only, checked up front so no password prompt appears mid-run. */
import { FirestreamError } from "../errors.ts";
import { exec, isRoot } from "../tools/exec.ts";
import type { ClusterContext } from "./context.ts";

/** True when this run will change routes, DNS or /etc/hosts. */
export function hostNetworkWanted(ctx: ClusterContext): boolean {
  if (ctx.options.skipHostNetwork) return false;
  const n = ctx.k3d.network;
  return n.configure_routes || n.configure_dns || n.patch_etc_hosts;
}

/** Passes when root, or when `sudo -n true` works; otherwise says exactly what to do. */
export async function sudoCheck(): Promise<void> {
  if (isRoot()) return;
  const r = await exec(["sudo", "-n", "true"], { check: false });
  if (r.code === 0) return;
  throw new FirestreamError(
    "host networking (routes, DNS, /etc/hosts) needs sudo, and sudo asks for a password",
    {
      hint:
        "run `sudo -v` first and run the command again, or add --skip-host-network (or set configure_routes, configure_dns and patch_etc_hosts to false)",
    },
  );
}
