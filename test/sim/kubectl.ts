/** Simulated kubectl 1.32 against the simulated clusters: get, wait, apply, delete, create secret tls, logs, port-forward, top. */
import { bool, flag, type Parsed, SimExit } from "./core.ts";
import { endpointSlices } from "./endpoints.ts";
import { goDuration } from "./streaming.ts";
import { CLUSTER_SCOPED, put } from "./kube.ts";
import type { KubeObject, SimCluster, World } from "./world.ts";

const KINDS: Record<string, string> = {
  po: "pods",
  pod: "pods",
  pods: "pods",
  svc: "services",
  service: "services",
  services: "services",
  deploy: "deployments",
  deployment: "deployments",
  deployments: "deployments",
  "deployments.apps": "deployments",
  no: "nodes",
  node: "nodes",
  nodes: "nodes",
  ns: "namespaces",
  namespace: "namespaces",
  namespaces: "namespaces",
  ev: "events",
  event: "events",
  events: "events",
  secret: "secrets",
  secrets: "secrets",
  cm: "configmaps",
  configmap: "configmaps",
  configmaps: "configmaps",
  ep: "endpoints",
  endpoints: "endpoints",
  endpointslice: "endpointslices",
  endpointslices: "endpointslices",
  "endpointslices.discovery.k8s.io": "endpointslices",
  rs: "replicasets",
  replicaset: "replicasets",
  replicasets: "replicasets",
  helmchartconfig: "helmchartconfigs",
  helmchartconfigs: "helmchartconfigs",
  "helmchartconfigs.helm.cattle.io": "helmchartconfigs",
  helmchart: "helmcharts",
  helmcharts: "helmcharts",
  "helmcharts.helm.cattle.io": "helmcharts",
  ing: "ingresses",
  ingress: "ingresses",
  ingresses: "ingresses",
  "ingresses.networking.k8s.io": "ingresses",
  tlsstore: "tlsstores",
  tlsstores: "tlsstores",
  "tlsstores.traefik.io": "tlsstores",
};
const SINGULAR: Record<string, string> = {
  pods: "pod",
  services: "service",
  deployments: "deployment.apps",
  nodes: "node",
  namespaces: "namespace",
  events: "event",
  secrets: "secret",
  configmaps: "configmap",
  endpoints: "endpoints",
  endpointslices: "endpointslice.discovery.k8s.io",
  replicasets: "replicaset.apps",
  helmchartconfigs: "helmchartconfig.helm.cattle.io",
  tlsstores: "tlsstore.traefik.io",
  ingresses: "ingress.networking.k8s.io",
  helmcharts: "helmchart.helm.cattle.io",
};
const KIND_TO_PLURAL: Record<string, string> = {
  Pod: "pods",
  Service: "services",
  Deployment: "deployments",
  Node: "nodes",
  Namespace: "namespaces",
  Event: "events",
  Secret: "secrets",
  ConfigMap: "configmaps",
  HelmChartConfig: "helmchartconfigs",
  TLSStore: "tlsstores",
  Ingress: "ingresses",
  HelmChart: "helmcharts",
};

/** Is this kubectl call a change? */
export function kubectlMutating(p: Parsed): boolean {
  const dry = (p.flags["dry-run"] ?? []).some((v) => v === "client" || v === "server");
  if (dry) return false;
  return /^(apply|create.*|delete|drain|patch|label|annotate|scale|edit|replace|cordon|uncordon|drain|rollout restart|config (set.*|use-context|delete.*|rename-context|unset))$/
    .test(p.path);
}

/**
 * The kubectl subcommands that run outside the world lock: those that stream until killed, and
 * `logs` (it writes on stderr as it goes, and may wait for a pod: logs.ts).
 */
export function kubectlStreams(p: Parsed): boolean {
  return p.path === "port-forward" || p.path === "logs" ||
    (p.path === "get" && (bool(p, "watch") || bool(p, "watch-only")));
}

/**
 * The objects a `get TYPE --watch` follows, as `-o name` prints them. kubectl refuses several types
 * at once (pkg/cmd/get/get.go, watch(): "watch is only supported on individual resources and
 * resource collections - more than 1 resource was found").
 */
