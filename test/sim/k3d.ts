/** Simulated k3d v5: clusters, nodes, registries and kubeconfig, with k3d's own checks and messages. */
import { bool, flag, type Parsed, referenceDir, SimExit } from "./core.ts";
import { inspectDoc } from "./docker.ts";
import { K3dLog } from "./k3d_log.ts";
import {
  clusterList as k3dClusterList,
  DEFAULT_NODE_ENV,
  imageVolumeBind,
  type InspectDoc,
  loadBalancerConfig,
  nodeList,
  regeneratedLoadBalancerConfig,
} from "./k3d_types.ts";
import { seedKube, syncNodes } from "./kube.ts";
import { refuseUnmodelledConfig } from "./modelled.ts";
import { restartRegistry, startRegistry, stopRegistry } from "./registry.ts";
import {
  addContainer,
  createNetwork,
  freeAddress,
  hexId,
  readdress,
  removeNetwork,
  type SimCluster,
  type SimContainer,
  type World,
} from "./world.ts";

/** Default delay of Traefik's CRDs after create (real k3s: tens of seconds; kept short for tests). */
export const TRAEFIK_CRD_DELAY_MS = 2500;

const NODE_FILTER =
  /^(server|servers|agent|agents|loadbalancer|all)(:((\d+,?)+|\d*-\d*|\*))?(:[A-Za-z]+)?$/;
const API_PORT = /^((\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})|(\S+):)?(\d{1,5}|random)$/;

/** k3d resolves a host name in a port spec to its IPv4 address (the host's resolver; loopback names only here). */
function hostAddress(host: string | undefined): string {
  if (host === undefined) return "0.0.0.0";
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return host;
  if (host === "localhost") return "127.0.0.1";
  throw fatal(
    `failed to lookup host '${host}' specified for Port Exposure: lookup ${host}: no such host`,
  );
}

/** This run's log (k3d_log.ts): INFO on stdout, WARN/ERRO/FATA on stderr, coloured unless LOG_COLORS=false. */
let log = new K3dLog();

function fatal(message: string): SimExit {
  return log.fatal(message);
}

/** Is this k3d call a change? */
export function k3dMutating(p: Parsed): boolean {
  return /^(cluster (create|delete|edit|start|stop)|node (create|delete|edit|start|stop)|registry (create|delete)|kubeconfig merge|image import)$/
    .test(p.path);
}

/** Runs a k3d command against the world. Returns stdout; throws SimExit on failure. */
export async function k3d(world: World, p: Parsed, stderr: string[]): Promise<string> {
  log = new K3dLog();
  // cmd/root.go initRuntime (cobra.OnInitialize, every command): DEBUG, so on stdout
  if (world.docker.running && !world.dockerDenied) {
    log.debug(
      `Runtime Info:\n&{Name:docker Endpoint:/var/run/docker.sock Version:${world.docker.serverVersion} OSType:linux OS:Debian GNU/Linux 12 (bookworm) Arch:x86_64 CgroupVersion:2 CgroupDriver:systemd Filesystem:extfs InfoName:sim}`,
    );
  }
  const stdout = await command(world, p);
  stderr.push(...log.err);
  return log.text("out") + stdout;
}

async function command(world: World, p: Parsed): Promise<string> {
  if (!p.path) throw new SimExit(1, `Error: unknown command "${p.args[0] ?? ""}" for "k3d"\n`);
  if (p.path !== "version" && world.dockerDenied) {
    throw fatal(
      `runtime docker failed: permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.47/containers/json": dial unix /var/run/docker.sock: connect: permission denied`,
    );
  }
  if (p.path !== "version" && !world.docker.running) {
    throw fatal(
      "runtime docker failed: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
    );
  }
  switch (p.path) {
    case "version":
      if (flag(p, "output") === "json") {
        return JSON.stringify({ k3d: world.k3dVersion, k3s: world.k3sDefault }) + "\n";
      }
      return `k3d version ${world.k3dVersion}\nk3s version ${world.k3sDefault} (default)\n`;
    case "cluster create":
      return await clusterCreate(world, p);
    case "cluster delete":
      return await clusterDelete(world, p);
    case "cluster list":
      return clusterList(world, p);
    case "cluster edit":
      return clusterEdit(world, p);
    case "cluster start":
    case "cluster stop":
      return clusterStartStop(world, p);
    case "node create":
      return nodeCreate(world, p);
    case "node delete":
      return nodeDelete(world, p);
    case "node list":
      return output(p, nodeList(k3dDocs(world)));
    case "registry create":
      return await registryCreate(world, p);
    case "registry delete":
      return await registryDelete(world, p);
    case "registry list":
      return output(p, nodeList(k3dDocs(world), "registry"));
    case "kubeconfig merge":
      return kubeconfigMerge(world, p);
    case "kubeconfig get":
      return kubeconfigGet(world, p);
    default:
      throw new SimExit(98, `sim: k3d ${p.path} is not simulated\n`);
  }
}

function output(p: Parsed, value: unknown): string {
  const format = flag(p, "output");
  if (format === "json") return JSON.stringify(value) + "\n";
  if (format === "yaml") throw new SimExit(98, "sim: k3d -o yaml is not simulated\n");
  if (format) throw fatal(`Unknown output format '${format}'`);
  throw new SimExit(98, "sim: k3d table output is not simulated; use -o json\n");
}

/**
 * Docker's documents of the k3d containers, in the order the engine lists them: newest first
 * (the containers API sorts by creation; pkg/runtimes/docker/node.go:167 keeps that order).
 */
