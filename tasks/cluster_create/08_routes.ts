/** Routes: `ip route replace <cidr> via <server-ip>` for the pod and service networks; replaced routes are recorded and restored. */
import type { ClusterContext } from "../context.ts";
import { type KeyDiff, type Task, UP_TO_DATE } from "../../src/engine/task.ts";
import { FirestreamError } from "../../src/errors.ts";
import { routesUnsupported } from "../../src/host/platform.ts";
import { removeRoutes, setRoute, unsetRoute } from "../../src/host/routes.ts";
import type { RouteRecord } from "../../src/state/document.ts";
import { addressOn } from "../../src/tools/docker.ts";
import { clusterNetwork, serverContainer } from "../../src/tools/k3d_names.ts";
import { container, dockerRead, routesRead } from "../reads.ts";

/** What rollback needs. */
export interface RoutesUndo {
  set?: RouteRecord[];
  removed?: RouteRecord[];
}

/** The first server's address on the cluster's own network (asked by network name). */
export async function serverIp(ctx: ClusterContext): Promise<string> {
  await ctx.live.refresh(ctx, [dockerRead]);
  return serverIpNow(ctx);
}

/** {@link serverIp} from the snapshot. */
function serverIpNow(ctx: ClusterContext): string {
  const name = serverContainer(ctx.name);
  const info = container(ctx, name);
  const ip = info ? addressOn(info, clusterNetwork(ctx.name)) : undefined;
  if (!ip) {
    throw new FirestreamError(
      `cannot find the address of ${name} on network ${clusterNetwork(ctx.name)}`,
      {
        hint: "is the cluster running? see `firestream cluster info`",
      },
    );
  }
  return ip;
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
  reads: () => [dockerRead, routesRead],
  slots: ["resources.routes"],
  check: (ctx) => {
    const recorded = ctx.record.resources.routes ?? [];
    if (!ctx.k3d.network.configure_routes) {
      return { diffs: recorded.map((r) => ({ key: `route ${r.cidr}`, from: r.via, to: null })) };
    }
    const why = routesUnsupported();
    if (why) return { ...UP_TO_DATE, note: `skipping routes: ${why}` };
    // the server's address now: Docker may hand out another one when the cluster restarts
    const ip = serverIpNow(ctx);
    const routes = ctx.live.now(routesRead);
    const diffs: KeyDiff[] = [];
    for (const cidr of cidrs(ctx)) {
      const rec = recorded.find((r) => r.cidr === cidr);
      const live = routes.find((r) => r.dst === cidr)?.gateway;
      if (rec && rec.via !== ip) {
        diffs.push({ key: `route ${cidr}`, from: rec.via, to: ip, drift: true });
      } else if (live !== ip) {
        diffs.push({
          key: `route ${cidr}`,
          from: live ?? null,
          to: ip,
          ...(rec ? { drift: true } : {}),
        });
      }
    }
    if (diffs.length) return { diffs };
    return {
      diffs: [],
      record: ctx.record.resources.routes ?? cidrs(ctx).map((cidr) => ({ cidr, via: ip })),
    };
  },
  apply: async (ctx) => {
    const previous = ctx.record.resources.routes;
    if (!ctx.k3d.network.configure_routes) {
      await removeRoutes(previous ?? []);
      delete ctx.record.resources.routes;
      return { removed: previous };
    }
    // routes of CIDRs no longer configured go first
    const stale = (previous ?? []).filter((r) => !cidrs(ctx).includes(r.cidr));
    await removeRoutes(stale);
    const set = await setAll(ctx, await serverIp(ctx));
    ctx.record.resources.routes = set;
    return { set, removed: stale.length ? stale : undefined };
  },
  // died while setting them: a route to the server that the record does not hold goes, a recorded one comes back
  abandon: async (ctx) => {
    const recorded = ctx.record.resources.routes ?? [];
    const ip = await serverIp(ctx).catch(() => undefined);
    for (const cidr of cidrs(ctx)) {
      const rec = recorded.find((r) => r.cidr === cidr);
      if (rec) await setRoute(rec.cidr, rec.via, { force: true });
      else if (ip) await unsetRoute({ cidr, via: ip });
    }
  },
  rollback: async (_ctx, undo) => {
    if (undo.set) await removeRoutes(undo.set);
    for (const r of undo.removed ?? []) await setRoute(r.cidr, r.via, { force: true });
  },
};

export default routes;