export function watchedObjects(cluster: SimCluster, p: Parsed): Map<string, KubeObject> {
  const words = (p.args[0] ?? "").split(",");
  if (words.length !== 1 || !words[0] || p.args.length > 1) {
    throw new SimExit(
      1,
      "error: watch is only supported on individual resources and resource collections - more than 1 resource was found\n",
    );
  }
  const kind = resolveKind(words[0]);
  requireType(cluster, kind, words[0]);
  if (flag(p, "output") !== "name") {
    throw new SimExit(98, "sim: kubectl get --watch is simulated only with -o name\n");
  }
  const out = new Map<string, KubeObject>();
  for (const o of select(cluster, kind, p)) {
    out.set(`${SINGULAR[KIND_TO_PLURAL[o.kind]] ?? o.kind.toLowerCase()}/${o.metadata.name}`, o);
  }
  return out;
}

/**
 * kubectl's stderr when the API server refuses the connection: klog lines from API discovery
 * (client-go memcache.go), then the decisive line. Shape and count from the real 1.32 client
 * (fixtures/kubectl/refused-get.json); klog's header is `Lmmdd hh:mm:ss.uuuuuu %7d file:line] `.
 */
export function refusedStderr(host: string, port: string): string {
  const now = new Date();
  const two = (n: number) => String(n).padStart(2, "0");
  const stamp = `${two(now.getUTCMonth() + 1)}${two(now.getUTCDate())} ${two(now.getUTCHours())}:${
    two(now.getUTCMinutes())
  }:${two(now.getUTCSeconds())}.${String(now.getUTCMilliseconds() * 1000).padStart(6, "0")}`;
  const klog = `E${stamp} ${String(Deno.pid).padStart(7)} memcache.go:265] "Unhandled Error" err=` +
    `"couldn't get current server API group list: Get \\"https://${host}:${port}/api?timeout=32s\\": dial tcp ${host}:${port}: connect: connection refused"`;
  return `${klog}\n`.repeat(5) +
    `The connection to the server ${host}:${port} was refused - did you specify the right host or port?\n`;
}

/** The cluster a call talks to, with kubectl's errors for a bad context or a stopped server. */
export function resolveCluster(world: World, p: Parsed): SimCluster {
  const context = flag(p, "context") ?? world.kubeconfig.current;
  if (!context) {
    throw new SimExit(
      1,
      "The connection to the server localhost:8080 was refused - did you specify the right host or port?\n",
    );
  }
  // clientcmd's validation error, as the real client prints it (fixtures/kubectl/missing-context-get.json)
  const missing = new SimExit(
    1,
    `Error in configuration: context was not found for specified context: ${context}\n`,
  );
  if (!world.kubeconfig.contexts.includes(context)) throw missing;
  const cluster = world.clusters[context.replace(/^k3d-/, "")];
  if (!cluster) throw missing;
  const server = world.containers[`k3d-${cluster.name}-server-0`];
  const lb = world.containers[`k3d-${cluster.name}-serverlb`];
  if (!server?.running || !lb?.running) {
    throw new SimExit(1, refusedStderr(cluster.apiHostIp, cluster.apiPort));
  }
  return cluster;
}

/**
 * Traefik's CRDs (tlsstores.traefik.io) arrive through k3s's `traefik-crd` HelmChart job, some
 * seconds after the nodes are Ready; until then the type is unknown to the API server.
 */
function requireType(cluster: SimCluster, kind: string, word: string): void {
  if (kind !== "tlsstores") return;
  const at = cluster.traefikCrdsAt;
  if (at === null || (at !== undefined && Date.now() < Date.parse(at))) {
    throw new SimExit(
      1,
      `error: the server doesn't have a resource type "${word.split(".")[0]}"\n`,
    );
  }
}

function listDoc(items: KubeObject[]): KubeObject {
  return { apiVersion: "v1", items, kind: "List", metadata: { resourceVersion: "" } };
}

export function namespaceOf(p: Parsed): string {
  return flag(p, "namespace") ?? "default";
}

/** One requirement of a label selector. */
interface Requirement {
  key: string;
  op: "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | ">" | "<";
  values: string[];
}

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * A label selector as the API server reads it (k8s.io/apimachinery pkg/labels/selector.go at
 * kubernetes 1.36: the Lexer's tokens `( ) , ! = == != > < in notin`, whitespace between them, and
 * Parser.parse: `[!]KEY`, `KEY (=|==|!=|>|<) VALUE`, `KEY (in|notin) (V,…)`, joined by commas; the
 * keys and values checked by validateLabelKey/validateLabelValue). kubectl sends the text to the
 * server as it is; a selector the server refuses ends the call with exit 98, as the wording of
 * that refusal is not simulated.
 */
