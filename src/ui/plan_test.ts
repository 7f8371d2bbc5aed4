import { assertEquals } from "../../test/assert.ts";
import { type PlanView, renderPlan, type ResourceChange } from "./plan.ts";

const plain = (_: string, s: string) => s;

function change(address: string, more: Partial<ResourceChange>): ResourceChange {
  return { address, cluster: "c1", action: "update", destructive: false, diffs: [], ...more };
}

Deno.test("renderPlan: a key that goes away is `- key = value -> null`; a changed one `~`; a created one `+`", () => {
  const plan: PlanView = {
    changes: [
      change("cluster.c1", {
        action: "delete",
        destructive: true,
        diffs: [{ key: "containers", from: ["a", "b"], to: null }, { key: "context", from: "k" }],
      }),
      change("cluster.c1.routes", {
        cause: "drift",
        diffs: [
          { key: "route 10.42.0.0/16", from: "172.18.0.3", to: null },
          { key: "route 10.43.0.0/16", from: "172.18.0.3", to: "192.168.1.1", drift: true },
        ],
      }),
      change("cluster.c1.hosts", { action: "create", diffs: [{ key: "hosts", to: ["x"] }] }),
    ],
    summary: { create: 1, update: 1, replace: 0, delete: 1 },
  };
  assertEquals(renderPlan(plan, plain).split("\n"), [
    "Resource actions are indicated with the following symbols:",
    "    + create",
    "    ~ update in place",
    "    - delete",
    "",
    "Firestream will perform the following actions:",
    "",
    "  # cluster.c1 will be destroyed [destructive]",
    "  - cluster.c1 {",
    '      - containers = ["a","b"] -> null',
    '      - context = "k" -> null',
    "    }",
    "",
    "  # cluster.c1.routes will be updated in place (drift: the machine changed outside firestream)",
    "  ~ cluster.c1.routes {",
    '      - route 10.42.0.0/16 = "172.18.0.3" -> null',
    '      ~ route 10.43.0.0/16 = "172.18.0.3" -> "192.168.1.1" # drift',
    "    }",
    "",
    "  # cluster.c1.hosts will be created",
    "  + cluster.c1.hosts {",
    '      + hosts = ["x"]',
    "    }",
    "",
    "Plan: 1 to add, 1 to change, 0 to replace, 1 to destroy.",
  ]);
});

Deno.test("renderPlan: a resource that changes nothing is shown only with a note; the heading can be the caller's", () => {
  const plan: PlanView = {
    changes: [
      change("cluster.c1", { action: "delete", diffs: [{ key: "context", from: "k", to: null }] }),
      change("cluster.c1.registry", { action: "no-op", note: "kept: --keep-registry" }),
      change("cluster.c1.dns", { action: "no-op" }),
    ],
    summary: { create: 0, update: 0, replace: 0, delete: 1 },
  };
  assertEquals(renderPlan(plan, plain, { heading: "Firestream will undo:" }).split("\n"), [
    "Resource actions are indicated with the following symbols:",
    "    - delete",
    "",
    "Firestream will undo:",
    "",
    "  # cluster.c1 will be destroyed",
    "  - cluster.c1 {",
    '      - context = "k" -> null',
    "    }",
    "",
    "  # cluster.c1.registry is kept",
    "    cluster.c1.registry {",
    "      # kept: --keep-registry",
    "    }",
    "",
    "Plan: 0 to add, 0 to change, 0 to replace, 1 to destroy.",
  ]);
  // nothing but kept resources: no changes
  assertEquals(
    renderPlan({ changes: plan.changes.slice(1), summary: { ...plan.summary, delete: 0 } }, plain),
    "No changes. The machine matches the configuration.",
  );
});