function k3dDocs(world: World): InspectDoc[] {
  return Object.values(world.containers).filter((c) => c.labels.app === "k3d").reverse()
    .map((c) => inspectDoc(world, c));
}

/** `k3d cluster list [NAME…] -o json`, as k3d_types.ts derives it from the engine's documents. */
function clusterList(world: World, p: Parsed): string {
  const list = k3dClusterList(k3dDocs(world), p.args, {
    // pkg/client/cluster.go:339 the image volume, labelled k3d.cluster=NAME
    volumes: (name) => world.clusters[name] ? [`k3d-${name}-images`] : [],
    // what LoadbalancerPrepare wrote into the load balancer (pkg/client/cluster.go:580)
    lbConfig: (name) => world.clusters[name]?.lbConfig,
  });
  // cmd/cluster/clusterList.go:92: Fatalln(err) of ClusterGet's ClusterGetNoNodesFoundError
  if (!list) throw fatal("No nodes found for given cluster");
  return output(p, list);
}

// ---------- cluster create ----------

interface CreateSpec {
  name: string;
  servers: number;
  agents: number;
  image: string;
  apiHost: string;
  apiHostIp: string;
  apiPort: string;
  ports: { port: string; nodeFilters: string[] }[];
  k3sArgs: { arg: string; nodeFilters: string[] }[];
  registriesUse: string[];
  /** `--registry-create` / `registries.create`, before pkg/config/transform.go fills it in */
  registryCreate?: { name: string; host: string; hostPort: string; image: string };
  updateKubeconfig: boolean;
  switchContext: boolean;
  wait: boolean;
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw fatal(`Failed to read config file ${path}: open ${path}: no such file or directory`);
  }
  let doc: unknown;
  // loaded only here: the YAML library is most of a simulated call's start-up
  const { parse: parseYaml } = await import("yaml");
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw fatal(`Failed to read config file ${path}: ${(err as Error).message.split("\n")[0]}`);
  }
  const schema = JSON.parse(await Deno.readTextFile(`${referenceDir()}/k3d-v1alpha5-schema.json`));
  const { validateSchema } = await import("./schema.ts");
  const problems = validateSchema(doc, schema);
  if (problems.length) {
    throw fatal(
      `Schema Validation failed for config file ${path}: - ${
        problems.join("\n- ")
      }\nFATA[0000] Failed to validate config file ${path}`,
    );
  }
  refuseUnmodelledConfig(doc, path);
  return doc as Record<string, unknown>;
}

function checkNodeFilters(filters: string[], what: string): void {
  for (const f of filters) {
    if (!NODE_FILTER.test(f)) {
      throw fatal(
        `Failed to parse node filters: invalid format or empty subset in '${f}' (${what})`,
      );
    }
  }
}

function splitFilter(spec: string): { value: string; nodeFilters: string[] } {
  const parts = spec.split(/(?<!\\)@/);
  if (parts.length > 2) {
    throw fatal(
      `invalid flag '${spec}': only one unescaped '@' allowed for node filter(s) (Escape literal '@' with '\\')`,
    );
  }
  return { value: parts[0], nodeFilters: parts[1] ? parts[1].split(";") : [] };
}

async function buildSpec(p: Parsed): Promise<CreateSpec> {
  // deno-lint-ignore no-explicit-any
  const cfg: any = flag(p, "config") ? await readConfigFile(flag(p, "config")!) : {};
  const opts = cfg.options ?? {};
  const spec: CreateSpec = {
    name: p.args[0] ?? cfg.metadata?.name ?? "k3s-default",
    servers: Math.trunc(Number(flag(p, "servers") ?? cfg.servers ?? 1)),
    agents: Math.trunc(Number(flag(p, "agents") ?? cfg.agents ?? 0)),
    image: flag(p, "image") ?? cfg.image ?? "",
    apiHost: cfg.kubeAPI?.host ?? "",
    // pkg/config/transform.go:91-93: HostIP defaults to 0.0.0.0 (k3d.DefaultAPIHost)
    apiHostIp: cfg.kubeAPI?.hostIP || "0.0.0.0",
    apiPort: cfg.kubeAPI?.hostPort ?? "",
    ports: (cfg.ports ?? []).map((x: { port: string; nodeFilters?: string[] }) => ({
      port: x.port,
      nodeFilters: x.nodeFilters ?? [],
    })),
    k3sArgs: (opts.k3s?.extraArgs ?? []).map((x: { arg: string; nodeFilters?: string[] }) => ({
      arg: x.arg,
      nodeFilters: x.nodeFilters ?? [],
    })),
    registriesUse: cfg.registries?.use ?? [],
    updateKubeconfig: opts.kubeconfig?.updateDefaultKubeconfig ?? true,
    switchContext: opts.kubeconfig?.switchCurrentContext ?? true,
    wait: opts.k3d?.wait ?? true,
  };
  if (p.args.length > 1) throw fatal(`accepts at most 1 arg(s), received ${p.args.length}`);
  // the simulated create always waits for its servers and ends at once: within any timeout
  if (flag(p, "wait") === "false" || opts.k3d?.wait === false) {
    throw new SimExit(98, "sim: k3d cluster create without --wait is not simulated\n");
  }
  const timeout = flag(p, "timeout") ?? opts.k3d?.timeout;
  if (timeout !== undefined && !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$|^0$/.test(String(timeout))) {
    throw fatal(
      `invalid argument "${timeout}" for "--timeout" flag: time: invalid duration "${timeout}"`,
    );
  }
  const apiFlag = flag(p, "api-port");
  if (apiFlag !== undefined) {
    const m = API_PORT.exec(apiFlag);
    if (!m) {
      throw fatal(
        `failed to parse Port Exposure specification '${apiFlag}': Format must be [(HostIP|HostName):]HostPort`,
      );
    }
    // cmd/cluster/clusterCreate.go:372-379 the flag replaces the config's whole kubeAPI, and
    // cmd/util/ports.go:40 ParsePortExposureSpec: a host reference (an IP too, which the
    // regexp's `hostname` alternative takes with its colon) is looked up and kept as the Host
    spec.apiPort = m[4];
    spec.apiHost = m[3] ?? "";
    spec.apiHostIp = hostAddress(m[2] ?? m[3]);
  }
  // pkg/config/transform.go:94-96: Host defaults to HostIP (the --tls-san and the api.host label)
  if (!spec.apiHost) spec.apiHost = spec.apiHostIp;
  for (const f of p.flags["port"] ?? []) {
    const { value, nodeFilters } = splitFilter(f);
    spec.ports.push({ port: value, nodeFilters });
  }
  for (const f of p.flags["k3s-arg"] ?? []) {
    const { value, nodeFilters } = splitFilter(f);
    spec.k3sArgs.push({ arg: value, nodeFilters });
  }
  spec.registriesUse.push(...(p.flags["registry-use"] ?? []));
  spec.registryCreate = registryCreateSpec(p, cfg.registries?.create);
  if (bool(p, "kubeconfig-switch-context")) spec.switchContext = true;
  if (bool(p, "kubeconfig-update-default")) spec.updateKubeconfig = true;
  for (const x of spec.ports) {
    checkNodeFilters(x.nodeFilters, `port ${x.port}`);
    if (spec.servers + spec.agents > 1 && x.nodeFilters.length === 0) {
      throw fatal(
        `Failed to parse port '${x.port}': no node filter specified but more than one node`,
      );
    }
  }
  for (const x of spec.k3sArgs) checkNodeFilters(x.nodeFilters, `k3s-arg ${x.arg}`);
  return spec;
}

