/**
 * k3d's view of Docker, written from k3d-io/k3d v5.8.3 (every line cited is of that tag):
 * a container's inspect document becomes a `types.Node` (pkg/runtimes/docker/translate.go:197
 * TranslateContainerDetailsToNode), and nodes become what `k3d cluster list -o json` and
 * `k3d registry list -o json` print, encoded as Go's encoding/json encodes k3d's types
 * (pkg/types/types.go): fields in declaration order, `omitempty` ones left out when empty (never
 * a struct), map keys sorted, a nil slice or map `null`.
 *
 * The simulated k3d runs it on the simulated engine's documents, and fixtures/capture.ts on the real
 * engine's (containers made as k3d makes them), so the contract test compares the two engines
 * through one k3d.
 */

// deno-lint-ignore no-explicit-any
type Json = any;

/** The fields of Docker's `ContainerJSON` that TranslateContainerDetailsToNode reads. */
export interface InspectDoc {
  Name: string;
  Image: string;
  Created: string;
  Args?: string[] | null;
  State: { Running: boolean; Status: string };
  HostConfig: {
    Binds?: string[] | null;
    PortBindings?: Record<string, { HostIp: string; HostPort: string }[]> | null;
    RestartPolicy?: { Name: string };
    Memory?: number;
  };
  Config: { Labels?: Record<string, string> | null; Env?: string[] | null; Cmd?: string[] | null };
  NetworkSettings: { Networks?: Record<string, { IPAddress: string }> | null };
}

/**
 * pkg/types/types.go:58 NodeRoles: a role label outside these ("noRole" of the tools node too) reads
 * as "" and is left out.
 */
const ROLES = new Set(["server", "agent", "loadbalancer", "registry"]);

/** Go's encoding/json for a map: keys sorted (encode.go mapEncoder), nil as null. */
function goMap<T>(m: Record<string, T> | null | undefined): Record<string, T> | null {
  if (!m) return null;
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `omitempty`: false, 0, "", nil and empty slices and maps are left out (encode.go isEmptyValue). */
function empty(v: unknown): boolean {
  return v === undefined || v === null || v === false || v === 0 || v === "" ||
    (Array.isArray(v) && v.length === 0) ||
    (typeof v === "object" && !Array.isArray(v) && Object.keys(v as object).length === 0 &&
      (v as { __struct?: true }).__struct !== true);
}

/** Builds an object from [key, value, omitempty?] in declaration order. */
function fields(...list: [string, unknown, boolean?][]): Json {
  const out: Record<string, unknown> = {};
  for (const [k, v, omit] of list) if (!(omit && empty(v))) out[k] = v;
  return out;
}

/** go-units HumanSize (size.go:61): decimal units, four significant digits. */
function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
  let i = 0;
  while (bytes >= 1000 && i < units.length - 1) {
    bytes /= 1000;
    i++;
  }
  return `${Number(bytes.toPrecision(4))}${units[i]}`;
}

/**
 * TranslateContainerDetailsToNode (translate.go:197-343) and the JSON of the types.Node it returns
 * (types.go:286-311). `undefined` for a container without k3d's default label `app=k3d`
 * (translate.go:198-211, ErrRuntimeContainerUnknown).
 */