export function parseSelector(selector: string): Requirement[] {
  const refuse = (why: string) =>
    new SimExit(
      98,
      `sim: kubectl -l '${selector}' (${why}) is refused by the API server; that is not simulated\n`,
    );
  const tokens: string[] = [];
  const special = /[=!(),<>]/;
  for (let i = 0; i < selector.length;) {
    const ch = selector[i];
    if (/[ \t\r\n]/.test(ch)) {
      i++;
    } else if (special.test(ch)) {
      // the longest operator the symbols spell (`!=`, `==`), else the single symbol
      const two = selector.slice(i, i + 2);
      const op = two === "!=" || two === "==" ? two : ch;
      tokens.push(op);
      i += op.length;
    } else {
      let j = i;
      while (j < selector.length && !special.test(selector[j]) && !/[ \t\r\n]/.test(selector[j])) {
        j++;
      }
      tokens.push(selector.slice(i, j));
      i = j;
    }
  }
  const isWord = (t: string | undefined) => t !== undefined && !/^([=!(),<>]|==|!=)$/.test(t);
  const reqs: Requirement[] = [];
  let i = 0;
  while (i < tokens.length) {
    let key = tokens[i++];
    let op: Requirement["op"] | undefined;
    if (key === "!") {
      op = "!";
      key = tokens[i++];
    }
    if (!isWord(key)) throw refuse(`found '${key ?? ""}', expected: identifier`);
    const next = tokens[i];
    let values: string[] = [];
    if (next === undefined || next === ",") {
      op ??= "exists";
    } else if (op === "!") {
      throw refuse(`found '${next}', expected: ',' or 'end of string'`);
    } else if (next === "in" || next === "notin") {
      op = next;
      i++;
      if (tokens[i++] !== "(") throw refuse("expected: '('");
      const list: string[] = [];
      let value = "";
      for (;;) {
        const t = tokens[i++];
        if (t === undefined) throw refuse("expected: ')'");
        if (t === ")") break;
        if (t === ",") {
          list.push(value);
          value = "";
        } else if (isWord(t) && value === "") {
          value = t;
          if (tokens[i] !== "," && tokens[i] !== ")") {
            throw refuse(`found '${tokens[i] ?? ""}', expected: ',' or ')'`);
          }
        } else throw refuse(`found '${t}', expected: ',', or identifier`);
      }
      list.push(value);
      values = [...new Set(list)];
    } else if (["=", "==", "!=", ">", "<"].includes(next)) {
      op = next as Requirement["op"];
      i++;
      const v = tokens[i];
      if (v === undefined || v === ",") values = [""];
      else if (isWord(v)) {
        values = [v];
        i++;
      } else throw refuse(`found '${v}', expected: identifier`);
      if ((op === ">" || op === "<") && !/^[-+]?\d+$/.test(values[0])) {
        throw refuse("for 'Gt', 'Lt' operators, the value must be an integer");
      }
    } else throw refuse(`found '${next}', expected: in, notin, =, ==, !=, gt, lt`);
    const slash = key.lastIndexOf("/");
    const [prefix, name] = slash >= 0 ? [key.slice(0, slash), key.slice(slash + 1)] : ["", key];
    if (
      !name || name.length > 63 || !LABEL_NAME.test(name) ||
      (slash >= 0 && (!prefix || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    ) throw refuse(`invalid label key "${key}"`);
    const bad = values.find((v) => v.length > 63 || !LABEL_NAME.test(v));
    if (bad !== undefined) throw refuse(`invalid label value "${bad}"`);
    reqs.push({ key, op, values });
    if (i < tokens.length) {
      if (tokens[i] !== ",") throw refuse(`found '${tokens[i]}', expected: ',' or 'end of string'`);
      i++;
      if (!isWord(tokens[i]) && tokens[i] !== "!") {
        throw refuse(`found '${tokens[i] ?? ""}', expected: identifier after ','`);
      }
    }
  }
  return reqs;
}

/** Requirement.Matches (selector.go): every requirement of the selector holds for the labels. */
export function selectorMatches(obj: KubeObject, selector?: string): boolean {
  if (!selector) return true;
  const labels: Record<string, string> = obj.metadata?.labels ?? {};
  return parseSelector(selector).every(({ key, op, values }) => {
    const has = key in labels;
    const v = labels[key];
    switch (op) {
      case "=":
      case "==":
      case "in":
        return has && values.includes(v);
      case "!=":
      case "notin":
        return !has || !values.includes(v);
      case "exists":
        return has;
      case "!":
        return !has;
      default:
        return has && /^[-+]?\d+$/.test(v) &&
          (op === ">" ? Number(v) > Number(values[0]) : Number(v) < Number(values[0]));
    }
  });
}

export function resolveKind(word: string): string {
  const kind = KINDS[word.toLowerCase()];
  if (!kind) throw new SimExit(1, `error: the server doesn't have a resource type "${word}"\n`);
  return kind;
}

/** Objects of a kind, honouring -n / -A and -l. */
export function select(cluster: SimCluster, kind: string, p: Parsed): KubeObject[] {
  const all = kind === "endpointslices"
    ? endpointSlices(cluster)
    : Object.values(cluster.kube.objects[kind] ?? {});
  const ns = namespaceOf(p);
  return all.filter((o) =>
    (CLUSTER_SCOPED.has(kind) || bool(p, "all-namespaces") || o.metadata.namespace === ns) &&
    selectorMatches(o, flag(p, "selector"))
  ).sort((a, b) =>
    `${a.metadata.namespace ?? ""}/${a.metadata.name}`.localeCompare(
      `${b.metadata.namespace ?? ""}/${b.metadata.name}`,
    )
  );
}

function notFound(kind: string, name: string): SimExit {
  const group = SINGULAR[kind]?.includes(".") ? SINGULAR[kind].split(".").slice(1).join(".") : "";
  const plural = group ? `${kind}.${group}` : kind;
  return new SimExit(1, `Error from server (NotFound): ${plural} "${name}" not found\n`);
}

export function getOne(
  cluster: SimCluster,
  kind: string,
  name: string,
  p: Parsed,
): KubeObject | undefined {
  const key = CLUSTER_SCOPED.has(kind) ? name : `${namespaceOf(p)}/${name}`;
  return cluster.kube.objects[kind]?.[key];
}

function render(p: Parsed, value: KubeObject): string {
  const o = flag(p, "output");
  if (o === "json") return JSON.stringify(value, null, 4) + "\n";
  if (o === "name") {
    const items = value.kind === "List" ? value.items : [value];
    return items.map((i: KubeObject) =>
      `${SINGULAR[KIND_TO_PLURAL[i.kind]] ?? i.kind.toLowerCase()}/${i.metadata.name}\n`
    ).join("");
  }
  throw new SimExit(98, `sim: kubectl output ${o ?? "(table)"} is not simulated; use -o json\n`);
}

/** Runs a (non-streaming) kubectl command. */
export async function kubectl(
  world: World,
  p: Parsed,
  stdin: () => Promise<string>,
): Promise<string> {
  switch (p.path) {
    case "version":
      if (bool(p, "client")) {
        if (flag(p, "output") === "json") {
          return JSON.stringify(
            { clientVersion: { major: "1", minor: "32", gitVersion: world.kubectlVersion } },
            null,
            2,
          ) + "\n";
        }
        return `Client Version: ${world.kubectlVersion}\nKustomize Version: v5.5.0\n`;
      }
      break;
    case "config current-context":
      if (!world.kubeconfig.current) throw new SimExit(1, "error: current-context is not set\n");
      return world.kubeconfig.current + "\n";
    case "config get-contexts":
      if (bool(p, "output") && flag(p, "output") === "name") {
        return world.kubeconfig.contexts.map((c) => c + "\n").join("");
      }
      break;
    case "create secret tls":
      return await createSecretTls(world, p);
    case "create namespace": {
      const cluster = resolveCluster(world, p);
      const name = p.args[0];
      if (!name) throw new SimExit(1, "error: exactly one NAME is required, got 0\n");
      if (cluster.kube.objects.namespaces?.[name]) {
        throw new SimExit(
          1,
          `Error from server (AlreadyExists): namespaces "${name}" already exists\n`,
        );
      }
      put(cluster.kube, "namespaces", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name },
        status: { phase: "Active" },
      });
      return `namespace/${name} created\n`;
    }
  }
  const cluster = resolveCluster(world, p);
  switch (p.path) {
    case "get":
      return get(cluster, p);
    case "wait":
      return wait(cluster, p);
    case "apply":
      return await apply(cluster, p, await stdin());
    case "create":
      return await create(cluster, p, await stdin());
    case "patch":
      return patch(cluster, p);
    case "delete":
      return del(cluster, p);
    case "drain":
      return drain(cluster, p);
    case "uncordon":
      return uncordon(cluster, p);
    case "top node":
    case "top pod":
      return top(cluster, p);
    case "cluster-info":
      return `Kubernetes control plane is running at https://${cluster.apiHostIp}:${cluster.apiPort}\nCoreDNS is running at https://${cluster.apiHostIp}:${cluster.apiPort}/api/v1/namespaces/kube-system/services/kube-dns:dns/proxy\n`;
  }
  throw new SimExit(98, `sim: kubectl ${p.path || p.args.join(" ")} is not simulated\n`);
}

