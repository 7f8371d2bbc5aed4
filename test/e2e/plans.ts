/** Test helpers for plans: the changes a plan shows, one of them by address, and a converging apply. */
import { assertEquals, assertOk } from "../assert.ts";
import type { SimHost } from "../sim/harness.ts";

/** One planned change as `plan --json` gives it. */
export interface Change {
  address: string;
  action: string;
  cause: string;
  diffs: {
    key: string;
    from?: unknown;
    to?: unknown;
    drift?: boolean;
    forces_replacement?: boolean;
  }[];
}

/** The changes of a plan that must see some (exit 2 with --detailed-exitcode). */
export async function planned(h: SimHost): Promise<Change[]> {
  const r = await h.run(["plan", "--json", "--detailed-exitcode"]);
  assertEquals(r.code, 2, `plan should see a change\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout).changes;
}

/** The change at `address`. */
export function change(changes: Change[], address: string): Change {
  const c = changes.find((x) => x.address === address);
  assertOk(c, `${address} in ${changes.map((x) => x.address).join(", ")}`);
  return c!;
}

/** apply repairs the drift, and the next plan is empty. */
export async function converges(h: SimHost): Promise<void> {
  await h.ok(["apply", "--yes"]);
  const again = await h.run(["plan", "--detailed-exitcode"]);
  assertEquals(again.code, 0, again.stdout + again.stderr);
}