export function translateNode(d: InspectDoc): Json | undefined {
  const allLabels = d.Config.Labels ?? {};
  if (allLabels.app !== "k3d") return undefined;
  // translate.go:214-218: restart only for "always" and "unless-stopped"
  const policy = d.HostConfig.RestartPolicy?.Name ?? "";
  const restart = policy === "always" || policy === "unless-stopped";
  // translate.go:220-230: networks named "k3d-CLUSTER…" first, then the others (each group in Go's
  // map order: only a node on two networks of one group has no fixed order)
  const names = Object.keys(d.NetworkSettings.Networks ?? {});
  const prefix = `k3d-${allLabels["k3d.cluster"] ?? ""}`;
  const networks = [
    ...names.filter((n) => n.startsWith(prefix)),
    ...names.filter((n) => !n.startsWith(prefix)),
  ];
  // translate.go:237-253: isInitializingServer needs the label and --cluster-init in the args
  const isInit = allLabels["k3d.server.init"] === "true" &&
    (d.Args ?? []).some((a) => a.includes("--cluster-init"));
  // translate.go:256-265: every node's kubeAPI from its k3d.server.api.* labels
  const kubeAPI = fields(
    ["Port", ""],
    ["Binding", {
      HostIp: allLabels["k3d.server.api.hostIP"] ?? "",
      HostPort: allLabels["k3d.server.api.port"] ?? "",
    }],
    ["host", allLabels["k3d.server.api.host"] ?? "", true],
  );
  // translate.go:267-273: only k3d* labels
  const labels = Object.fromEntries(Object.entries(allLabels).filter(([k]) => k.startsWith("k3d")));
  // translate.go:282-286: the memory limit, "" without one
  const memory = d.HostConfig.Memory ? humanSize(d.HostConfig.Memory) : "";
  // translate.go:288-321: the address on the cluster network (label k3d.cluster.network), none
  // on "host"; a zero netip.Addr marshals as "" (netip.Addr.MarshalText)
  const netLabel = labels["k3d.cluster.network"];
  const clusterNet = netLabel ? d.NetworkSettings.Networks?.[netLabel] : undefined;
  const ip = clusterNet && netLabel !== "host" ? clusterNet.IPAddress : "";
  const role = allLabels["k3d.role"];
  // types.go:286-311, filled as translate.go:323-341 fills it
  return fields(
    ["name", d.Name.replace(/^\//, ""), true],
    ["role", ROLES.has(role) ? role : "", true],
    ["image", d.Image, true],
    ["volumes", d.HostConfig.Binds ?? null, true],
    ["env", d.Config.Env ?? null, true],
    ["Cmd", d.Config.Cmd ?? null],
    // translate.go:330: Args is []string{}, left out by omitempty
    ["extraArgs", [], true],
    ["files", null, true],
    ["portMappings", goMap(d.HostConfig.PortBindings), true],
    ["restart", restart, true],
    ["created", d.Created, true],
    ["hostPidMode", false, true],
    ["runtimeLabels", goMap(labels), true],
    ["runtimeUlimits", null, true],
    ["k3sNodeLabels", null, true],
    ["Networks", networks],
    // translate.go does not fill ExtraHosts
    ["ExtraHosts", null],
    // types.go:314 ServerOpts: a struct, never left out; kubeAPI a non-nil pointer
    ["serverOpts", fields(["isInitializingServer", isInit, true], ["kubeAPI", kubeAPI])],
    ["agentOpts", {}],
    ["GPURequest", ""],
    ["Memory", memory],
    // types.go:339 NodeState; Started is not read back
    ["State", { Running: d.State.Running, Status: d.State.Status, Started: "" }],
    ["IP", { IP: ip, Static: Boolean(ip) && Boolean(labels["k3d.node.staticIP"]) }],
    ["hooks", null, true],
    ["K3dEntrypoint", false],
  );
}

/** The file's `ports`: "PORT.PROTO" (Docker's "80/tcp", or a bare "6443") to the nodes it goes to. */
function lbPortTargets(
  ports: string[],
  servers: string[],
  targets: string[],
): Record<string, string[]> {
  const out: Record<string, string[]> = { "6443.tcp": servers };
  for (const port of ports) {
    const [num, proto = "tcp"] = port.split("/");
    out[`${num}.${proto}`] = targets;
  }
  return goMap(out)!;
}

/**
 * The load balancer's config k3d writes at create (pkg/client/cluster.go:580) and ClusterGet reads
 * back: the API port to every server (pkg/config/transform.go:157), and each `@loadbalancer` port
 * to every server and agent (pkg/client/ports.go:46 TransformPorts: a port for the load balancer
 * gets pkg/config/types/types.go:43 DefaultTargetsNodefiltersPortMappings, "servers:*:proxy" and
 * "agents:*:proxy").
 */
export function loadBalancerConfig(
  ports: string[],
  servers: string[],
  agents: string[],
): { ports: Record<string, string[]>; settings: { workerConnections: number } } {
  // types/loadbalancer.go:82 DefaultLoadbalancerWorkerConnections
  return {
    ports: lbPortTargets(ports, servers, [...servers, ...agents]),
    settings: { workerConnections: 1024 },
  };
}

/**
 * The config UpdateLoadbalancerConfig writes when a server joins or leaves (pkg/client/node.go:285,
 * :707; pkg/client/loadbalancer.go:149 LoadbalancerGenerateConfig): every port of the load balancer,
 * the API's among them, to the servers only, and 1024 worker connections plus one per port and
 * server. Agents added or removed leave the file as it was.
 */
export function regeneratedLoadBalancerConfig(
  lbPorts: string[],
  servers: string[],
): { ports: Record<string, string[]>; settings: { workerConnections: number } } {
  return {
    ports: lbPortTargets(lbPorts, servers, servers),
    settings: { workerConnections: 1024 + lbPorts.length * servers.length },
  };
}

/** Cluster roles (types.go:66-75): registries are not cluster nodes in `ClusterList`. */
const CLUSTER_ROLES = new Set(["server", "agent", "loadbalancer"]);

/**
 * `k3d cluster list -o json` (cmd/cluster/clusterList.go:77-160). `containers` are Docker's
 * documents in the order the engine lists them (newest first, pkg/runtimes/docker/node.go:167),
 * which is the order of each cluster's nodes. Without names k3d uses ClusterList
 * (pkg/client/cluster.go:712: nodes of cluster roles, grouped by `k3d.cluster`; then
 * populateClusterFieldsFromLabels `:767`); with names ClusterGet (`:826`: every node labelled for
 * the cluster, registries too, the load balancer with its config, the cluster's volumes).
 * `undefined` when a named cluster has no nodes (`:834` ClusterGetNoNodesFoundError).
 */
export function clusterList(
  containers: InspectDoc[],
  names: string[],
  extra: {
    /** volumes labelled `k3d.cluster=NAME` (volume.go:118 GetVolumesByLabel) */
    volumes: (cluster: string) => string[];
    /** the load balancer's config file (loadbalancer.go:113 GetLoadbalancerConfig) */
    lbConfig: (cluster: string) => unknown;
  },
): Json[] | undefined {
  const nodes = containers.map(translateNode).filter((n) => n !== undefined) as Json[];
  const clusters: { name: string; nodes: Json[]; full: boolean }[] = [];
  if (names.length === 0) {
    for (const node of nodes.filter((n) => CLUSTER_ROLES.has(n.role))) {
      const name = node.runtimeLabels?.["k3d.cluster"] ?? "";
      const found = clusters.find((c) => c.name === name);
      if (found) found.nodes.push(node);
      else clusters.push({ name, nodes: [node], full: false });
    }
  } else {
    for (const name of names) {
      const mine = nodes.filter((n) => n.runtimeLabels?.["k3d.cluster"] === name);
      if (mine.length === 0) return undefined;
      clusters.push({ name, nodes: mine, full: true });
    }
  }
  // pkg/client/cluster.go:1168 SortClusters: by name
  clusters.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return clusters.map((c) => {
    const label = (key: string) =>
      c.nodes.map((n) => n.runtimeLabels?.[key]).find((v) => v !== undefined) ?? "";
    const lb = c.nodes.findLast((n) => n.role === "loadbalancer");
    const count = (role: string, running: boolean) =>
      c.nodes.filter((n) => n.role === role && (!running || n.State.Running)).length;
    // clusterList.go:104-111 jsonOutput: the Cluster (types.go:237-247) and the counts
    return fields(
      ["name", c.name, true],
      // types.go:228 ClusterNetwork: only the name is read back (cluster.go:772)
      [
        "network",
        fields(
          ["name", label("k3d.cluster.network"), true],
          ["id", ""],
          ["isExternal", label("k3d.cluster.network.external") === "true", true],
          ["ipam", { ipPrefix: "", Managed: false }],
          ["Members", null],
        ),
      ],
      // clusterList.go:150: the token is cleared without --token
      ["clusterToken", "", true],
      ["nodes", c.nodes, true],
      ["InitNode", null],
      // clusterList.go:155: cleared
      ["externalDatastore", null, true],
      ["kubeAPI", null, true],
      ["serverLoadBalancer", c.full && lb ? { ...lb, config: extra.lbConfig(c.name) } : null, true],
      ["imageVolume", label("k3d.cluster.imageVolume"), true],
      ["volumes", c.full ? extra.volumes(c.name) : [], true],
      ["serversRunning", count("server", true)],
      ["serversCount", count("server", false)],
      ["agentsRunning", count("agent", true)],
      ["agentsCount", count("agent", false)],
      // loadbalancer.go:95 HasLoadBalancer
      ["hasLoadbalancer", Boolean(lb), true],
    );
  });
}

/**
 * `k3d node list -o json` and `k3d registry list -o json` (cmd/node/nodeList.go,
 * cmd/registry/registryList.go:64-88): without names NodeList (every k3d container), for registries
 * only role registry (`:80`), sorted by name and marshalled by cmd/util/listings.go:62-72.
 */
export function nodeList(containers: InspectDoc[], role?: string): Json[] {
  return containers.map(translateNode).filter((n) => n && (!role || n.role === role))
    .sort((a, b) => (a!.name < b!.name ? -1 : a!.name > b!.name ? 1 : 0)) as Json[];
}

/** The search path an image built without its own gets (BuildKit's default, Linux). */
const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The `Env` of the images k3d runs, which Docker appends to a container's own variables (those it
 * does not set): k3s-io/k3s package/Dockerfile (`ENV PATH="$PATH:/bin/aux"`, `ENV
 * CRI_CONFIG_FILE=…`); k3d-io/k3d proxy/Dockerfile (`FROM nginx:1.27.0-alpine3.19`, `ENV OS`, `ENV
 * ARCH`; of the nginx image's own variables only NGINX_VERSION is modelled); the `registry:2` that
 * .ci/registry_image.sh builds has none (Docker Hub's carries PATH).
 */
export function imageEnv(image: string): string[] {
  const repo = image.replace(/:[^:/]*$/, "").replace(/^docker\.io\/(library\/)?/, "");
  if (repo === "rancher/k3s") {
    return [
      `${DEFAULT_PATH}:/bin/aux`,
      "CRI_CONFIG_FILE=/var/lib/rancher/k3s/agent/etc/crictl.yaml",
    ];
  }
  if (repo === "ghcr.io/k3d-io/k3d-proxy") {
    return [DEFAULT_PATH, "NGINX_VERSION=1.27.0", "OS=linux", "ARCH=amd64"];
  }
  return [];
}

/**
 * A container's `Config.Env` as the engine stores it: its own variables, then each of the image's
 * whose name it does not set (moby daemon/commit.go `merge`).
 */
export function mergeEnv(own: string[], image: string[]): string[] | null {
  const names = new Set(own.map((e) => e.split("=")[0]));
  const env = [...own, ...image.filter((e) => !names.has(e.split("=")[0]))];
  return env.length ? env : null;
}

/** pkg/types/defaults.go:66 DefaultNodeEnv, which NodeCreate (pkg/client/node.go:620) appends to every node. */
export const DEFAULT_NODE_ENV = ["K3S_KUBECONFIG_OUTPUT=/output/kubeconfig.yaml"];

/** pkg/types/defaults.go DefaultImageVolumeMountPath: where each node mounts the image volume. */
export function imageVolumeBind(cluster: string): string {
  return `k3d-${cluster}-images:/k3d/images`;
}

/**
 * A k3d listing with the values that change from run to run (times, image ids, addresses, host
 * ports numbered from 45000 as they first appear, the token, the network's id and range) replaced
 * by fixed ones, so that one engine's
 * listing can be compared with another's.
 */
export function pinK3d(value: unknown): Json {
  // host ports in the order they first appear (the same listing order on both engines)
  const ports = new Map<string, string>();
  const text = JSON.stringify(value)
    .replace(/"created":"[^"]*"/g, '"created":"2026-01-01T00:00:00.000000000Z"')
    .replace(/sha256:[0-9a-f]{64}/g, `sha256:${"0".repeat(64)}`)
    .replace(/"IP":"[^"]+"/g, '"IP":"172.18.0.2"')
    .replace(
      /"(HostPort|k3d\.server\.api\.port|k3d\.registry\.port\.external)":"(\d+)"/g,
      (_, key: string, port: string) => {
        if (!ports.has(port)) ports.set(port, String(45000 + ports.size));
        return `"${key}":"${ports.get(port)}"`;
      },
    )
    .replace(/K3S_TOKEN=[^"]*/g, "K3S_TOKEN=AbCdEfGhIjKlMnOpQrSt")
    .replace(/"k3d\.cluster\.token":"[^"]*"/g, '"k3d.cluster.token":"AbCdEfGhIjKlMnOpQrSt"')
    .replace(/"k3d\.cluster\.network\.id":"[^"]*"/g, `"k3d.cluster.network.id":"${"1".repeat(64)}"`)
    .replace(
      /"k3d\.cluster\.network\.iprange":"[^"]*"/g,
      '"k3d.cluster.network.iprange":"172.18.0.0/16"',
    );
  return JSON.parse(text);
}