/**
 * The registry a cluster create makes (k3d v5.8.3, pkg/config/transform.go:312): whenever the
 * config has `registries.create` or `--registry-create` is given, even empty (v5.9.0 added a check
 * that makes nothing then). `--registry-create NAME[:HOST][:HOSTPORT]`
 * (cmd/cluster/clusterCreate.go:570-584) splits at the first ":" and parses the rest as a port
 * exposure (cmd/util/ports.go:40): its host reference, an IP too, is kept as the host, which the
 * registry then binds (transform.go:319-323), 0.0.0.0 without one.
 */
function registryCreateSpec(
  p: Parsed,
  // deno-lint-ignore no-explicit-any
  cfg: any,
): CreateSpec["registryCreate"] {
  let create = cfg
    ? {
      name: String(cfg.name ?? ""),
      host: String(cfg.host ?? ""),
      hostPort: String(cfg.hostPort ?? ""),
      image: String(cfg.image ?? ""),
    }
    : undefined;
  const value = flag(p, "registry-create");
  if (value !== undefined) {
    const at = value.indexOf(":");
    create ??= { name: "", host: "", hostPort: "", image: "" };
    create.name = at < 0 ? value : value.slice(0, at);
    if (at >= 0) {
      const rest = value.slice(at + 1);
      const m = API_PORT.exec(rest);
      if (!m) {
        throw fatal(
          `failed to registry port spec: failed to parse Port Exposure specification '${rest}': Format must be [(HostIP|HostName):]HostPort`,
        );
      }
      if (m[3]) hostAddress(m[3]);
      create.host = m[3] ?? "";
      create.hostPort = m[4] === "random" ? "" : m[4];
    }
  }
  return create;
}

function checkName(name: string): void {
  if (name.length > 32) {
    throw fatal(
      `Failed to create cluster '${name}': cluster name must be <= 32 characters, but is ${name.length}`,
    );
  }
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(name)) {
    throw fatal(
      `Failed to create cluster '${name}': invalid cluster name: must be a valid hostname`,
    );
  }
}

/** Host ports held by containers, "ip:port" → container name. */
function heldPorts(world: World): Map<string, string> {
  const held = new Map<string, string>();
  for (const c of Object.values(world.containers)) {
    if (!c.running) continue;
    for (const bindings of Object.values(c.ports)) {
      for (const b of bindings) held.set(b.HostPort, c.name);
    }
  }
  return held;
}

/** Docker's refusal of a published port another container or process holds, or undefined. */
function portProblem(
  world: World,
  hostIp: string,
  port: string,
  container: string,
): string | undefined {
  const holder = heldPorts(world).get(port);
  const endpoint = `driver failed programming external connectivity on endpoint ${container} (${
    hexId(container)
  })`;
  if (holder && holder !== container) {
    return `Error response from daemon: ${endpoint}: Bind for ${
      hostIp || "0.0.0.0"
    }:${port} failed: port is already allocated`;
  }
  try {
    const l = Deno.listen({
      hostname: hostIp === "127.0.0.1" ? "127.0.0.1" : "0.0.0.0",
      port: Number(port),
    });
    l.close();
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      return `Error response from daemon: ${endpoint}: Error starting userland proxy: listen tcp4 ${
        hostIp || "0.0.0.0"
      }:${port}: bind: address already in use`;
    }
  }
  return undefined;
}

