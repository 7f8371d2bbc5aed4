/**
 * Simulated `kubectl logs` (1.32), as kubernetes/kubectl v0.32.0 does it: pkg/cmd/logs/logs.go
 * (Complete, Validate, RunLogs), pkg/polymorphichelpers/logsforobject.go (which pod and container),
 * helpers.go (GetFirstPod, SelectorsForObject) and pkg/util/podutils/podutils.go (ByLogging).
 * Runs outside the world lock: it prints on stderr as it goes, and may wait for a pod.
 */
import { bool, flag, type Parsed, SimExit } from "./core.ts";
import { getOne, namespaceOf, resolveCluster, resolveKind, select } from "./kubectl.ts";
import { byLogging, goDuration, simWorld, write } from "./streaming.ts";
import type { KubeObject, SimCluster } from "./world.ts";

/** logs.go:49, 113: the usage line and the error for a call without POD or -l (UsageErrorf, helpers.go:339-341). */
const USAGE =
  "error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command\nSee 'kubectl logs -h' for help and examples\n";

/** logs.go:112: the lines a selector (-l) call reads per container without --tail. */
const SELECTOR_TAIL = 10;

/** The kubelet's `--timestamps` stamp: fixed-width RFC 3339 with nanoseconds (kubernetes pkg/kubelet/kuberuntime/logs/logs.go, timeFormatOut). */
const STAMP = "2026-01-01T00:00:00.000000000Z";

/** One log stream: a container of a pod. */
export interface LogStream {
  pod: KubeObject;
  container: string;
}

/** What one look at the cluster says a logs call reads. */
export interface LogPlan {
  /** the streams, in the order kubectl found them */
  streams: LogStream[];
  /** kubectl's lines on stderr before any log line */
  notes: string[];
  /** a controller whose selector picks no pod yet: kubectl watches for one (helpers.go:61-78) */
  noPodYet?: boolean;
}

function usage(message: string): SimExit {
  return new SimExit(1, `error: ${message}\nSee 'kubectl logs -h' for help and examples\n`);
}

/** The names kubectl lists after "Defaulted container …" (podcmd.go:92-104). */
function allContainerNames(pod: KubeObject): string {
  return [
    ...(pod.spec.containers ?? []).map((c: KubeObject) => c.name),
    ...(pod.spec.ephemeralContainers ?? []).map((c: KubeObject) => `${c.name} (ephem)`),
    ...(pod.spec.initContainers ?? []).map((c: KubeObject) => `${c.name} (init)`),
  ].join(", ");
}

/** Whether the pod has this container: regular, init or ephemeral (podcmd.go:34-51). */
function hasContainer(pod: KubeObject, name: string): boolean {
  return ["containers", "initContainers", "ephemeralContainers"].some((k) =>
    (pod.spec[k] ?? []).some((c: KubeObject) => c.name === name)
  );
}

/**
 * The streams of one pod (logsforobject.go:84-166): every container with --all-containers (init,
 * then regular, then ephemeral); else the one asked for, the annotated default, or the first, with
 * "Defaulted container …" on stderr when there was a choice (not for --all-pods).
 */
function podStreams(
  pod: KubeObject,
  p: Parsed,
  container: string | undefined,
  allPods: boolean,
  notes: string[],
): LogStream[] {
  if (bool(p, "all-containers")) {
    return ["initContainers", "containers", "ephemeralContainers"].flatMap((k) =>
      (pod.spec[k] ?? []).map((c: KubeObject) => ({ pod, container: c.name as string }))
    );
  }
  let chosen = container;
  const annotated = pod.metadata.annotations?.["kubectl.kubernetes.io/default-container"];
  if (!chosen && annotated) {
    // logsforobject.go:93-104
    if (hasContainer(pod, annotated)) chosen = annotated;
    else notes.push(`Default container name "${annotated}" not found in pod ${pod.metadata.name}`);
  }
  if (!chosen) {
    // logsforobject.go:107-115
    chosen = pod.spec.containers[0].name as string;
    const choice = pod.spec.containers.length > 1 || (pod.spec.initContainers ?? []).length > 0 ||
      (pod.spec.ephemeralContainers ?? []).length > 0;
    if (choice && !allPods) {
      notes.push(`Defaulted container "${chosen}" out of: ${allContainerNames(pod)}`);
    }
  }
  if (!hasContainer(pod, chosen)) {
    // logsforobject.go:117-120
    throw new SimExit(1, `error: container ${chosen} is not valid for pod ${pod.metadata.name}\n`);
  }
  return [{ pod, container: chosen }];
}

/** The Go type kubectl names an object by in its errors (`%T`): typed for built-in kinds. */
function goType(obj: KubeObject): string {
  const group = String(obj.apiVersion).includes("/") ? String(obj.apiVersion).split("/")[0] : "";
  return !group || !group.includes(".") || group.endsWith(".k8s.io")
    ? `*v1.${obj.kind}`
    : "*unstructured.Unstructured";
}

