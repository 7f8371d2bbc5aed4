/**
 * The options the simulated tools model, by tool and subcommand path ("" for global options). An
 * option the real tool accepts (reference/cli-flags.json) but that is not listed here ends the call
 * with exit 98 naming it: the simulator never ignores what it does not do.
 */
import { type Parsed, SimExit } from "./core.ts";

/** Long option names (without dashes) each simulated command reads. */
export const MODELLED: Record<string, Record<string, readonly string[]>> = {
  k3d: {
    "": [],
    "cluster create": [
      "agents",
      "api-port",
      "config",
      "image",
      "k3s-arg",
      "kubeconfig-switch-context",
      "kubeconfig-update-default",
      "port",
      "registry-create",
      "registry-use",
      "servers",
      // the simulated create always waits for its servers (`--wait`, k3d's default; false is
      // refused) and ends at once, within any --timeout (checked)
      "timeout",
      "wait",
    ],
    "cluster delete": ["all"],
    "cluster edit": ["port-add"],
    "cluster list": ["output"],
    "cluster start": ["all"],
    "cluster stop": ["all"],
    "node create": ["cluster", "image", "replicas", "role", "wait"], // waits, as `--wait` does
    "node delete": [],
    "node list": ["output"],
    "registry create": ["image", "port"],
    "registry delete": ["all"],
    "registry list": ["output"],
    "kubeconfig merge": ["all", "kubeconfig-switch-context"],
    "kubeconfig get": [],
    "version": ["output"],
  },
  docker: {
    "": [],
    "version": ["format"],
    "info": ["format"],
    "ps": ["all", "filter", "format", "quiet"],
    "container ls": ["all", "filter", "format", "quiet"],
    "inspect": ["format"],
    "container inspect": ["format"],
    "network inspect": ["format"],
    "network ls": ["format"],
    "stop": [],
    "container stop": [],
    "start": [],
    "container start": [],
    "network connect": [],
  },
  kubectl: {
    // every call names its context; the namespace applies where the command reads it; the
    // simulated API server answers at once, within any --request-timeout
    "": ["context", "namespace", "request-timeout"],
    "version": ["client", "output"],
    "config current-context": [],
    "config get-contexts": ["output"],
    "create secret tls": ["cert", "key", "dry-run", "output"],
    "create namespace": [],
    // --watch and --watch-only with `-o name` only (watchedObjects in kubectl.ts)
    "get": ["all-namespaces", "ignore-not-found", "output", "selector", "watch", "watch-only"],
    // the condition is looked at once: a --timeout has run out when it is not met
    "wait": ["all", "for", "selector", "timeout"],
    "apply": ["filename"],
    "create": ["filename"],
    "patch": ["patch", "type"],
    "delete": ["ignore-not-found"],
    "drain": ["delete-emptydir-data", "force", "ignore-daemonsets", "timeout"],
    "uncordon": [],
    // logs.ts; --limit-bytes, --since-time, --ignore-errors and
    // --insecure-skip-tls-verify-backend are not modelled
    "logs": [
      "all-containers",
      "all-pods",
      "container",
      "follow",
      "max-log-requests",
      "pod-running-timeout",
      "prefix",
      "previous",
      "selector",
      // validated; every simulated log line is newer than any --since
      "since",
      "tail",
      "timestamps",
    ],
    "top node": [],
    "top pod": ["all-namespaces"],
    "cluster-info": [],
    "port-forward": ["address", "pod-running-timeout"],
  },
};

/**
 * The end (exit 98) of a call that uses `what` (an option, a filter, a keyword), which the real
 * `tool` accepts at `path` but the simulated one does not model.
 */
export function notSimulated(tool: string, path: string, what: string): SimExit {
  return new SimExit(
    98,
    `sim: ${tool}${
      path ? ` ${path}` : ""
    } ${what} is accepted by the real ${tool} but not simulated\n`,
  );
}

/** Ends the call (exit 98) at the first option of `p` that the simulated `tool` does not model. */
export function refuseUnmodelled(tool: string, p: Parsed): void {
  const table = MODELLED[tool] ?? {};
  const modelled = new Set([...(table[""] ?? []), ...(table[p.path] ?? [])]);
  for (const name of Object.keys(p.flags)) {
    if (!modelled.has(name)) throw notSimulated(tool, p.path, `--${name}`);
  }
}

/** The keys of a k3d config file (`cluster create --config`) the simulated k3d models. */
export const MODELLED_CONFIG: readonly string[] = [
  "apiVersion",
  "kind",
  "metadata.name",
  "servers",
  "agents",
  "image",
  "kubeAPI.host",
  "kubeAPI.hostIP",
  "kubeAPI.hostPort",
  "ports[].port",
  "ports[].nodeFilters",
  "options.k3s.extraArgs[].arg",
  "options.k3s.extraArgs[].nodeFilters",
  "registries.use",
  "registries.create.name",
  "registries.create.host",
  "registries.create.hostPort",
  "registries.create.image",
  "options.kubeconfig.updateDefaultKubeconfig",
  "options.kubeconfig.switchCurrentContext",
  // the simulated create waits, and ends well within any timeout
  "options.k3d.wait",
  "options.k3d.timeout",
];

/** Ends the call (exit 98) at the first key of a k3d config that the simulated k3d does not model. */
export function refuseUnmodelledConfig(doc: unknown, file: string): void {
  const leaves: string[] = [];
  const walk = (v: unknown, path: string) => {
    if (Array.isArray(v) && v.some((x) => x && typeof x === "object")) {
      for (const x of v) walk(x, `${path}[]`);
    } else if (v && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    } else if (v !== "" && v !== null) leaves.push(path); // empty: unset, as k3d reads it
  };
  walk(doc, "");
  // keys k3d's config types do not have are ignored by k3d itself (pkg/config/v1alpha5/types.go
  // SimpleConfigRegistries: use, create, config; its schema lets any other key through there)
  const ignoredByK3d = (l: string) => /^registries\.(?!use$|create\.|config$)/.test(l);
  const bad = leaves.find((l) => !MODELLED_CONFIG.includes(l) && !ignoredByK3d(l));
  if (bad) {
    throw new SimExit(98, `sim: k3d config key ${bad} (${file}) is not simulated\n`);
  }
}