/** k3d's wording when Docker cannot start a node (pkg/client/node.go, pkg/runtimes/docker/node.go). */
function startFailure(node: string, daemon: string): string {
  return `runtime failed to start node '${node}': docker failed to start container for node '${node}': ${daemon}`;
}

async function clusterCreate(world: World, p: Parsed): Promise<string> {
  const spec = await buildSpec(p);
  checkName(spec.name);
  // cmd/cluster/clusterCreate.go:146 ClusterGet (pkg/client/cluster.go:826): any container labelled
  // for the cluster makes it exist, a registry `k3d cluster delete` kept (on another network) too
  const labelled = Object.values(world.containers).some((c) =>
    c.labels["k3d.cluster"] === spec.name
  );
  if (world.clusters[spec.name] || labelled) {
    throw fatal(
      `Failed to create cluster '${spec.name}' because a cluster with that name already exists`,
    );
  }
  if (spec.servers < 1) throw fatal("Failed to create cluster: no server nodes specified");
  const tag = spec.image ? spec.image.split(":")[1] ?? "latest" : world.k3sDefault;
  const image = spec.image || `rancher/k3s:${world.k3sDefault}`;
  if (!/^v\d+\.\d+\.\d+-k3s\d+$/.test(tag)) {
    throw fatal(
      `Failed to create cluster '${spec.name}': failed to pull image '${image}': manifest unknown`,
    );
  }
  const apiPort = spec.apiPort === "" || spec.apiPort === "random"
    ? String(20000 + (world.serial % 40000))
    : spec.apiPort;
  const lbName = `k3d-${spec.name}-serverlb`;
  // Docker refuses a taken port only when the load balancer starts, after the nodes exist
  let lbProblem = portProblem(world, spec.apiHostIp, apiPort, lbName);
  // pkg/client/loadbalancer.go LoadbalancerPrepare: Ports[k3d.DefaultAPIPort], the bare "6443";
  // Engine 20.10 to 28 keeps that key (fixtures/docker/port-bindings-bare-key.json), Engine 29
  // stores it as "6443/tcp", and k3d reads back what the engine stores (translate.go:331)
  const apiKey = Number(world.docker.serverVersion.split(".")[0]) >= 29 ? "6443/tcp" : "6443";
  const lbPorts: Record<string, { HostIp: string; HostPort: string }[]> = {
    [apiKey]: [{ HostIp: spec.apiHostIp, HostPort: apiPort }],
  };
  for (const x of spec.ports) {
    const m = /^(?:([\d.]+):)?(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(x.port);
    if (!m) {
      throw fatal(
        `Failed to parse port '${x.port}': Format must be [HostIP:][HostPort:]ContainerPort[/Protocol]`,
      );
    }
    if (!x.nodeFilters.every((f) => f.startsWith("loadbalancer"))) {
      throw new SimExit(
        98,
        `sim: port mappings on nodes other than the load balancer are not simulated (${x.port})\n`,
      );
    }
    lbProblem ??= portProblem(world, m[1] ?? "0.0.0.0", m[2], lbName);
    lbPorts[`${m[3]}/${m[4] ?? "tcp"}`] = [{ HostIp: m[1] ?? "0.0.0.0", HostPort: m[2] }];
  }
  const registries: SimContainer[] = [];
  for (const use of spec.registriesUse) {
    const host = use.split(":")[0];
    const reg = world.containers[host] ?? world.containers[`k3d-${host}`];
    if (!reg || reg.labels["k3d.role"] !== "registry") {
      throw fatal(
        `Failed to create cluster '${spec.name}': failed to find registry '${host}': No such container: ${host}`,
      );
    }
    registries.push(reg);
  }
  // pkg/client/cluster.go:179 a registry made with the cluster (unless the use list names it);
  // its name, host and port from pkg/config/transform.go:312-345
  const made = spec.registryCreate;
  const makeRegistry = made && !spec.registriesUse.some((u) => u.split(":")[0] === made.name)
    ? {
      name: made.name || `k3d-${spec.name}-registry`,
      host: made.host,
      hostIp: hostAddress(made.host || undefined),
      hostPort: made.hostPort || String(30000 + (world.serial % 20000)),
      image: made.image || "docker.io/library/registry:2",
    }
    : undefined;
  if (makeRegistry) {
    const problem = registryProblem(world, makeRegistry.name, makeRegistry);
    if (problem) throw fatal(`Failed to create cluster '${spec.name}': ${problem}`);
  }
  let podCidr = "10.42.0.0/16";
  let serviceCidr = "10.43.0.0/16";
  for (const a of spec.k3sArgs) {
    const m = /^--(cluster-cidr|service-cidr)=(.+)$/.exec(a.arg);
    if (m && m[1] === "cluster-cidr") podCidr = m[2];
    if (m && m[1] === "service-cidr") serviceCidr = m[2];
  }

  log.info(`Prep: Network`);
  const network = `k3d-${spec.name}`;
  const net = createNetwork(world, network, { app: "k3d" });
  log.info(`Created network '${network}'`);
  log.info(`Created image volume k3d-${spec.name}-images`);
  const cluster: SimCluster = {
    name: spec.name,
    token: hexId(`token:${spec.name}`).slice(0, 20),
    network,
    image,
    apiHost: spec.apiHost,
    apiHostIp: spec.apiHostIp,
    apiPort,
    created: new Date().toISOString(),
    podCidr,
    serviceCidr,
    registriesUse: spec.registriesUse,
    kube: { objects: {}, logs: {}, resourceVersion: 100, metrics: true },
  };
  world.clusters[spec.name] = cluster;
  if (makeRegistry) {
    registries.push(
      await addRegistry(world, { ...makeRegistry, cluster: spec.name }),
    );
    cluster.registriesUse = [...spec.registriesUse, `${makeRegistry.name}:5000`];
  }
  const baseLabels = (role: string): Record<string, string> => ({
    app: "k3d",
    "k3d.cluster": spec.name,
    "k3d.cluster.network": network,
    "k3d.cluster.network.id": net.id,
    "k3d.cluster.network.iprange": net.subnet,
    "k3d.cluster.network.external": "false",
    "k3d.cluster.token": cluster.token,
    "k3d.cluster.url": `https://k3d-${spec.name}-server-0:6443`,
    "k3d.cluster.imageVolume": `k3d-${spec.name}-images`,
    "k3d.role": role,
    // pkg/client/cluster.go:433: on every node, "" with --no-lb
    "k3d.server.loadbalancer": lbName,
    "k3d.version": world.k3dVersion,
  });
  // pkg/client/cluster.go:350: the image volume on every node made from the config, the load
  // balancer too (pkg/config/transform.go:129 puts it among them)
  const binds = [imageVolumeBind(spec.name)];
  // nodeSetup (pkg/client/cluster.go:440-478) then NodeCreate (pkg/client/node.go:620)
  const token = `K3S_TOKEN=${cluster.token}`;
  const url = `K3S_URL=https://k3d-${spec.name}-server-0:6443`;
  // pkg/client/cluster.go: the tools node starts first and holds an address until create ends
  log.info(`Starting new tools node...`);
  const tools = addContainer(world, {
    name: `k3d-${spec.name}-tools`,
    image: `ghcr.io/k3d-io/k3d-tools:${world.k3dVersion.slice(1)}`,
    labels: baseLabels("noRole"),
    running: true,
    cmd: ["noop"],
    env: [],
    ports: {},
    network,
  });
  log.info(`Starting node '${tools.name}'`);
  for (let i = 0; i < spec.servers; i++) {
    log.info(`Creating node 'k3d-${spec.name}-server-${i}'`);
    const labels = baseLabels("server");
    // nodeSetup sets ServerOpts.KubeAPI on every server; patchServerSpec writes these labels
    labels["k3d.server.api.port"] = apiPort;
    labels["k3d.server.api.host"] = spec.apiHost;
    labels["k3d.server.api.hostIP"] = spec.apiHostIp;
    if (spec.servers > 1) labels["k3d.server.init"] = i === 0 ? "true" : "false";
    const args = spec.k3sArgs.filter((a) => matchesFilter(a.nodeFilters, "server", i)).map((a) =>
      a.arg
    );
    addContainer(world, {
      name: `k3d-${spec.name}-server-${i}`,
      image,
      labels,
      running: true,
      cmd: [
        "server",
        ...args,
        // pkg/client/cluster.go:499 appends it to the init node's args, before patchServerSpec's
        // --tls-san pairs (pkg/client/node.go:741-744)
        ...(spec.servers > 1 && i === 0 ? ["--cluster-init"] : []),
        "--tls-san",
        spec.apiHost,
        "--tls-san",
        `k3d-${spec.name}-serverlb`,
      ],
      // a server joining the init server also gets its URL (pkg/client/cluster.go:472-475)
      env: [token, ...(spec.servers > 1 && i > 0 ? [url] : []), ...DEFAULT_NODE_ENV],
      binds,
      ports: {},
      network,
    });
  }
  for (let i = 0; i < spec.agents; i++) {
    log.info(`Creating node 'k3d-${spec.name}-agent-${i}'`);
    const args = spec.k3sArgs.filter((a) => matchesFilter(a.nodeFilters, "agent", i)).map((a) =>
      a.arg
    );
    addContainer(world, {
      name: `k3d-${spec.name}-agent-${i}`,
      image,
      labels: baseLabels("agent"),
      running: true,
      cmd: ["agent", ...args],
      env: [token, url, ...DEFAULT_NODE_ENV],
      binds,
      ports: {},
      network,
    });
  }
  if (spec.servers === 2) {
    log.warn(
      "You're creating 2 server nodes: Please consider creating at least 3 to achieve etcd quorum & fault tolerance",
    );
  }
  log.info(`Creating LoadBalancer 'k3d-${spec.name}-serverlb'`);
  addContainer(world, {
    name: lbName,
    image: `ghcr.io/k3d-io/k3d-proxy:${world.k3dVersion.slice(1)}`,
    labels: baseLabels("loadbalancer"),
    running: true,
    // k3d gives none and the proxy image's ENTRYPOINT clears its base's CMD: the engine stores null
    cmd: null,
    env: DEFAULT_NODE_ENV,
    binds,
    ports: lbPorts,
    network,
  });
  // the file LoadbalancerPrepare's config becomes (pkg/client/cluster.go:580)
  cluster.lbConfig = loadBalancerConfig(
    Object.keys(lbPorts).filter((k) => !k.startsWith("6443")),
    roleNames(world, spec.name, "server"),
    roleNames(world, spec.name, "agent"),
  );
  for (const reg of registries) {
    reg.networks[network] = { ip: freeAddress(world, network) };
    log.info(`Connecting registry '${reg.name}' to network '${network}'`);
  }
  log.info(`Starting cluster '${spec.name}'`);
  log.info("Starting servers...");
  log.info("Starting helpers...");
  if (lbProblem) {
    for (const r of registries) if (r.labels["k3d.cluster"] === spec.name) await stopRegistry(r);
    // cmd/cluster/clusterCreate.go: the error, then the rollback, then Fatal
    log.error(
      `Failed Cluster Start: Failed to add one or more helper nodes: ${
        startFailure(lbName, lbProblem)
      }`,
    );
    log.error("Failed to create cluster >>> Rolling Back");
    log.info(`Deleting cluster '${spec.name}'`);
    log.info(`Deleting cluster network '${network}'`);
    throw fatal("Cluster creation FAILED, all changes have been rolled back!");
  }
  delete world.containers[tools.name];
  // k3s applies Traefik's CRDs with the traefik-crd HelmChart job, after the API answers
  cluster.traefikCrdsAt = spec.k3sArgs.some((a) => /^--disable=(.*,)?traefik(,|$)/.test(a.arg))
    ? null
    : new Date(Date.now() + (world.traefikCrdDelayMs ?? TRAEFIK_CRD_DELAY_MS)).toISOString();
  seedKube(world, cluster);
  if (spec.updateKubeconfig) {
    addContext(world, spec.name, spec.switchContext);
    log.info(`Updating default kubeconfig with a new context for cluster ${spec.name}`);
  }
  log.info(`Cluster '${spec.name}' created successfully!`);
  return "";
}

function matchesFilter(filters: string[], role: string, index: number): boolean {
  if (filters.length === 0) return role === "server";
  return filters.some((f) => {
    const [group, subset] = f.split(":");
    if (group === "all") return true;
    if (!group.startsWith(role)) return false;
    if (!subset || subset === "*") return true;
    if (subset.includes("-")) {
      const [a, b] = subset.split("-");
      return index >= Number(a || 0) && index <= Number(b || 9999);
    }
    return subset.split(",").map(Number).includes(index);
  });
}

function addContext(world: World, name: string, switchTo: boolean): void {
  const ctx = `k3d-${name}`;
  if (!world.kubeconfig.contexts.includes(ctx)) world.kubeconfig.contexts.push(ctx);
  if (switchTo) world.kubeconfig.current = ctx;
}

async function clusterDelete(world: World, p: Parsed): Promise<string> {
  const names = bool(p, "all")
    ? Object.keys(world.clusters)
    : p.args.length
    ? p.args
    : ["k3s-default"];
  for (const name of names) {
    const cluster = world.clusters[name];
    if (!cluster) {
      log.info(`No nodes found for cluster '${name}', nothing to delete.`);
      continue;
    }
    log.info(`Deleting cluster '${name}'`);
    for (const c of Object.values(world.containers)) {
      const registry = c.labels["k3d.role"] === "registry";
      // pkg/client/cluster.go:632 ClusterDelete: every node of the cluster goes, its registry too,
      // unless that registry is on another network than the cluster's, `bridge` and `host`
      const elsewhere = registry &&
        Object.keys(c.networks).some((n) => ![cluster.network, "bridge", "host"].includes(n));
      if (c.labels["k3d.cluster"] === name && !elsewhere) {
        log.info(`Deleting node '${c.name}'`);
        if (c.real) await stopRegistry(c);
        delete world.containers[c.name];
      } else if (registry) delete c.networks[cluster.network];
    }
    removeNetwork(world, cluster.network);
    log.info(`Deleting cluster network '${cluster.network}'`);
    delete world.clusters[name];
    const ctx = `k3d-${name}`;
    world.kubeconfig.contexts = world.kubeconfig.contexts.filter((c) => c !== ctx);
    if (world.kubeconfig.current === ctx) world.kubeconfig.current = "";
    log.info(`Removing cluster details from default kubeconfig...`);
    log.info(`Successfully deleted cluster ${name}!`);
  }
  await Promise.resolve();
  return "";
}

async function clusterStartStop(world: World, p: Parsed): Promise<string> {
  const start = p.path === "cluster start";
  const names = bool(p, "all") ? Object.keys(world.clusters) : p.args;
  if (!names.length) throw fatal("No clusters specified");
  for (const name of names) {
    const cluster = world.clusters[name];
    if (!cluster) throw fatal(`failed to get cluster ${name}: No nodes found for given cluster`);
    log.info(`${start ? "Starting" : "Stopping"} cluster '${name}'`);
    // ClusterStart/ClusterStop: every node of the cluster, its registry too (`aux`)
    const nodes = Object.values(world.containers).filter((c) =>
      c.labels["k3d.cluster"] === name && c.running !== start
    );
    // ClusterStart (pkg/client/cluster.go): init server, servers by name, agents, then helpers;
    // each started container takes the lowest free address, which may not be its old one
    const order = (c: SimContainer) =>
      c.labels["k3d.server.init"] === "true"
        ? 0
        : c.labels["k3d.role"] === "server"
        ? 1
        : c.labels["k3d.role"] === "agent"
        ? 2
        : 3;
    nodes.sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name));
    for (const c of nodes) {
      if (start && c.real) await restartRegistry(c);
      if (!start && c.real) await stopRegistry(c);
      if (start) {
        readdress(world, c);
        c.started = new Date().toISOString();
      } else c.running = false;
    }
    syncNodes(world, cluster);
    log.info(start ? `Started cluster '${name}'` : `Stopped cluster '${name}'`);
  }
  return "";
}