function get(cluster: SimCluster, p: Parsed): string {
  if (p.args.length === 0) {
    throw new SimExit(
      1,
      'You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.\n\nerror: Required resource not specified.\n',
    );
  }
  let [kindWord, ...names] = p.args;
  if (kindWord.includes("/")) {
    [kindWord, ...names] = [kindWord.split("/")[0], kindWord.split("/")[1], ...names];
  }
  const kinds = kindWord.split(",").map(resolveKind);
  kinds.forEach((k, i) => requireType(cluster, k, kindWord.split(",")[i]));
  if (kinds.length > 1) {
    // several types in one call: one List, each type's items in the order asked (kubectl get svc,ep)
    if (names.length) {
      throw new SimExit(98, "sim: names with several resource types are not simulated\n");
    }
    return render(p, listDoc(kinds.flatMap((k) => select(cluster, k, p))));
  }
  const kind = kinds[0];
  if (names.length === 0) return render(p, listDoc(select(cluster, kind, p)));
  const found: KubeObject[] = [];
  for (const name of names) {
    const obj = getOne(cluster, kind, name, p);
    if (!obj) {
      if (bool(p, "ignore-not-found")) continue;
      throw notFound(kind, name);
    }
    found.push(obj);
  }
  if (names.length === 1) return found.length ? render(p, found[0]) : "";
  return render(p, listDoc(found));
}

