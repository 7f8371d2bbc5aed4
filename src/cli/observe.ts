/** `cluster logs` and `cluster diagnostics`. */
import { diagnose, type DiagnosticsRequest, renderDiagnostics } from "../observe/diagnostics.ts";
import {
  kindOf,
  logRecord,
  logsArgs,
  type LogsRequest,
  type LogTarget,
  parseTarget,
  selectPods,
  targets,
} from "../observe/logs.ts";
import { FirestreamError } from "../errors.ts";
import { spawnChild } from "../tools/child.ts";
import { exec } from "../tools/exec.ts";
import { CANCELLED, claimInterrupts } from "../ui/interrupt.ts";
import { type Color, isBrokenPipe, type Output } from "../ui/output.ts";
import { requireRunning } from "./running.ts";
import { type GlobalFlags, openSession } from "./session.ts";
import { kubeconfigContext } from "../tools/k3d_names.ts";
import { kubectlArgv } from "../tools/kubectl.ts";

const COLORS: Color[] = ["cyan", "green", "yellow", "magenta", "blue"];

/** Flags of `cluster logs`: the request without its positional kind and name. */
export type LogsFlags = Omit<LogsRequest, "kind" | "name">;

/** Prints one line of a stream: a record with --json, else the line with its prefix. */
function printer(out: Output, prefixed: boolean, withNamespace: boolean) {
  const colors = new Map<string, Color>();
  const prefix = (t: LogTarget) => {
    if (!prefixed) return "";
    if (!colors.has(t.pod)) colors.set(t.pod, COLORS[colors.size % COLORS.length]);
    const label = `${withNamespace ? `${t.namespace}/` : ""}${t.pod}/${t.container}`;
    return out.paint(colors.get(t.pod)!, label) + " | ";
  };
  return (t: LogTarget, line: string) =>
    out.json ? out.record(logRecord(t, line, true)) : out.line(prefix(t) + line);
}

/** `cluster logs [TYPE NAME | TYPE/NAME | POD]`. */
export async function logs(
  flags: GlobalFlags,
  target: string | undefined,
  name: string | undefined,
  opts: LogsFlags,
): Promise<number | void> {
  const session = await openSession(flags);
  const out = session.out;
  const cluster = session.loaded.config.cluster.k3d.name;
  const context = kubeconfigContext(cluster);
  const req: LogsRequest = { ...opts, ...parseTarget(target, name) };
  if (req.kind) kindOf(req.kind);
  // structured lines always carry kubectl's timestamp
  const kubeReq: LogsRequest = out.json ? { ...req, timestamps: true } : req;
  await requireRunning(cluster);
  const pods = await selectPods(context, req);
  let streams = targets(pods, req);
  if (!streams.length && !req.follow) {
    throw new FirestreamError(
      `no pods to show logs for${req.allNamespaces ? "" : ` in namespace ${req.namespace}`}${
        req.selector ? ` with labels ${req.selector}` : ""
      }`,
    );
  }
  // `pod/container |` prefixes go with the form, not with how many pods answer this time: a
  // deployment, a service, a selector or every pod may be several (and more while following), so
  // they always carry them, followed or not; one pod only with several containers
  const selectsPods = !req.kind || kindOf(req.kind) !== "pod";
  const many = Boolean(req.allContainers || streams.length > 1 || selectsPods);
  const namespaces = new Set(streams.map((t) => t.namespace));
  const print = printer(
    out,
    many,
    namespaces.size > 1 || Boolean(req.allNamespaces && selectsPods),
  );
  if (!req.follow) {
    const results = await Promise.all(
      streams.map((t) => exec(kubectlArgv(context, logsArgs(t, kubeReq)), { check: false })),
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
        print(t, line);
      }
    });
    if (failed === results.length) {
      throw new FirestreamError("no logs could be read", { hint: "see the lines above" });
    }
    return;
  }
  // follow: every stream at once, and new pods as they start, until Ctrl-C or a closed stdout
  const abort = new AbortController();
  let closed = false;
  const onSignal = () => abort.abort();
  const release = claimInterrupts();
  for (const s of ["SIGINT", "SIGTERM"] as Deno.Signal[]) Deno.addSignalListener(s, onSignal);
  const running = new Map<string, ReturnType<typeof spawnChild>>();
  const emit = (t: LogTarget, line: string) => {
    if (closed) return;
    try {
      print(t, line);
    } catch (err) {
      if (!isBrokenPipe(err)) throw err;
      closed = true;
      abort.abort();
    }
  };
  const start = (t: LogTarget) => {
    const key = `${t.namespace}/${t.pod}/${t.container}`;
    if (running.has(key)) return;
    const child = spawnChild(kubectlArgv(context, logsArgs(t, kubeReq)), {
      onLine: (stream, line) =>
        stream === "stdout" ? emit(t, line) : out.progress(`${t.pod}/${t.container}: ${line}`),
    });
    running.set(key, child);
    child.status.then(() => {
      if (!abort.signal.aborted) out.progress(`— stream of ${t.pod}/${t.container} ended`);
    });
  };
  streams.forEach(start);
  try {
    while (!abort.signal.aborted) {
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 1000);
        abort.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          r();
        }, { once: true });
      });
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
    release();
  }
  // a reader that went away ends the command quietly; Ctrl-C is an interrupt
  if (closed) return;
  console.error(CANCELLED);
  return 130;
}

/** Flags of `cluster diagnostics`. */
export interface DiagnosticsFlags {
  nodes?: boolean;
  pods?: boolean;
  services?: boolean;
  events?: boolean;
  all?: boolean;
  namespace: string;
  allNamespaces?: boolean;
}

/** `cluster diagnostics`. */
export async function diagnostics(flags: GlobalFlags, opts: DiagnosticsFlags): Promise<void> {
  const session = await openSession(flags);
  const name = session.loaded.config.cluster.k3d.name;
  await requireRunning(name);
  const picked = (["nodes", "pods", "services", "events"] as const).filter((s) => opts[s]);
  const req: DiagnosticsRequest = {
    context: kubeconfigContext(name),
    cluster: name,
    sections: opts.all || picked.length === 0
      ? ["nodes", "pods", "services", "events"]
      : [...picked],
    namespace: opts.allNamespaces ? "all" : opts.namespace,
    summary: !opts.all && picked.length === 0,
  };
  const report = await diagnose(req);
  if (session.out.json) return session.out.data(report);
  session.out.line(renderDiagnostics(report, session.out, req.summary));
}
