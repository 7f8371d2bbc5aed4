/** `cluster diagnostics`: nodes, pods, services, events and metrics in one report; a failing section says why, in place. */
import { exec, firstLine } from "../tools/exec.ts";
import { getJson, kubectlArgv, type KubeObject } from "../tools/kubectl.ts";
import { formatTable, type Output } from "../ui/output.ts";

/** A section name. */
export type Section = "nodes" | "pods" | "services" | "events";

/** What to report. */
export interface DiagnosticsRequest {
  context: string;
  cluster: string;
  sections: Section[];
  /** a namespace, or "all" */
  namespace: string;
  /** no section flags given: a short summary of every section */
  summary: boolean;
}

/** One section's result. */
export type SectionResult<T> = { ok: true; items: T[] } | { ok: false; error: string };

/** The whole report (also the `--json` document). */
export interface DiagnosticsReport {
  cluster: string;
  namespace: string;
  generated_at: string;
  sections: Partial<Record<Section, SectionResult<Record<string, unknown>>>>;
  metrics: { ok: true; nodes: Record<string, string>[]; pods: Record<string, string>[] } | {
    ok: false;
    error: string;
  };
}

export function age(ts?: string): string {
  if (!ts) return "-";
  const s = Math.max(0, (Date.now() - Date.parse(ts)) / 1000);
  return s < 120
    ? `${Math.round(s)}s`
    : s < 7200
    ? `${Math.round(s / 60)}m`
    : s < 172800
    ? `${Math.round(s / 3600)}h`
    : `${Math.round(s / 86400)}d`;
}

function scope(ns: string): string[] {
  return ns === "all" ? ["--all-namespaces"] : ["-n", ns];
}