/** The label selector of a controller or service (helpers.go:103-208), or kubectl's error. */
function selectorOf(kind: string, obj: KubeObject): Record<string, string> {
  const fail = (why: string) =>
    new SimExit(1, `error: cannot get the logs from ${goType(obj)}: ${why}\n`); // logsforobject.go:171
  if (kind === "services") {
    const sel = obj.spec?.selector;
    if (!sel || Object.keys(sel).length === 0) {
      throw fail(`invalid service '${obj.metadata.name}': Service is defined without a selector`);
    }
    return sel;
  }
  if (kind === "deployments" || kind === "replicasets") {
    if (obj.spec?.selector?.matchExpressions?.length) {
      throw new SimExit(
        98,
        "sim: kubectl logs of a selector with matchExpressions is not simulated\n",
      );
    }
    return obj.spec?.selector?.matchLabels ?? {};
  }
  throw fail(`selector for ${goType(obj)} not implemented`);
}

/**
 * The arguments, looked at before the kubeconfig is (logs.go:254-269; cobra parses the durations
 * first): a call without POD or -l, or with both, is a usage error whatever the context.
 */
function checkArgs(p: Parsed): void {
  if (flag(p, "since") !== undefined) goDuration(flag(p, "since")!, "since");
  const selector = flag(p, "selector");
  if (p.args.length === 0 && !selector) throw new SimExit(1, USAGE);
  if (p.args.length === 1 && selector) {
    throw usage("only a selector (-l) or a POD name is allowed");
  }
  if (p.args.length === 2 && selector) {
    throw new SimExit(98, "sim: kubectl logs with both -l and POD CONTAINER is not simulated\n");
  }
  if (p.args.length > 2) throw new SimExit(1, USAGE);
}

/**
 * Reads the call against one look at the cluster, in kubectl's order after {@link checkArgs}:
 * --pod-running-timeout (helpers.go:417-423), the object (logs.go:297-322: a missing one
 * is `error: error from server (NotFound): … in namespace "NS"`, an empty -l says "No resources
 * found"), then Validate (logs.go:327-357), then the pods and containers (logsforobject.go).
 */
export function logPlan(cluster: SimCluster, p: Parsed): LogPlan {
  const selector = flag(p, "selector");
  podRunningTimeout(p);
  const ns = namespaceOf(p);
  const notes: string[] = [];

  // the object (logs.go:297-322)
  let object: { kind: string; obj: KubeObject } | undefined;
  let pods: KubeObject[] | undefined;
  if (selector) {
    pods = select(cluster, "pods", p);
    if (pods.length === 0) notes.push(`No resources found in ${ns} namespace.`);
  } else {
    const target = p.args[0];
    const slash = target.indexOf("/");
    const kind = slash >= 0 ? resolveKind(target.slice(0, slash)) : "pods";
    const name = slash >= 0 ? target.slice(slash + 1) : target;
    const obj = getOne(cluster, kind, name, p);
    if (!obj) {
      // logs.go:310-312: the builder's NotFound, wrapped, so helpers.go:213-216 prefixes "error: "
      throw new SimExit(
        1,
        `error: error from server (NotFound): ${
          resourceWord(kind)
        } "${name}" not found in namespace "${ns}"\n`,
      );
    }
    object = { kind, obj };
  }

  // Validate (logs.go:327-357)
  const container = flag(p, "container") ?? p.args[1];
  if (bool(p, "all-containers") && container) {
    throw new SimExit(
      1,
      `error: --all-containers=true should not be specified with container name ${container}\n`,
    );
  }
  if (flag(p, "container") !== undefined && p.args.length === 2) {
    throw new SimExit(1, "error: only one of -c or an inline [CONTAINER] arg is allowed\n");
  }
  if (tailLines(p) !== undefined && tailLines(p)! < -1) {
    throw new SimExit(1, "error: --tail must be greater than or equal to -1\n");
  }

  // the pods and containers (logsforobject.go:64-193)
  const allPods = bool(p, "all-pods");
  const streams: LogStream[] = [];
  if (pods) {
    for (const pod of pods) streams.push(...podStreams(pod, p, container, allPods, notes));
  } else if (object!.kind === "pods") {
    streams.push(...podStreams(object!.obj, p, container, false, notes));
  } else {
    const sel = selectorOf(object!.kind, object!.obj);
    const behind = Object.values(cluster.kube.objects.pods ?? {}).filter((pod) =>
      pod.metadata.namespace === object!.obj.metadata.namespace &&
      Object.entries(sel).every(([k, v]) => pod.metadata.labels?.[k] === v)
    ).sort(byLogging);
    if (behind.length === 0) return { streams: [], notes, noPodYet: true };
    // logsforobject.go:181-190
    const chosen = behind.length > 1 && allPods ? behind : behind.slice(0, 1);
    if (behind.length > 1 && !allPods) {
      notes.push(`Found ${behind.length} pods, using pod/${behind[0].metadata.name}`);
    }
    for (const pod of chosen) streams.push(...podStreams(pod, p, container, allPods, notes));
  }
  // logs.go:372-379
  const most = Number(flag(p, "max-log-requests") ?? 5);
  if (bool(p, "follow") && streams.length > 1 && streams.length > most) {
    throw new SimExit(
      1,
      `error: you are attempting to follow ${streams.length} log streams, but maximum allowed concurrency is ${most}, use --max-log-requests to increase the limit\n`,
    );
  }
  return { streams, notes };
}