function conditionMet(obj: KubeObject, condition: string): boolean {
  const [type, want = "True"] = condition.split("=");
  return (obj.status?.conditions ?? []).some((c: KubeObject) =>
    c.type.toLowerCase() === type.toLowerCase() && c.status.toLowerCase() === want.toLowerCase()
  );
}

function wait(cluster: SimCluster, p: Parsed): string {
  goDuration(flag(p, "timeout") ?? "30s", "timeout");
  const forSpec = flag(p, "for");
  if (!forSpec) throw new SimExit(1, "error: --for must be specified\n");
  const m = /^condition=(.+)$/.exec(forSpec);
  if (!m) throw new SimExit(98, `sim: kubectl wait --for=${forSpec} is not simulated\n`);
  let targets: KubeObject[];
  let kind: string;
  if (p.args[0]?.includes("/")) {
    const [k, name] = p.args[0].split("/");
    kind = resolveKind(k);
    const obj = getOne(cluster, kind, name, p);
    if (!obj) throw notFound(kind, name);
    targets = [obj];
  } else {
    kind = resolveKind(p.args[0] ?? "");
    if (!bool(p, "all") && p.args.length < 2 && !flag(p, "selector")) {
      throw new SimExit(1, "error: resource(s) were provided, but no name was specified\n");
    }
    targets = p.args.length > 1
      ? p.args.slice(1).map((n) =>
        getOne(cluster, kind, n, p) ?? (() => {
          throw notFound(kind, n);
        })()
      )
      : select(cluster, kind, p);
    if (targets.length === 0) throw new SimExit(1, "error: no matching resources found\n");
  }
  const lines: string[] = [];
  for (const t of targets) {
    const id = `${SINGULAR[kind]}/${t.metadata.name}`;
    if (!conditionMet(t, m[1])) {
      throw new SimExit(
        1,
        lines.map((l) => l + "\n").join("") +
          `error: timed out waiting for the condition on ${kind}/${t.metadata.name}\n`,
        lines.join("\n") + (lines.length ? "\n" : ""),
      );
    }
    lines.push(`${id} condition met`);
  }
  return lines.join("\n") + "\n";
}

/**
 * The objects of `-f FILE` (`-` is stdin), with the name kubectl gives the source in its messages;
 * a document that does not parse fails as kubectl does.
 */
