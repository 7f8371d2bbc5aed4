/** Remove this cluster's routes, restoring any route they replaced. */
import type { ClusterContext } from "../context.ts";
import { StepFailure, type Task } from "../../src/engine/task.ts";
import { removeRoutes, setRoute } from "../../src/host/routes.ts";
import type { RouteRecord } from "../../src/state/document.ts";

const routes: Task<ClusterContext, RouteRecord[]> = {
  id: "delete-routes",
  title: "Remove routes",
  enabled: (ctx) => Boolean(ctx.record.resources.routes?.length),
  slots: ["resources.routes"],
  check: (ctx) => ({
    diffs: (ctx.record.resources.routes ?? []).map((r) => ({
      key: `route ${r.cidr}`,
      from: r.via,
      to: null,
    })),
  }),
  apply: async (ctx) => {
    const recs = ctx.record.resources.routes!;
    const removed: RouteRecord[] = [];
    try {
      for (const r of [...recs].reverse()) {
        await removeRoutes([r]);
        removed.push(r);
      }
    } catch (err) {
      // the routes already removed come back: the step leaves all of them or none
      try {
        for (const r of removed.reverse()) await setRoute(r.cidr, r.via, { force: true });
      } catch {
        const left = recs.filter((r) => !removed.includes(r));
        if (left.length) ctx.record.resources.routes = left;
        else delete ctx.record.resources.routes;
        throw new StepFailure(err, {
          left: `${left.length} of ${recs.length} routes remain; state updated`,
        });
      }
      throw new StepFailure(err, { undone: true });
    }
    delete ctx.record.resources.routes;
    return recs;
  },
  rollback: async (_ctx, recs) => {
    for (const r of recs) await setRoute(r.cidr, r.via, { force: true });
  },
  abandon: async (ctx) => {
    for (const r of ctx.record.resources.routes ?? []) {
      await setRoute(r.cidr, r.via, { force: true });
    }
  },
};

export default routes;