/** The resource as a NotFound names it: `pods`, `deployments.apps`, `services`. */
function resourceWord(kind: string): string {
  return kind === "deployments" || kind === "replicasets" ? `${kind}.apps` : kind;
}

/** --pod-running-timeout, 20s by default for logs (logs.go:117, 206; helpers.go:417-423). */
function podRunningTimeout(p: Parsed): number {
  const ms = goDuration(flag(p, "pod-running-timeout") ?? "20s");
  if (ms <= 0) throw new SimExit(1, "error: --pod-running-timeout must be higher than zero\n");
  return ms;
}

/** The lines per container the server is asked for: --tail, or 10 for -l without it (logs.go:240-244). */
function tailLines(p: Parsed): number | undefined {
  const tail = flag(p, "tail");
  if (tail !== undefined) return Number(tail) === -1 ? undefined : Number(tail);
  return flag(p, "selector") ? SELECTOR_TAIL : undefined;
}

/**
 * The lines of one stream the server answers with (from `from` on), each with its prefix: with
 * --prefix (or --all-pods, logs.go:271-273) `[pod/NAME/CONTAINER] ` (logs.go:439-458) before the
 * kubelet's `--timestamps` stamp.
 */
export function streamLines(cluster: SimCluster, p: Parsed, s: LogStream, from = 0): string[] {
  const { pod, container } = s;
  if (bool(p, "previous")) {
    const status = pod.status.containerStatuses?.find((c: KubeObject) => c.name === container);
    if (!status?.restartCount) {
      throw new SimExit(
        1,
        `Error from server (BadRequest): previous terminated container "${container}" in pod "${pod.metadata.name}" not found\n`,
      );
    }
    return from ? [] : [`${pod.metadata.name}/${container} previous instance: exited with code 1`];
  }
  let lines = (cluster.kube.logs[`${pod.metadata.namespace}/${pod.metadata.name}/${container}`] ??
    []).slice(from);
  const tail = tailLines(p);
  if (!from && tail !== undefined) lines = tail === 0 ? [] : lines.slice(-tail);
  const prefix = bool(p, "prefix") || bool(p, "all-pods")
    ? `[pod/${pod.metadata.name}/${container}] `
    : "";
  return lines.map((l) => `${prefix}${bool(p, "timestamps") ? `${STAMP} ` : ""}${l}`);
}

/** The streams in Go's map order, which is random (logs.go:425: `for … range requests`). */
function mapOrder<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * `kubectl logs`: the notes on stderr, then each stream's lines one stream after another; with
 * --follow, then the lines the simulation appends, until every pod is gone. A controller without a
 * pod is watched for one until --pod-running-timeout ("timed out waiting for the condition").
 */
export async function logs(p: Parsed): Promise<number> {
  checkArgs(p);
  const deadline = Date.now() + podRunningTimeout(p);
  let cluster = resolveCluster(simWorld(), p);
  let plan = logPlan(cluster, p);
  while (plan.noPodYet) {
    if (Date.now() >= deadline) {
      throw new SimExit(1, "error: timed out waiting for the condition\n");
    }
    await new Promise((r) => setTimeout(r, Math.min(300, Math.max(1, deadline - Date.now()))));
    cluster = resolveCluster(simWorld(), p);
    plan = logPlan(cluster, p);
  }
  for (const note of plan.notes) write(`${note}\n`, "err");
  const streams = mapOrder(plan.streams);
  const seen = new Map<LogStream, number>();
  const key = (s: LogStream) => `${s.pod.metadata.namespace}/${s.pod.metadata.name}/${s.container}`;
  for (const s of streams) {
    const lines = streamLines(cluster, p, s);
    if (lines.length) write(lines.join("\n") + "\n");
    seen.set(s, (cluster.kube.logs[key(s)] ?? []).length);
  }
  if (!bool(p, "follow") || bool(p, "previous")) return 0;
  while (true) {
    await new Promise((r) => setTimeout(r, 150));
    const now = simWorld()?.clusters?.[cluster.name];
    if (!now) return 1;
    let alive = 0;
    for (const s of streams) {
      if (!now.kube.objects.pods?.[`${s.pod.metadata.namespace}/${s.pod.metadata.name}`]) continue;
      alive++;
      const lines = streamLines(now, p, s, seen.get(s));
      if (lines.length) write(lines.join("\n") + "\n");
      seen.set(s, (now.kube.logs[key(s)] ?? []).length);
    }
    if (alive === 0) return 0;
  }
}