function clusterEdit(world: World, p: Parsed): string {
  const name = p.args[0];
  if (!name) throw fatal("accepts 1 arg(s), received 0");
  const cluster = world.clusters[name];
  if (!cluster) throw fatal(`failed to get cluster ${name}: No nodes found for given cluster`);
  const lb = world.containers[`k3d-${name}-serverlb`];
  for (const f of p.flags["port-add"] ?? []) {
    const { value, nodeFilters } = splitFilter(f);
    checkNodeFilters(nodeFilters, `port ${value}`);
    const m = /^(?:([\d.]+):)?(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(value);
    if (!m) throw fatal(`Failed to parse port '${value}'`);
    const problem = portProblem(world, m[1] ?? "0.0.0.0", m[2], lb.name);
    if (problem) {
      throw fatal(`Failed to update cluster '${name}': ${startFailure(lb.name, problem)}`);
    }
    lb.ports[`${m[3]}/${m[4] ?? "tcp"}`] = [{ HostIp: m[1] ?? "0.0.0.0", HostPort: m[2] }];
    log.info(`Adding port mapping ${value} to loadbalancer`);
  }
  log.info(`Successfully updated cluster '${name}'`);
  return "";
}

function nodeCreate(world: World, p: Parsed): string {
  const name = p.args[0];
  if (!name) throw fatal("accepts 1 arg(s), received 0");
  if (flag(p, "wait") === "false") {
    throw new SimExit(98, "sim: k3d node create without --wait is not simulated\n");
  }
  const clusterName = flag(p, "cluster") ?? "k3s-default";
  const role = flag(p, "role") ?? "agent";
  if (role !== "agent" && role !== "server") throw fatal(`Unknown node role '${role}'`);
  const cluster = world.clusters[clusterName];
  if (!cluster) {
    throw fatal(
      `Failed to add nodes to cluster '${clusterName}': Failed to find specified cluster '${clusterName}'`,
    );
  }
  const replicas = Number(flag(p, "replicas") ?? 1);
  const server = world.containers[`k3d-${clusterName}-server-0`];
  for (let i = 0; i < replicas; i++) {
    const nodeName = `k3d-${name}-${i}`;
    if (world.containers[nodeName]) {
      throw fatal(`Failed to create node '${nodeName}': a container with that name already exists`);
    }
    log.info(`Adding ${replicas} node(s) to the runtime local cluster '${clusterName}'...`);
    const labels = Object.fromEntries(
      Object.entries(server.labels).filter(([k]) => !k.startsWith("k3d.server.")),
    );
    labels["k3d.role"] = role;
    // pkg/client/node.go:100-232 NodeAddToCluster: a copy of a node of the same role (its
    // volumes and its env as the engine stores it), with K3S_URL and K3S_TOKEN set, then NodeCreate
    // appends its defaults once more (node.go:620)
    const src = Object.values(world.containers).find((c) =>
      c.labels["k3d.cluster"] === clusterName && c.labels["k3d.role"] === role
    ) ?? server;
    const env = (src.env ?? []).filter((e) =>
      !/^K3S_(URL|TOKEN)=/.test(e)
    );
    addContainer(world, {
      name: nodeName,
      image: flag(p, "image") ?? cluster.image,
      labels,
      running: true,
      cmd: [role],
      env: [
        ...env,
        `K3S_URL=https://k3d-${clusterName}-server-0:6443`,
        `K3S_TOKEN=${cluster.token}`,
        ...DEFAULT_NODE_ENV,
      ],
      binds: src.binds,
      ports: {},
      network: cluster.network,
    });
    log.info(`Starting node '${nodeName}'`);
  }
  if (role === "server") rewriteLoadBalancerConfig(world, clusterName);
  syncNodes(world, cluster);
  log.info(`Successfully created ${replicas} node(s)!`);
  return "";
}

/** The names of a cluster's nodes of one role. */
function roleNames(world: World, cluster: string, role: string): string[] {
  return Object.values(world.containers).filter((c) =>
    c.labels["k3d.cluster"] === cluster && c.labels["k3d.role"] === role
  ).map((c) => c.name);
}

/** A server joined or left: k3d writes the load balancer's config anew (k3d_types.ts). */
function rewriteLoadBalancerConfig(world: World, cluster: string): void {
  const lb = world.containers[`k3d-${cluster}-serverlb`];
  if (!lb) return;
  // ClusterGet's nodes, in the engine's order: newest first
  world.clusters[cluster].lbConfig = regeneratedLoadBalancerConfig(
    Object.keys(lb.ports),
    roleNames(world, cluster, "server").reverse(),
  );
}

function nodeDelete(world: World, p: Parsed): string {
  if (p.args.length === 0) {
    log.info("No nodes found");
    return "";
  }
  for (const name of p.args) {
    const c = world.containers[name];
    if (!c || c.labels.app !== "k3d") {
      throw fatal(`Failed to get nodes: No node found with name '${name}'`);
    }
    delete world.containers[name];
    const cluster = world.clusters[c.labels["k3d.cluster"]];
    if (cluster && c.labels["k3d.role"] === "server") {
      rewriteLoadBalancerConfig(world, cluster.name);
    }
    if (cluster) syncNodes(world, cluster);
    log.info(`Deleted ${name}`);
  }
  return "";
}

/** Why k3d would not make registry container `cname` (pkg/client/registry.go:102, its port), or undefined. */
function registryProblem(
  world: World,
  cname: string,
  port: { hostIp: string; hostPort: string },
): string | undefined {
  // the existence check is docker's name filter ^/?(k3d-)?NAME$ (pkg/runtimes/docker/container.go)
  if (world.containers[cname] || world.containers[`k3d-${cname}`]) {
    return "Failed to create registry: A registry node with that name already exists";
  }
  const problem = portProblem(world, port.hostIp, port.hostPort, cname);
  return problem ? `Failed to start registry: ${startFailure(cname, problem)}` : undefined;
}

/**
 * A registry node as pkg/client/registry.go RegistryCreate makes it: on the default `bridge`
 * network, its labels (`:110`, `k3d.cluster` the cluster it was made for, else ""), port 5000
 * published, `Restart`.
 */
async function addRegistry(
  world: World,
  r: {
    name: string;
    host: string;
    hostIp: string;
    hostPort: string;
    image: string;
    cluster: string;
  },
): Promise<SimContainer> {
  const real = await startRegistry({
    name: r.name,
    hostIp: r.hostIp,
    hostPort: r.hostPort,
    host: r.name,
  });
  const container = addContainer(world, {
    name: r.name,
    image: r.image,
    labels: {
      app: "k3d",
      "k3d.role": "registry",
      "k3d.cluster": r.cluster,
      "k3d.registry.host": r.host,
      "k3d.registry.hostIP": r.hostIp,
      "k3d.registry.port.external": r.hostPort,
      "k3d.registry.port.internal": "5000",
      "k3d.version": world.k3dVersion,
    },
    running: true,
    cmd: ["serve", "/etc/docker/registry/config.yml"],
    // Env []string{} (pkg/client/registry.go:76), then NodeCreate's defaults (node.go:620)
    env: DEFAULT_NODE_ENV,
    ports: { "5000/tcp": [{ HostIp: r.hostIp, HostPort: r.hostPort }] },
    network: "bridge",
  });
  container.real = real;
  log.info(`Creating node '${r.name}'`);
  log.info(`Successfully created registry '${r.name}'`);
  return container;
}

async function registryCreate(world: World, p: Parsed): Promise<string> {
  const name = p.args[0];
  if (!name) throw fatal("accepts 1 arg(s), received 0");
  // cmd/registry/registryCreate.go:146: the container is always "k3d-" + NAME, even for "k3d-reg"
  const cname = `k3d-${name}`;
  const portSpec = flag(p, "port") ?? "random";
  const m = API_PORT.exec(portSpec);
  if (!m) {
    log.error("Failed to parse registry port");
    throw fatal(
      `failed to parse Port Exposure specification '${portSpec}': Format must be [(HostIP|HostName):]HostPort`,
    );
  }
  const hostIp = hostAddress(m[2] ?? m[3]);
  const hostPort = m[4] === "random" ? String(30000 + (world.serial % 20000)) : m[4];
  const problem = registryProblem(world, cname, { hostIp, hostPort });
  if (problem) throw fatal(problem);
  const image = flag(p, "image") ?? "docker.io/library/registry:2";
  // cmd/util/ports.go:40: a host reference (an IP too) is kept as the Host, the label
  // k3d.registry.host (pkg/client/registry.go:109)
  await addRegistry(world, { name: cname, host: m[3] ?? "", hostIp, hostPort, image, cluster: "" });
  // logged by RegistryCreate (pkg/client/registry.go) and again by the command
  log.info(`Successfully created registry '${cname}'`);
  const reg = `${cname}:${hostPort}`;
  return `# You can now use the registry like this (example):
# 1. create a new cluster that uses this registry
k3d cluster create --registry-use ${reg}

# 2. tag an existing local image to push it to the registry
docker tag nginx:latest ${reg}/mynginx:v0.1

# 3. push that image to the registry
docker push ${reg}/mynginx:v0.1

# 4. run a pod that uses this image
kubectl run mynginx --image ${reg}/mynginx:v0.1
`;
}

async function registryDelete(world: World, p: Parsed): Promise<string> {
  const names = bool(p, "all")
    ? Object.values(world.containers).filter((c) => c.labels["k3d.role"] === "registry").map((c) =>
      c.name
    )
    : p.args;
  if (names.length === 0) throw fatal("Expecting at least one registry name if `--all` is not set");
  for (const name of names) {
    const c = world.containers[name] ?? world.containers[`k3d-${name}`];
    if (!c || c.labels["k3d.role"] !== "registry") {
      throw fatal(`failed to get nodes: No node found with name '${name}'`);
    }
    await stopRegistry(c);
    delete world.containers[c.name];
    log.info(`Deleting registry '${c.name}'`);
  }
  return "";
}

function kubeconfigMerge(world: World, p: Parsed): string {
  const names = bool(p, "all") ? Object.keys(world.clusters) : p.args;
  for (const name of names) {
    if (!world.clusters[name]) {
      throw fatal(`Failed to get cluster ${name}: No nodes found for given cluster`);
    }
    addContext(world, name, bool(p, "kubeconfig-switch-context"));
    log.info(`Merged kubeconfig of cluster '${name}'`);
  }
  return `${Deno.env.get("HOME") ?? "/root"}/.config/k3d/kubeconfig-${names[0]}.yaml\n`;
}

function kubeconfigGet(world: World, p: Parsed): string {
  const name = p.args[0];
  const cluster = name ? world.clusters[name] : undefined;
  if (!cluster) throw fatal(`Failed to get cluster ${name}: No nodes found for given cluster`);
  return `---
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: c2ltdWxhdGVk
    server: https://${cluster.apiHostIp}:${cluster.apiPort}
  name: k3d-${name}
contexts:
- context:
    cluster: k3d-${name}
    user: admin@k3d-${name}
  name: k3d-${name}
current-context: k3d-${name}
kind: Config
preferences: {}
users:
- name: admin@k3d-${name}
  user:
    client-certificate-data: c2ltdWxhdGVk
    client-key-data: c2ltdWxhdGVk
`;
}
