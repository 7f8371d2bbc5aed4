/** Kernel routes to the cluster's pod and service networks, via `ip` (through sudo when not root). */
import { FirestreamError } from "../errors.ts";
import type { RouteRecord } from "../state/document.ts";

import { exec } from "../tools/exec.ts";

/** A route as `ip -j route show` reports it. */
export interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
}

/** The main-table route for exactly `cidr`, if any. */
export async function currentRoute(cidr: string): Promise<IpRoute | undefined> {
  const r = await exec(["ip", "-j", "route", "show", cidr]);
  return routeFor(r.stdout, cidr);
}

/** Every route of the main table (`ip -j route show`). */
export async function mainRoutes(): Promise<IpRoute[]> {
  return parseRoutes((await exec(["ip", "-j", "route", "show"])).stdout);
}

/** The routes of `ip -j route show` output. */
function parseRoutes(stdout: string): IpRoute[] {
  return JSON.parse(stdout.trim() || "[]") as IpRoute[];
}

/** The route for exactly `cidr` in `ip -j route show` output. */
export function routeFor(stdout: string, cidr: string): IpRoute | undefined {
  return parseRoutes(stdout).find((x) => x.dst === cidr);
}

/**
 * Points `cidr` at `via`; returns what to record, including a route it replaced. A route that is
 * `recorded` as ours from an earlier run (the server's address changed) is replaced without --force,
 * keeping what that one had replaced.
 */
export async function setRoute(
  cidr: string,
  via: string,
  options: { force?: boolean; recorded?: RouteRecord } = {},
): Promise<RouteRecord> {
  const existing = await currentRoute(cidr);
  if (existing?.gateway === via) return { cidr, via, ...replaced(options.recorded) };
  const ours = options.recorded !== undefined && existing?.gateway === options.recorded.via;
  if (ours) {
    await exec(["ip", "route", "replace", cidr, "via", via], { sudo: true });
    return { cidr, via, ...replaced(options.recorded) };
  }
  if (existing && !options.force) {
    throw new FirestreamError(
      `a route for ${cidr} already exists via ${
        existing.gateway ?? existing.dev ?? "another path"
      }`,
      {
        hint:
          `another cluster or VPN may use ${cidr}: change the CIDR in firestream.toml, or pass --force to replace the route (it is restored on delete)`,
      },
    );
  }
  await exec(["ip", "route", "replace", cidr, "via", via], { sudo: true });
  return existing?.gateway ? { cidr, via, replaced_via: existing.gateway } : { cidr, via };
}

function replaced(rec?: RouteRecord): { replaced_via?: string } {
  return rec?.replaced_via ? { replaced_via: rec.replaced_via } : {};
}

/** Undoes {@link setRoute}: puts back a replaced route, or removes ours when it is still ours. */
export async function unsetRoute(route: RouteRecord): Promise<void> {
  const existing = await currentRoute(route.cidr);
  if (existing?.gateway !== route.via) return;
  if (route.replaced_via) {
    await exec(["ip", "route", "replace", route.cidr, "via", route.replaced_via], { sudo: true });
  } else {
    await exec(["ip", "route", "del", route.cidr, "via", route.via], { sudo: true });
  }
}

/** Removes the recorded routes (delete, or routes turned off). */
export async function removeRoutes(routes: RouteRecord[]): Promise<void> {
  for (const r of [...routes].reverse()) await unsetRoute(r);
}