async function section(
  fn: () => Promise<Record<string, unknown>[]>,
): Promise<SectionResult<Record<string, unknown>>> {
  try {
    return { ok: true, items: await fn() };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

export function nodeRow(n: KubeObject) {
  const ready = n.status?.conditions?.find((c: KubeObject) => c.type === "Ready");
  const roles = Object.keys(n.metadata.labels ?? {}).filter((l) =>
    l.startsWith("node-role.kubernetes.io/")
  ).map((l) => l.split("/")[1]);
  return {
    name: n.metadata.name,
    status: ready?.status === "True" ? "Ready" : `NotReady (${ready?.reason ?? "unknown"})`,
    roles: roles.join(",") || "<none>",
    version: n.status?.nodeInfo?.kubeletVersion ?? "",
    internal_ip: n.status?.addresses?.find((a: KubeObject) => a.type === "InternalIP")?.address ??
      "",
    age: age(n.metadata.creationTimestamp),
  };
}

export function podRow(p: KubeObject) {
  const statuses: KubeObject[] = p.status?.containerStatuses ?? [];
  const waiting = statuses.map((s) => s.state?.waiting?.reason).find(Boolean);
  return {
    namespace: p.metadata.namespace,
    name: p.metadata.name,
    ready: `${statuses.filter((s) => s.ready).length}/${
      p.spec?.containers?.length ?? statuses.length
    }`,
    status: waiting ?? p.status?.phase ?? "Unknown",
    restarts: statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0),
    node: p.spec?.nodeName ?? "",
    age: age(p.metadata.creationTimestamp),
  };
}

function serviceRow(s: KubeObject) {
  return {
    namespace: s.metadata.namespace,
    name: s.metadata.name,
    type: s.spec?.type ?? "ClusterIP",
    cluster_ip: s.spec?.clusterIP ?? "",
    ports: (s.spec?.ports ?? []).map((p: KubeObject) => `${p.port}/${p.protocol ?? "TCP"}`).join(
      ",",
    ),
    selector: s.spec?.selector
      ? Object.entries(s.spec.selector).map(([k, v]) => `${k}=${v}`).join(",")
      : "<none>",
  };
}

export function eventRow(e: KubeObject) {
  const time = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ??
    e.metadata?.creationTimestamp ?? "";
  return {
    time,
    namespace: e.metadata?.namespace ?? "",
    type: e.type ?? "Normal",
    reason: e.reason ?? "",
    object: `${(e.involvedObject?.kind ?? "").toLowerCase()}/${e.involvedObject?.name ?? ""}`,
    message: e.message ?? "",
  };
}

export function parseTop(text: string): Record<string, string>[] {
  const [header, ...rows] = text.trim().split("\n");
  const cols = header.trim().split(/\s{2,}/).map((c) => c.toLowerCase());
  return rows.filter(Boolean).map((r) =>
    Object.fromEntries(r.trim().split(/\s+/).map((v, i) => [cols[i] ?? `col${i}`, v]))
  );
}

/** Collects the requested sections; never throws for one failing section. */
export async function diagnose(req: DiagnosticsRequest): Promise<DiagnosticsReport> {
  const want = new Set(req.sections);
  const [nodes, pods, services, events, metrics] = await Promise.all([
    want.has("nodes")
      ? section(async () => (await getJson(req.context, ["nodes"])).items.map(nodeRow))
      : undefined,
    want.has("pods")
      ? section(async () =>
        (await getJson(req.context, ["pods", ...scope(req.namespace)])).items.map(podRow)
      )
      : undefined,
    want.has("services")
      ? section(async () =>
        (await getJson(req.context, ["services", ...scope(req.namespace)])).items.map(serviceRow)
      )
      : undefined,
    want.has("events")
      ? section(async () =>
        (await getJson(req.context, ["events", ...scope(req.namespace)])).items.map(eventRow)
          .sort((a: { time: string }, b: { time: string }) => a.time.localeCompare(b.time))
      )
      : undefined,
    (async (): Promise<DiagnosticsReport["metrics"]> => {
      if (!want.has("nodes") && !want.has("pods")) return { ok: false, error: "not requested" };
      const n = await exec(kubectlArgv(req.context, ["top", "node"]), { check: false });
      if (n.code !== 0) {
        return { ok: false, error: `metrics-server does not answer (${firstLine(n.stderr)})` };
      }
      const p = await exec(kubectlArgv(req.context, ["top", "pod", ...scope(req.namespace)]), {
        check: false,
      });
      return { ok: true, nodes: parseTop(n.stdout), pods: p.code === 0 ? parseTop(p.stdout) : [] };
    })(),
  ]);
  const sections: DiagnosticsReport["sections"] = {};
  if (nodes) sections.nodes = nodes;
  if (pods) sections.pods = pods;
  if (services) sections.services = services;
  if (events) sections.events = events;
  return {
    cluster: req.cluster,
    namespace: req.namespace,
    generated_at: new Date().toISOString(),
    sections,
    metrics,
  };
}

function table(rows: Record<string, unknown>[], cols: string[]): string[] {
  return formatTable([
    cols.map((c) => c.toUpperCase()),
    ...rows.map((r) => cols.map((c) => String(r[c] ?? ""))),
  ])
    .map((l) => `  ${l}`);
}

/** The human report (a summary when no section was asked for). */
export function renderDiagnostics(r: DiagnosticsReport, out: Output, summary = false): string {
  const lines: string[] = [`Diagnostics for cluster ${r.cluster} (namespace ${r.namespace})`];
  const head = (t: string) => lines.push("", out.paint("bold", t));
  const cols: Record<Section, string[]> = {
    nodes: ["name", "status", "roles", "version", "internal_ip", "age"],
    pods: ["namespace", "name", "ready", "status", "restarts", "node", "age"],
    services: ["namespace", "name", "type", "cluster_ip", "ports", "selector"],
    events: ["time", "type", "reason", "object", "message"],
  };
  for (
    const [name, s] of Object.entries(r.sections) as [
      Section,
      SectionResult<Record<string, unknown>>,
    ][]
  ) {
    head(name[0].toUpperCase() + name.slice(1));
    if (!s.ok) {
      lines.push(`  ${out.paint("red", "failed:")} ${s.error}`);
      continue;
    }
    if (summary) {
      const bad = name === "nodes"
        ? s.items.filter((i) => i.status !== "Ready").length
        : name === "pods"
        ? s.items.filter((i) => i.status !== "Running" && i.status !== "Succeeded").length
        : name === "events"
        ? s.items.filter((i) => i.type === "Warning").length
        : 0;
      lines.push(
        `  ${s.items.length} ${name}${
          bad
            ? out.paint("yellow", `, ${bad} ${name === "events" ? "warnings" : "not healthy"}`)
            : ""
        }`,
      );
      continue;
    }
    if (!s.items.length) {
      lines.push("  none");
      continue;
    }
    const rendered = table(s.items, cols[name]);
    lines.push(
      rendered[0],
      ...rendered.slice(1).map((
        l,
        i,
      ) => (name === "events" && s.items[i].type === "Warning" ? out.paint("yellow", l) : l)),
    );
  }
  if (r.metrics.ok) {
    head("Resource usage (kubectl top)");
    if (r.metrics.nodes.length) {
      lines.push(...table(r.metrics.nodes, Object.keys(r.metrics.nodes[0])));
    }
  } else if (r.metrics.error !== "not requested") {
    lines.push("", `${out.paint("gray", "resource usage:")} ${r.metrics.error}`);
  }
  return lines.join("\n");
}