async function manifests(
  p: Parsed,
  input: string,
): Promise<{ source: string; objects: KubeObject[] }> {
  const file = flag(p, "filename");
  if (!file) throw new SimExit(1, "error: must specify one of -f and -k\n");
  const text = file === "-" ? input : Deno.readTextFileSync(file);
  const source = file === "-" ? "STDIN" : file;
  const objects: KubeObject[] = [];
  // loaded only here: the YAML library is most of a simulated call's start-up
  const { parseAllDocuments } = await import("yaml");
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) {
      throw new SimExit(1, `error: error parsing ${source}: ${doc.errors[0].message}\n`);
    }
    const obj = doc.toJSON();
    if (obj) objects.push(obj);
  }
  return { source, objects };
}

async function apply(cluster: SimCluster, p: Parsed, input: string): Promise<string> {
  const file = flag(p, "filename")!;
  const out: string[] = [];
  for (const obj of (await manifests(p, input)).objects) {
    const kind = KIND_TO_PLURAL[obj.kind];
    const crdMissing = kind === "tlsstores" &&
      (cluster.traefikCrdsAt === null ||
        (cluster.traefikCrdsAt !== undefined && Date.now() < Date.parse(cluster.traefikCrdsAt)));
    if (!kind || crdMissing) {
      throw new SimExit(
        1,
        `error: resource mapping not found for name: "${obj.metadata?.name}" namespace: "${
          obj.metadata?.namespace ?? ""
        }" from "${file}": no matches for kind "${obj.kind}" in version "${obj.apiVersion}"\nensure CRDs are installed first\n`,
      );
    }
    if (!CLUSTER_SCOPED.has(kind)) obj.metadata.namespace ??= flag(p, "namespace") ?? "default";
    const ns = obj.metadata.namespace;
    if (ns && !cluster.kube.objects.namespaces?.[ns]) {
      throw new SimExit(
        1,
        `Error from server (NotFound): error when creating "${
          file === "-" ? "STDIN" : file
        }": namespaces "${ns}" not found\n`,
      );
    }
    const existing = getOne(cluster, kind, obj.metadata.name, {
      ...p,
      flags: { ...p.flags, namespace: [ns ?? "default"] },
    });
    const id = `${SINGULAR[kind]}/${obj.metadata.name}`;
    if (existing && same(existing, obj)) {
      out.push(`${id} unchanged`);
      continue;
    }
    delete obj.metadata.creationTimestamp;
    put(cluster.kube, kind, obj);
    out.push(`${id} ${existing ? "configured" : "created"}`);
  }
  return out.join("\n") + "\n";
}

/**
 * `kubectl create -f FILE`: each object is created; one that exists fails as the API server says
 * (kubectl pkg/cmd/create: `Error from server (AlreadyExists): error when creating "STDIN": …`).
 */
async function create(cluster: SimCluster, p: Parsed, input: string): Promise<string> {
  const { source, objects } = await manifests(p, input);
  const out: string[] = [];
  for (const obj of objects) {
    const kind = KIND_TO_PLURAL[obj.kind];
    if (!kind) throw new SimExit(98, `sim: kubectl create of ${obj.kind} is not simulated\n`);
    if (!CLUSTER_SCOPED.has(kind)) obj.metadata.namespace ??= flag(p, "namespace") ?? "default";
    const existing = getOne(cluster, kind, obj.metadata.name, {
      ...p,
      flags: { ...p.flags, namespace: [obj.metadata.namespace ?? "default"] },
    });
    if (existing) {
      throw new SimExit(
        1,
        `Error from server (AlreadyExists): error when creating "${source}": ${kind} "${obj.metadata.name}" already exists\n`,
      );
    }
    put(cluster.kube, kind, obj);
    out.push(`${SINGULAR[kind]}/${obj.metadata.name} created`);
  }
  return out.join("\n") + "\n";
}

/**
 * `kubectl patch TYPE NAME --type merge -p JSON`: a JSON merge patch (RFC 7386; kubectl
 * pkg/cmd/patch): objects merge key by key, a null removes its key, anything else replaces. Only
 * the merge type is simulated. An unchanged object prints `(no change)`, as kubectl does.
 */
