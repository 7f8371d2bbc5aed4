/** kubectl calls, always naming their cluster with --context; JSON output parsed, never tables. */
import { FirestreamError } from "../errors.ts";
import { exec, type ExecOptions, type ExecResult, firstLine } from "./exec.ts";

/** A Kubernetes object as JSON. */
// deno-lint-ignore no-explicit-any
export type KubeObject = Record<string, any>;

/**
 * The argv of `kubectl --context CONTEXT ARGS…`: every kubectl call, run here or as a long-lived
 * child (logs, port-forward), names its cluster.
 */
export function kubectlArgv(context: string, args: string[]): string[] {
  return ["kubectl", "--context", context, ...args];
}

/** Runs `kubectl --context CONTEXT ARGS…`. */
export function kubectl(
  context: string,
  args: string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  return exec(kubectlArgv(context, args), options);
}

/** `kubectl get … -o json`. */
export async function getJson(context: string, args: string[]): Promise<KubeObject> {
  const r = await kubectl(context, ["get", ...args, "-o", "json"]);
  return JSON.parse(r.stdout);
}

/** One object, or undefined when the API server says NotFound. */
export async function getOptional(
  context: string,
  args: string[],
): Promise<KubeObject | undefined> {
  const r = await kubectl(context, ["get", ...args, "-o", "json"], { check: false });
  if (r.code === 0) return JSON.parse(r.stdout);
  if (/\(NotFound\)/.test(r.stderr)) return undefined;
  throw new FirestreamError(`kubectl get ${args.join(" ")} failed: ${firstLine(r.stderr)}`);
}

/** `kubectl version --client`, or a FirestreamError when kubectl is missing. */
export async function kubectlVersion(): Promise<string> {
  const r = await exec(["kubectl", "version", "--client", "-o", "json"]);
  return JSON.parse(r.stdout).clientVersion?.gitVersion ?? "unknown";
}

/** True when the object's condition `type` has status True. */
export function conditionTrue(obj: KubeObject, type: string): boolean {
  return (obj.status?.conditions ?? []).some((c: KubeObject) =>
    c.type === type && c.status === "True"
  );
}
