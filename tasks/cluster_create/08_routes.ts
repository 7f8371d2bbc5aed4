/** Routes: `ip route replace <cidr> via <server-ip>` for the pod and service networks; replaced routes are recorded and restored. */
import type { ClusterContext } from "../../src/cluster/context.ts";
import type { Task } from "../../src/engine/task.ts";
import { routesUnsupported } from "../../src/host/platform.ts";
import {
  currentRoute,
  removeRoutes,
  serverIp,
  setRoute,
  unsetRoute,
} from "../../src/host/routes.ts";
import type { RouteRecord } from "../../src/state/document.ts";

/** What rollback needs. */
export interface RoutesUndo {
  set?: RouteRecord[];
  removed?: RouteRecord[];
  previous?: RouteRecord[];
}

function cidrs(ctx: ClusterContext): string[] {
  return [ctx.k3d.network.pod_cidr, ctx.k3d.network.service_cidr];
}

async function setAll(ctx: ClusterContext, ip: string): Promise<RouteRecord[]> {
  const done: RouteRecord[] = [];
  try {
    for (const cidr of cidrs(ctx)) {
      const recorded = ctx.record.resources.routes?.find((r) => r.cidr === cidr);
      done.push(await setRoute(cidr, ip, { force: ctx.options.force, recorded }));
    }
  } catch (err) {
    await removeRoutes(done).catch(() => {});
    throw err;
  }
  return done;
}

const routes: Task<ClusterContext, RoutesUndo> = {
  id: "routes",
  title: "Routes to pod and service networks",
  needs: ["ready"],
  enabled: (ctx) =>
    !ctx.options.skipHostNetwork &&
    (ctx.k3d.network.configure_routes || Boolean(ctx.record.resources.routes?.length)),
  check: async (ctx) => {
    if (!ctx.k3d.network.configure_routes) return false;
    const why = routesUnsupported();
    if (why) {
      ctx.notice(`skipping routes: ${why}`);
      return true;
    }
    // the server's address now: Docker may hand out another one when the cluster restarts
    const ip = await serverIp(ctx.name, ctx.live);
    const moved = (ctx.record.resources.routes ?? []).filter((r) =>
      cidrs(ctx).includes(r.cidr) && r.via !== ip
    );
    if (moved.length) {
      (ctx.drift ??= {}).routes = moved.map((r) => ({
        key: `route ${r.cidr}`,
        from: r.via,
        to: ip,
      }));
    }
    for (const cidr of cidrs(ctx)) {
      if ((await currentRoute(cidr))?.gateway !== ip) return false;
    }
    if (!ctx.record.resources.routes) {
      ctx.record.resources.routes = cidrs(ctx).map((cidr) => ({ cidr, via: ip }));
    }
    return true;
  },
  apply: async (ctx) => {
    const previous = ctx.record.resources.routes;
    if (!ctx.k3d.network.configure_routes) {
      await removeRoutes(previous ?? []);
      delete ctx.record.resources.routes;
      return { removed: previous, previous };
    }
    // routes of CIDRs no longer configured go first
    const stale = (previous ?? []).filter((r) => !cidrs(ctx).includes(r.cidr));
    await removeRoutes(stale);
    const set = await setAll(ctx, await serverIp(ctx.name, ctx.live));
    ctx.record.resources.routes = set;
    return { set, previous, removed: stale.length ? stale : undefined };
  },
  // died while setting them: a route to the server that the record does not hold goes, a recorded one comes back
  abandon: async (ctx) => {
    const recorded = ctx.record.resources.routes ?? [];
    const ip = await serverIp(ctx.name, ctx.live).catch(() => undefined);
    for (const cidr of cidrs(ctx)) {
      const rec = recorded.find((r) => r.cidr === cidr);
      if (rec) await setRoute(rec.cidr, rec.via, { force: true });
      else if (ip) await unsetRoute({ cidr, via: ip });
    }
  },
  rollback: async (ctx, undo) => {
    if (undo.set) await removeRoutes(undo.set);
    for (const r of undo.removed ?? []) await setRoute(r.cidr, r.via, { force: true });
    if (undo.previous) ctx.record.resources.routes = undo.previous;
    else delete ctx.record.resources.routes;
  },
};

export default routes;