function patch(cluster: SimCluster, p: Parsed): string {
  if (flag(p, "type") !== "merge") {
    throw new SimExit(98, `sim: kubectl patch --type ${flag(p, "type")} is not simulated\n`);
  }
  let [kindWord, name] = p.args;
  if (kindWord?.includes("/")) [kindWord, name] = kindWord.split("/");
  const kind = resolveKind(kindWord ?? "");
  const obj = getOne(cluster, kind, name ?? "", p);
  if (!obj) throw notFound(kind, name ?? "");
  let body: KubeObject;
  try {
    body = JSON.parse(flag(p, "patch") ?? "");
  } catch (err) {
    throw new SimExit(
      1,
      `error: unable to parse "${flag(p, "patch")}": ${(err as Error).message}\n`,
    );
  }
  const merge = (target: KubeObject, change: KubeObject): KubeObject => {
    if (typeof change !== "object" || change === null || Array.isArray(change)) return change;
    const out: KubeObject = typeof target === "object" && target !== null && !Array.isArray(target)
      ? { ...target }
      : {};
    for (const [k, v] of Object.entries(change)) {
      if (v === null) delete out[k];
      else out[k] = merge(out[k], v);
    }
    return out;
  };
  const next = merge(obj, body);
  const id = `${SINGULAR[kind].split(".")[0]}/${name}`;
  if (JSON.stringify(next) === JSON.stringify(obj)) return `${id} patched (no change)\n`;
  put(cluster.kube, kind, next);
  return `${id} patched\n`;
}

function same(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) =>
    JSON.stringify({
      ...o,
      metadata: {
        name: o.metadata.name,
        namespace: o.metadata.namespace,
        labels: o.metadata.labels,
        annotations: o.metadata.annotations,
      },
    });
  return strip(a) === strip(b);
}

/** `kubectl uncordon NODE`; messages as kubectl's pkg/cmd/drain (cordon.go, drain.go) prints them. */
function uncordon(cluster: SimCluster, p: Parsed): string {
  const name = p.args[0];
  const node = name ? cluster.kube.objects.nodes?.[name] : undefined;
  if (!node) throw notFound("nodes", name ?? "");
  if (!node.spec.unschedulable) return `node/${name} already uncordoned\n`;
  delete node.spec.unschedulable;
  return `node/${name} uncordoned\n`;
}

/**
 * What keeps `kubectl drain` from evicting a pod, unless its option is given (kubernetes/kubectl
 * v0.37.0-beta.0 pkg/drain/filters.go:31-35 daemonSetFatal, localStorageFatal, unmanagedFatal).
 */
function drainBlock(pod: KubeObject, p: Parsed): string | undefined {
  const owners: KubeObject[] = pod.metadata.ownerReferences ?? [];
  if (owners.some((o) => o.kind === "DaemonSet")) {
    return bool(p, "ignore-daemonsets")
      ? "skip"
      : "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)";
  }
  if (!owners.length && !bool(p, "force")) {
    return "Pods that declare no controller (use --force to override)";
  }
  const emptyDir = (pod.spec.volumes ?? []).some((v: KubeObject) => v.emptyDir);
  if (emptyDir && !bool(p, "delete-emptydir-data")) {
    return "Pods with local storage (use --delete-emptydir-data to override)";
  }
  return undefined;
}

function drain(cluster: SimCluster, p: Parsed): string {
  goDuration(flag(p, "timeout") ?? "0s", "timeout");
  const name = p.args[0];
  const node = name ? cluster.kube.objects.nodes?.[name] : undefined;
  if (!node) throw notFound("nodes", name ?? "");
  const pods = Object.entries(cluster.kube.objects.pods ?? {}).filter(([, pod]) =>
    pod.spec.nodeName === name
  );
  // pkg/drain/filters.go:90 one error per reason naming its pods; pkg/cmd/drain/drain.go:345,357
  // the node's line and the pending nodes; then cmdutil.CheckErr prints the aggregate (one error
  // as it is, several as "[a, b]")
  const blocked = new Map<string, string[]>();
  for (const [, pod] of pods) {
    const why = drainBlock(pod, p);
    if (why && why !== "skip") {
      blocked.set(why, [
        ...(blocked.get(why) ?? []),
        `${pod.metadata.namespace}/${pod.metadata.name}`,
      ]);
    }
  }
  if (blocked.size) {
    const reasons = [...blocked].map(([why, names]) => `cannot delete ${why}: ${names.join(", ")}`);
    const err = reasons.length > 1 ? `[${reasons.join(", ")}]` : reasons[0];
    throw new SimExit(
      1,
      `error: unable to drain node "${name}" due to error: ${err}, continuing command...\nThere are pending nodes to be drained:\n ${name}\nerror: ${err}\n`,
      `node/${name} cordoned\n`,
    );
  }
  node.spec.unschedulable = true;
  const out = [`node/${name} cordoned`];
  for (const [key, pod] of pods) {
    if (drainBlock(pod, p) === "skip") continue;
    delete cluster.kube.objects.pods[key];
    out.push(
      `evicting pod ${pod.metadata.namespace}/${pod.metadata.name}`,
      `pod/${pod.metadata.name} evicted`,
    );
  }
  out.push(`node/${name} drained`);
  return out.join("\n") + "\n";
}

