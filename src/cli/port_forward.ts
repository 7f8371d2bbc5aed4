/** `firestream cluster port-forward [SERVICE] [--offset N] [-n NS] [--detach|--list|--stop]`. */
import { ConfigError, FirestreamError } from "../errors.ts";
import {
  listForwards,
  runSupervisor,
  startDetached,
  stopSupervisor,
} from "../portforward/control.ts";
import { type ForwardEvent, forwardPaths, podText, readEvents } from "../portforward/files.ts";
import type { SupervisorSpec } from "../portforward/spec.ts";
import type { Output } from "../ui/output.ts";
import { CANCELLED, claimInterrupts } from "../ui/interrupt.ts";
import { requireRunning } from "./running.ts";
import { type GlobalFlags, openSession } from "./session.ts";

/** Flags of `cluster port-forward`. */
export interface PortForwardFlags {
  offset?: number;
  namespace?: string;
  detach?: boolean;
  list?: boolean;
  stop?: boolean;
}

/** `svc`, `svc.ns` or `svc` with -n → which service. */
export function parseService(
  service: string,
  namespace?: string,
): { namespace: string; service: string } {
  if (namespace) return { namespace, service };
  const dot = service.indexOf(".");
  return dot > 0
    ? { service: service.slice(0, dot), namespace: service.slice(dot + 1) }
    : { service, namespace: "default" };
}

function locals(e: ForwardEvent): string {
  return (e.local_ports ?? [e.local_port]).map((p) => `127.0.0.1:${p}`).join(", ");
}

/** One line for an event worth telling the user; "" for the others. */
export function describe(e: ForwardEvent): string {
  switch (e.event) {
    case "up":
      return `forwarding ${e.key} → ${locals(e)}${e.pod ? ` (pod ${e.pod})` : ""}`;
    case "switching":
      return `${e.key} (${locals(e)}) ${e.message}`;
    case "exited":
      return `${e.key} (${locals(e)}) exited: ${e.message}`;
    case "restarting":
      return `${e.key} (${locals(e)}) ${e.message}`;
    case "moved":
      return `${e.key}: ${e.message}`;
    case "waiting":
      return `not forwarding ${e.key} yet: ${e.message}`;
    case "removed":
      return `stopped forwarding ${e.key}: ${e.message}`;
    case "skipped":
      return `not forwarding ${e.key}: ${e.message}`;
    case "ignored":
      return `not forwarding ${e.key}: ${e.message}`;
    case "discovery-failed":
      return `could not list services: ${e.message}`;
    default:
      return "";
  }
}

function printEntries(
  out: Output,
  entries: {
    namespace: string;
    service: string;
    port: number;
    local_port: number;
    status: string;
    pod?: string | null;
    pid: number | null;
    since: string;
  }[],
): void {
  if (!entries.length) return out.line("no port forwards");
  out.table(
    ["NAMESPACE", "SERVICE", "PORT", "LOCAL", "STATUS", "POD", "PID", "SINCE"],
    entries.map((
      e,
    ) => [
      e.namespace,
      e.service,
      String(e.port),
      `127.0.0.1:${e.local_port}`,
      e.status,
      podText(e),
      e.pid === null ? "-" : String(e.pid),
      e.since,
    ]),
  );
}

/** The supervisor's settings for this config and these flags. */
export async function supervisorSpec(
  flags: GlobalFlags,
  opts: PortForwardFlags & { service?: string },
) {
  const session = await openSession(flags);
  const k3d = session.loaded.config.cluster.k3d;
  const offset = opts.offset ?? k3d.dev_mode.port_offset;
  if (offset < 1 || offset > 65535) {
    throw new ConfigError(`--offset = ${offset}: must be between 1 and 65535`);
  }
  const spec: SupervisorSpec = {
    cluster: k3d.name,
    context: kubeconfigContext(k3d.name),
    offset,
    namespaces: k3d.dev_mode.namespaces,
    only: opts.service ? parseService(opts.service, opts.namespace) : undefined,
    paths: forwardPaths({
      projectDir: session.loaded.projectDir,
      stateDir: session.stateDir,
      cluster: k3d.name,
    }),
  };
  return { session, spec };
}

/** The command. */
export async function portForward(
  flags: GlobalFlags,
  service: string | undefined,
  opts: PortForwardFlags,
): Promise<number | void> {
  const { session, spec } = await supervisorSpec(flags, { ...opts, service });
  const out = session.out;
  if (opts.list) {
    const { running, entries } = await listForwards(spec.paths);
    if (out.json) return out.data({ running: running ?? null, forwards: entries });
    out.line(
      running
        ? `supervisor running (pid ${running.pid}, offset ${running.offset})`
        : "supervisor not running",
    );
    return printEntries(out, entries);
  }
  if (opts.stop) {
    const was = await stopSupervisor(spec.paths);
    if (out.json) return out.data({ stopped: was });
    return out.line(
      was
        ? `stopped port forwarding for ${spec.cluster}`
        : `port forwarding for ${spec.cluster} was not running`,
    );
  }
  await requireRunning(spec.cluster);
  if (opts.detach) {
    const info = await startDetached(spec);
    const { entries } = await listForwards(spec.paths);
    // what the user must know: ports moved off a taken one, services waiting for a pod
    const notes = (await readEvents(spec.paths.events, info.started)).filter((e) =>
      e.event === "moved" || e.event === "waiting" || e.event === "skipped"
    );
    if (out.json) return out.data({ running: info, forwards: entries, notes });
    out.line(
      `port forwarding runs in the background (pid ${info.pid}); \`--list\` shows it, \`--stop\` ends it`,
    );
    for (const e of notes) out.warn(describe(e));
    return printEntries(out, entries);
  }
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  // Ctrl-C stops the forwards first, then the command ends as interrupted
  const release = claimInterrupts();
  out.progress(`forwarding services of ${spec.cluster} with offset ${spec.offset}; Ctrl-C stops`);
  let ended: "stopped" | "lost";
  try {
    ended = await runSupervisor(spec, abort.signal, (e) => {
      const text = describe(e);
      if (text) out.progress(text);
    });
  } finally {
    release();
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
  if (ended === "lost") {
    throw new FirestreamError(
      `port forwarding stopped: its pid file ${spec.paths.pid} was removed or names another process`,
      { hint: "another `cluster port-forward` took over, or the state directory was removed" },
    );
  }
  out.progress(`port forwarding stopped; ${CANCELLED}`);
  return 130;
}

/** The hidden `__supervise SPEC` command (main.ts runs it before the command tree loads). */
export { supervise } from "../portforward/control.ts";
import { kubeconfigContext } from "../tools/k3d_names.ts";
