/** `cluster logs`: which pods and containers a form selects, and the kubectl logs call for each. */
import { nearest } from "../config/suggest.ts";
import { FirestreamError } from "../errors.ts";
import { getJson, getOptional, type KubeObject } from "../tools/kubectl.ts";

/** The seed's forms plus the usual kubectl options. */
export interface LogsRequest {
  kind?: string;
  name?: string;
  namespace: string;
  allNamespaces?: boolean;
  /** `-l`: pods with these labels */
  selector?: string;
  follow?: boolean;
  allContainers?: boolean;
  previous?: boolean;
  tail?: number;
  since?: string;
  container?: string;
  timestamps?: boolean;
}

/** One log stream: a container of a pod. */
export interface LogTarget {
  namespace: string;
  pod: string;
  container: string;
}

const KINDS: Record<string, "pod" | "deployment" | "service"> = {
  pod: "pod",
  pods: "pod",
  po: "pod",
  deployment: "deployment",
  deployments: "deployment",
  deploy: "deployment",
  service: "service",
  services: "service",
  svc: "service",
};

/** The normalized kind, or a clear error. */
export function kindOf(kind: string): "pod" | "deployment" | "service" {
  const k = KINDS[kind.toLowerCase()];
  if (!k) {
    throw new FirestreamError(`unknown kind "${kind}": use pod, deployment or service`, {
      hint: "e.g. `firestream cluster logs deployment my-deployment`",
    });
  }
  return k;
}

/**
 * kubectl's positional forms: `TYPE NAME`, `TYPE/NAME`, or a bare pod name; nothing means every
 * pod of the namespace.
 */
export function parseTarget(
  target: string | undefined,
  name: string | undefined,
): { kind?: string; name?: string } {
  if (!target) return {};
  const slash = target.indexOf("/");
  if (slash >= 0) {
    if (name) {
      throw new FirestreamError(`give either ${target} or ${target.slice(0, slash)} ${name}`, {
        hint: "e.g. `firestream cluster logs deployment/web` or `... logs deployment web`",
      });
    }
    const kind = target.slice(0, slash);
    const object = target.slice(slash + 1);
    if (!object) throw new FirestreamError(`${target} names no object`, { hint: `${kind}/NAME` });
    kindOf(kind);
    return { kind, name: object };
  }
  if (KINDS[target.toLowerCase()] || name) return { kind: target, name };
  // `logs my-pod`, as kubectl reads a bare name
  return { kind: "pod", name: target };
}

function matches(pod: KubeObject, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => pod.metadata.labels?.[k] === v);
}

async function notFound(
  context: string,
  kind: string,
  name: string,
  namespace: string,
): Promise<never> {
  const plural = kind === "pod" ? "pods" : kind === "deployment" ? "deployments" : "services";
  const list = await getJson(context, [plural, "-n", namespace]);
  const names: string[] = list.items.map((i: KubeObject) => i.metadata.name);
  const close = nearest(name, names);
  const similar = names.filter((n) => n.includes(name) || name.includes(n)).slice(0, 5);
  const suggestions = [...new Set([...(close ? [close] : []), ...similar])];
  throw new FirestreamError(`no ${kind} named ${name} in namespace ${namespace}`, {
    hint: suggestions.length
      ? `did you mean ${suggestions.join(", ")}?`
      : names.length
      ? `${kind}s there: ${names.slice(0, 8).join(", ")}`
      : `namespace ${namespace} has no ${kind}s`,
  });
}

/**
 * The pods the request selects (for a deployment or service: the pods its selector picks).
 * `flags` go before every `kubectl get` (completion bounds them with `--request-timeout`).
 */
export async function selectPods(
  context: string,
  req: LogsRequest,
  flags: string[] = [],
): Promise<KubeObject[]> {
  const scope = req.allNamespaces ? ["--all-namespaces"] : ["-n", req.namespace];
  if (req.selector && req.kind) {
    throw new FirestreamError(
      `-l/--selector picks pods by label; it does not go with ${req.kind}`,
      {
        hint: `use \`logs -l ${req.selector}\` or \`logs ${req.kind} ${req.name ?? "NAME"}\``,
      },
    );
  }
  if (!req.kind) {
    const labels = req.selector ? ["-l", req.selector] : [];
    return (await getJson(context, [...flags, "pods", ...scope, ...labels])).items;
  }
  if (!req.name) {
    throw new FirestreamError(`logs ${req.kind} needs a name`, {
      hint: `firestream cluster logs ${req.kind} NAME`,
    });
  }
  const kind = kindOf(req.kind);
  if (kind === "pod") {
    const pod = await getOptional(context, [...flags, "pod", req.name, "-n", req.namespace]);
    return pod ? [pod] : await notFound(context, kind, req.name, req.namespace);
  }
  const obj = await getOptional(context, [...flags, kind, req.name, "-n", req.namespace]);
  if (!obj) return await notFound(context, kind, req.name, req.namespace);
  const selector = kind === "service" ? obj.spec?.selector : obj.spec?.selector?.matchLabels;
  if (!selector || !Object.keys(selector).length) {
    throw new FirestreamError(`${kind} ${req.name} has no selector, so it has no pods`);
  }
  const pods = (await getJson(context, [...flags, "pods", "-n", req.namespace]))
    .items as KubeObject[];
  return pods.filter((p) => matches(p, selector));
}

/** The (pod, container) streams of the selected pods. */
export function targets(pods: KubeObject[], req: LogsRequest): LogTarget[] {
  const out: LogTarget[] = [];
  for (const pod of pods) {
    const containers: string[] = (pod.spec?.containers ?? []).map((c: KubeObject) => c.name);
    let chosen: string[];
    if (req.container) {
      if (!containers.includes(req.container)) {
        if (req.kind) {
          throw new FirestreamError(`pod ${pod.metadata.name} has no container ${req.container}`, {
            hint: `containers: ${containers.join(", ")}`,
          });
        }
        continue;
      }
      chosen = [req.container];
    } else chosen = req.allContainers ? containers : containers.slice(0, 1);
    for (const c of chosen) {
      out.push({ namespace: pod.metadata.namespace, pod: pod.metadata.name, container: c });
    }
  }
  return out;
}

/** The kubectl arguments (after --context) for one stream. */
export function logsArgs(t: LogTarget, req: LogsRequest): string[] {
  const args = ["-n", t.namespace, "logs", t.pod, "-c", t.container];
  if (req.follow) args.push("--follow");
  if (req.previous) args.push("--previous");
  if (req.tail !== undefined) args.push(`--tail=${req.tail}`);
  if (req.since) args.push(`--since=${req.since}`);
  if (req.timestamps) args.push("--timestamps");
  return args;
}

/** One line of `--json` output, as stern's `-o json` prints it. */
export interface LogRecord {
  namespace: string;
  pod: string;
  container: string;
  /** RFC 3339 time kubectl reported (asked for with --timestamps) */
  timestamp?: string;
  message: string;
}

/** Splits kubectl's `--timestamps` prefix off a line. */
export function logRecord(t: LogTarget, line: string, stamped: boolean): LogRecord {
  const m = stamped ? /^(\d{4}-\d\d-\d\dT\S+) (.*)$/s.exec(line) : null;
  return {
    namespace: t.namespace,
    pod: t.pod,
    container: t.container,
    ...(m ? { timestamp: m[1] } : {}),
    message: m ? m[2] : line,
  };
}
