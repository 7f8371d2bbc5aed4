/** How a plan is shown: one block per resource, every differing key the same way, drift labelled. */

/** What will happen to one resource. */
export type Action = "create" | "update" | "replace" | "delete" | "no-op";

/** One differing key. */
export interface KeyDiff {
  key: string;
  from?: unknown;
  to?: unknown;
  /** the live value differs from the recorded one (someone changed the machine) */
  drift?: boolean;
  forces_replacement?: boolean;
}

/** A planned change to one resource. */
export interface ResourceChange {
  /** e.g. `cluster.firestream-local`, `cluster.firestream-local.registry` */
  address: string;
  cluster: string;
  action: Action;
  /** why: the config changed, or the machine drifted from the recorded state */
  cause?: "config" | "drift";
  destructive: boolean;
  diffs: KeyDiff[];
  note?: string;
}

/** What the renderer needs of a plan. */
export interface PlanView {
  /** the config profile in force, named in the heading */
  profile?: string;
  changes: ResourceChange[];
  summary: { create: number; update: number; replace: number; delete: number };
}

/** How {@link renderPlan} frames the resource blocks. */
export interface RenderOptions {
  /** the line above the blocks (default: "Firestream will perform the following actions:") */
  heading?: string;
}

/** A key that goes away: it had a value and will have none. */
function removed(d: KeyDiff): boolean {
  return d.from !== undefined && d.from !== null && (d.to === undefined || d.to === null);
}

/**
 * Terraform-style text of a plan. A key that goes away is shown as `- key = "value" -> null`, as
 * Terraform's destroy plan shows each attribute; a resource that changes nothing is shown only when
 * it says why (a note), e.g. what a delete keeps.
 */
export function renderPlan(
  plan: PlanView,
  paint: (color: "green" | "yellow" | "red" | "cyan" | "bold" | "gray", s: string) => string,
  options: RenderOptions = {},
): string {
  const lines: string[] = [];
  const symbol: Record<Action, string> = {
    create: "+",
    update: "~",
    replace: "-/+",
    delete: "-",
    "no-op": " ",
  };
  const color: Record<Action, "green" | "yellow" | "red" | "gray"> = {
    create: "green",
    update: "yellow",
    replace: "red",
    delete: "red",
    "no-op": "gray",
  };
  const verb: Record<Action, string> = {
    create: "will be created",
    update: "will be updated in place",
    replace: "must be replaced",
    delete: "will be destroyed",
    "no-op": "is kept",
  };
  if (!plan.changes.some((c) => c.action !== "no-op")) {
    return `No changes. The machine matches the configuration${
      plan.profile ? ` (profile ${plan.profile})` : ""
    }.`;
  }
  // the symbols this plan uses, explained once as Terraform does
  const changes = plan.changes.filter((c) => c.action !== "no-op" || c.note);
  const used = (["create", "update", "replace", "delete"] as Action[]).filter((a) =>
    changes.some((c) => c.action === a)
  );
  const legend: Record<string, string> = {
    create: "create",
    update: "update in place",
    replace: "delete and then create replacement",
    delete: "delete",
  };
  lines.push("Resource actions are indicated with the following symbols:");
  for (const a of used) {
    lines.push(`${paint(color[a], symbol[a].padStart(5))} ${legend[a]}`);
  }
  const heading = options.heading ??
    `Firestream will perform the following actions${
      plan.profile ? ` (profile ${plan.profile})` : ""
    }:`;
  lines.push("", heading, "");
  for (const c of changes) {
    const why = c.cause === "drift" ? " (drift: the machine changed outside firestream)" : "";
    lines.push(
      paint(
        "bold",
        `  # ${c.address} ${verb[c.action]}${why}${
          c.destructive ? paint("red", " [destructive]") : ""
        }`,
      ),
    );
    lines.push(`  ${paint(color[c.action], symbol[c.action])} ${c.address} {`);
    for (const d of c.diffs) {
      const gone = c.action !== "create" && removed(d);
      const from = d.from === undefined ? "" : `${JSON.stringify(d.from)} -> `;
      const to = JSON.stringify(d.to ?? null);
      const tags = [
        d.forces_replacement ? paint("red", "# forces replacement") : "",
        d.drift ? paint("yellow", "# drift") : "",
      ].filter(Boolean).join(" ");
      const mark = gone
        ? paint("red", "-")
        : paint(color[c.action], c.action === "create" ? "+" : "~");
      lines.push(`      ${mark} ${d.key} = ${from}${to}${tags ? " " + tags : ""}`);
    }
    if (c.note) lines.push(`      ${paint("gray", `# ${c.note}`)}`);
    lines.push("    }", "");
  }
  const s = plan.summary;
  lines.push(
    `Plan: ${s.create} to add, ${s.update} to change, ${s.replace} to replace, ${s.delete} to destroy.`,
  );
  return lines.join("\n");
}
