/** What this host can do for host networking. */

/** Bit of CAP_NET_ADMIN in /proc/<pid>/status capability masks. */
const CAP_NET_ADMIN = 12n;

/** True inside a Docker or Podman container. */
export function inContainer(): boolean {
  for (const marker of ["/.dockerenv", "/run/.containerenv"]) {
    try {
      Deno.statSync(marker);
      return true;
    } catch { /* not there */ }
  }
  return false;
}

/** Whether any process here (even through sudo) can change routes: NET_ADMIN in the bounding set. */
export function netAdminPossible(): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status);
    if (!m) return true;
    return ((BigInt(`0x${m[1]}`) >> CAP_NET_ADMIN) & 1n) === 1n;
  } catch {
    return true;
  }
}

/** Why routes to container addresses cannot be set here, or undefined when they can. */
export function routesUnsupported(): string | undefined {
  if (Deno.build.os === "darwin") {
    return "Docker Desktop on macOS runs containers in a VM whose addresses the host cannot reach; use `firestream cluster port-forward` (dev mode) to reach services";
  }
  if (Deno.build.os !== "linux") return `routes are only managed on Linux, not ${Deno.build.os}`;
  if (!netAdminPossible()) {
    return `this ${
      inContainer() ? "container" : "process"
    } lacks CAP_NET_ADMIN, so routes cannot be changed (run the container with --cap-add NET_ADMIN)`;
  }
  return undefined;
}
