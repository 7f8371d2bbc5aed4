/** Runs inside a test network namespace: applies route operations with the real `ip`, prints JSON results. */
import { setRoute, unsetRoute } from "../../src/host/routes.ts";
import type { RouteRecord } from "../../src/state/document.ts";

type Op = { op: "set"; cidr: string; via: string; force?: boolean } | {
  op: "unset";
  route: RouteRecord;
};

const results: unknown[] = [];
for (const op of JSON.parse(Deno.args[0]) as Op[]) {
  try {
    if (op.op === "set") results.push({ ok: await setRoute(op.cidr, op.via, { force: op.force }) });
    else {
      await unsetRoute(op.route);
      results.push({ ok: true });
    }
  } catch (err) {
    results.push({ error: (err as Error).message });
  }
}
console.log(JSON.stringify(results));