function del(cluster: SimCluster, p: Parsed): string {
  let [kindWord, ...names] = p.args;
  if (!kindWord) {
    throw new SimExit(
      1,
      "error: You must provide one or more resources by argument or filename.\n",
    );
  }
  if (kindWord.includes("/")) {
    [kindWord, ...names] = [kindWord.split("/")[0], kindWord.split("/")[1], ...names];
  }
  const kind = resolveKind(kindWord);
  requireType(cluster, kind, kindWord);
  const out: string[] = [];
  for (const name of names) {
    const key = CLUSTER_SCOPED.has(kind) ? name : `${namespaceOf(p)}/${name}`;
    if (!cluster.kube.objects[kind]?.[key]) {
      if (bool(p, "ignore-not-found")) continue;
      throw notFound(kind, name);
    }
    delete cluster.kube.objects[kind][key];
    out.push(`${SINGULAR[kind].split(".")[0]} "${name}" deleted`);
  }
  return out.length ? out.join("\n") + "\n" : "";
}

/**
 * `kubectl top`: a tabwriter table (printers.GetNewTabWriter: padding 3) with the columns of pkg/metricsutil/metrics_printer.go:
 * NodeColumns, PodColumns, and NAMESPACE first for `top pod -A`.
 */
function top(cluster: SimCluster, p: Parsed): string {
  if (!cluster.kube.metrics) throw new SimExit(1, "error: Metrics API not available\n");
  let rows: string[][];
  if (p.path === "top node") {
    rows = [
      ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"],
      ...select(cluster, "nodes", p).map((n) => [n.metadata.name, "120m", "6%", "512Mi", "6%"]),
    ];
  } else {
    const all = bool(p, "all-namespaces");
    rows = [
      [...(all ? ["NAMESPACE"] : []), "NAME", "CPU(cores)", "MEMORY(bytes)"],
      ...select(cluster, "pods", p).map((n) => [
        ...(all ? [n.metadata.namespace] : []),
        n.metadata.name,
        "3m",
        "20Mi",
      ]),
    ];
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  // every cell ends with a tab (printValue), so the last column is padded too
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] + 3)).join("")).join("\n") + "\n";
}

async function createSecretTls(world: World, p: Parsed): Promise<string> {
  const name = p.args[0];
  if (!name) throw new SimExit(1, "error: exactly one NAME is required, got 0\n");
  const dry = flag(p, "dry-run");
  if (dry !== "client") {
    throw new SimExit(
      98,
      "sim: kubectl create secret tls is simulated only with --dry-run=client\n",
    );
  }
  const context = flag(p, "context");
  if (context && !world.kubeconfig.contexts.includes(context)) {
    // the real client (fixtures/kubectl/missing-context-create.json)
    throw new SimExit(1, `error: context "${context}" does not exist\n`);
  }
  const { realTool } = await import("./real.ts");
  const real = realTool("kubectl");
  const cert = flag(p, "cert");
  const key = flag(p, "key");
  if (!cert || !key) throw new SimExit(1, "error: key and cert must be specified\n");
  if (real) {
    // delegate to the real client: its manifest is the one tests must see
    const args = [
      "create",
      "secret",
      "tls",
      name,
      `--cert=${cert}`,
      `--key=${key}`,
      "--dry-run=client",
      `-o=${flag(p, "output") ?? "yaml"}`,
    ];
    if (flag(p, "namespace")) args.push(`--namespace=${flag(p, "namespace")}`);
    const out = await new Deno.Command(real, {
      args,
      stdout: "piped",
      stderr: "piped",
      env: { KUBECONFIG: "/dev/null" },
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (out.code !== 0) throw new SimExit(out.code, new TextDecoder().decode(out.stderr));
    return text;
  }
  const b64 = (path: string) => btoa(String.fromCharCode(...Deno.readFileSync(path)));
  const ns = flag(p, "namespace");
  return `apiVersion: v1\ndata:\n  tls.crt: ${b64(cert)}\n  tls.key: ${
    b64(key)
  }\nkind: Secret\nmetadata:\n  name: ${name}\n${
    ns ? `  namespace: ${ns}\n` : ""
  }type: kubernetes.io/tls\n`;
}
