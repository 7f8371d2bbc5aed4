/** `cluster logs` and `cluster diagnostics`. */
import { diagnose, type DiagnosticsRequest, renderDiagnostics } from "../observe/diagnostics.ts";
import {
  kindOf,
  logsArgs,
  type LogsRequest,
  type LogTarget,
  selectPods,
  targets,
} from "../observe/logs.ts";
import { FirestreamError } from "../errors.ts";
import { spawnChild } from "../tools/child.ts";
import { exec } from "../tools/exec.ts";
import type { Color, Output } from "../ui/output.ts";
import { setExitCode } from "./program.ts";
import { type GlobalFlags, openSession } from "./session.ts";

const COLORS: Color[] = ["cyan", "green", "yellow", "magenta", "blue"];

/** Flags of `cluster logs`: the request without its positional kind and name. */
export type LogsFlags = Omit<LogsRequest, "kind" | "name">;

function prefixer(out: Output, many: boolean) {
  const colors = new Map<string, Color>();
  return (t: LogTarget) => {
    if (!many) return "";
    if (!colors.has(t.pod)) colors.set(t.pod, COLORS[colors.size % COLORS.length]);
    return out.paint(colors.get(t.pod)!, `${t.pod}/${t.container}`) + " | ";
  };
}

/** `cluster logs [KIND NAME]`. */
export async function logs(
  flags: GlobalFlags,
  kind: string | undefined,
  name: string | undefined,
  opts: LogsFlags,
): Promise<void> {
  const session = await openSession(flags);
  const context = `k3d-${session.loaded.config.cluster.k3d.name}`;
  const req: LogsRequest = { ...opts, kind, name };
  const out = session.out;
  const pods = await selectPods(context, req);
  let streams = targets(pods, req);
  if (!streams.length && !req.follow) {
    throw new FirestreamError(
      `no pods to show logs for${req.allNamespaces ? "" : ` in namespace ${req.namespace}`}`,
    );
  }
  // several streams get `pod/container |` prefixes; a follow that may pick up more pods always does
  const many = req.allContainers || streams.length > 1 ||
    (req.follow && (!req.kind || kindOf(req.kind) !== "pod"));
  const prefix = prefixer(out, Boolean(many));
  if (!req.follow) {
    const results = await Promise.all(
      streams.map((t) =>
        exec(["kubectl", "--context", context, ...logsArgs(t, req)], { check: false })
      ),
    );
    let failed = 0;
    results.forEach((r, i) => {
      const t = streams[i];
      if (r.code !== 0) {
        failed++;
        out.warn(`${t.pod}/${t.container}: ${r.stderr.trim().split("\n").pop()}`);
        return;
      }
      for (const line of r.stdout.split("\n").filter((l, j, all) => l || j < all.length - 1)) {
        out.line(prefix(t) + line);
      }
    });
    if (failed === results.length) {
      throw new FirestreamError("no logs could be read", { hint: "see the lines above" });
    }
    return;
  }
  // follow: every stream at once, and new pods as they start
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  for (const s of ["SIGINT", "SIGTERM"] as Deno.Signal[]) Deno.addSignalListener(s, onSignal);
  const running = new Map<string, ReturnType<typeof spawnChild>>();
  const start = (t: LogTarget) => {
    const key = `${t.namespace}/${t.pod}/${t.container}`;
    if (running.has(key)) return;
    const child = spawnChild(["kubectl", "--context", context, ...logsArgs(t, req)], {
      onLine: (
        stream,
        line,
      ) => (stream === "stdout"
        ? out.line(prefix(t) + line)
        : out.progress(`${t.pod}/${t.container}: ${line}`)),
    });
    running.set(key, child);
    child.status.then(() => {
      if (!abort.signal.aborted) out.progress(`— stream of ${t.pod}/${t.container} ended`);
    });
  };
  streams.forEach(start);
  try {
    while (!abort.signal.aborted) {
      await new Promise((r) => setTimeout(r, 1000));
      if (abort.signal.aborted) break;
      try {
        streams = targets(await selectPods(context, req), req);
        streams.forEach(start);
      } catch (err) {
        out.warn(`could not list pods: ${(err as Error).message}`);
      }
    }
  } finally {
    for (const c of running.values()) c.kill("SIGTERM");
    await Promise.all([...running.values()].map((c) => c.status));
    for (const s of ["SIGINT", "SIGTERM"] as Deno.Signal[]) Deno.removeSignalListener(s, onSignal);
  }
  setExitCode(130);
}

/** Flags of `cluster diagnostics`. */
export interface DiagnosticsFlags {
  nodes?: boolean;
  pods?: boolean;
  services?: boolean;
  events?: boolean;
  all?: boolean;
  namespace: string;
}

/** `cluster diagnostics`. */
export async function diagnostics(flags: GlobalFlags, opts: DiagnosticsFlags): Promise<void> {
  const session = await openSession(flags);
  const name = session.loaded.config.cluster.k3d.name;
  const picked = (["nodes", "pods", "services", "events"] as const).filter((s) => opts[s]);
  const req: DiagnosticsRequest = {
    context: `k3d-${name}`,
    cluster: name,
    sections: opts.all || picked.length === 0
      ? ["nodes", "pods", "services", "events"]
      : [...picked],
    namespace: opts.namespace,
    summary: !opts.all && picked.length === 0,
  };
  const report = await diagnose(req);
  if (session.out.json) return session.out.data(report);
  session.out.line(renderDiagnostics(report, session.out, req.summary));
}
