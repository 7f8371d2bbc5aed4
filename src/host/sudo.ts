/** sudo for host-network commands only, checked up front so no password prompt appears mid-run. */
import { FirestreamError } from "../errors.ts";
import { exec, isRoot } from "../tools/exec.ts";
import type { K3dConfig } from "../config/schema.ts";

/** True when the cluster's config changes routes, DNS or /etc/hosts (and --skip-host-network is not given). */
export function hostNetworkWanted(
  k3d: K3dConfig,
  options: { skipHostNetwork?: boolean } = {},
): boolean {
  if (options.skipHostNetwork) return false;
  const n = k3d.network;
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
