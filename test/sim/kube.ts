/** The Kubernetes objects a fresh k3s cluster has, and helpers to add more (presets). */
import type { KubeObject, KubeStore, SimCluster, World } from "./world.ts";
import { hexId, kubeletVersion } from "./world.ts";

function uid(seed: string): string {
  const h = hexId(seed);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${
    h.slice(20, 32)
  }`;
}

/** Namespaced objects are keyed "ns/name"; cluster-scoped ones "name". */
export const CLUSTER_SCOPED = new Set(["nodes", "namespaces"]);

/** Stores an object, stamping metadata the API server would. */
export function put(kube: KubeStore, kind: string, obj: KubeObject): KubeObject {
  const meta = obj.metadata ??= {};
  const key = CLUSTER_SCOPED.has(kind) ? meta.name : `${meta.namespace ?? "default"}/${meta.name}`;
  if (!CLUSTER_SCOPED.has(kind)) meta.namespace ??= "default";
  const existing = kube.objects[kind]?.[key];
  meta.uid ??= existing?.metadata?.uid ?? uid(`${kind}/${key}/${kube.resourceVersion}`);
  meta.creationTimestamp ??= existing?.metadata?.creationTimestamp ??
    new Date().toISOString().replace(/\.\d+Z$/, "Z");
  meta.resourceVersion = String(++kube.resourceVersion);
  (kube.objects[kind] ??= {})[key] = obj;
  return obj;
}

/** A node object for a k3d node container. */
export function nodeObject(
  name: string,
  role: "server" | "agent",
  ip: string,
  image: string,
): KubeObject {
  const labels: Record<string, string> = {
    "beta.kubernetes.io/arch": "amd64",
    "beta.kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    "kubernetes.io/hostname": name,
    "kubernetes.io/os": "linux",
  };
  if (role === "server") {
    labels["node-role.kubernetes.io/control-plane"] = "true";
    labels["node-role.kubernetes.io/master"] = "true";
  }
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels },
    spec: { podCIDR: "", providerID: `k3s://${name}` },
    status: {
      addresses: [{ address: ip, type: "InternalIP" }, { address: name, type: "Hostname" }],
      conditions: [
        {
          type: "MemoryPressure",
          status: "False",
          reason: "KubeletHasSufficientMemory",
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
        {
          type: "DiskPressure",
          status: "False",
          reason: "KubeletHasNoDiskPressure",
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
        {
          type: "PIDPressure",
          status: "False",
          reason: "KubeletHasSufficientPID",
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
        {
          type: "Ready",
          status: "True",
          reason: "KubeletReady",
          message: "kubelet is posting ready status",
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
      ],
      nodeInfo: {
        architecture: "amd64",
        containerRuntimeVersion: "containerd://1.7.23-k3s2",
        kernelVersion: "6.1.0-28-amd64",
        kubeProxyVersion: kubeletVersion(image),
        kubeletVersion: kubeletVersion(image),
        operatingSystem: "linux",
        osImage: "K3s v1.31 (sim)",
      },
    },
  };
}

/** A Deployment with its pods Running. */
export function addDeployment(
  kube: KubeStore,
  spec: {
    namespace: string;
    name: string;
    replicas?: number;
    labels?: Record<string, string>;
    containers?: string[];
    node?: string;
    available?: boolean;
  },
): void {
  const labels = spec.labels ?? { app: spec.name };
  const replicas = spec.replicas ?? 1;
  const containers = spec.containers ?? [spec.name];
  const available = spec.available ?? true;
  put(kube, "deployments", {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: spec.name, namespace: spec.namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: containers.map((c) => ({ name: c, image: `${c}:latest` })) },
      },
    },
    status: available
      ? {
        replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        updatedReplicas: replicas,
        conditions: [{ type: "Available", status: "True", reason: "MinimumReplicasAvailable" }],
      }
      : {
        replicas,
        unavailableReplicas: replicas,
        conditions: [{ type: "Available", status: "False", reason: "MinimumReplicasUnavailable" }],
      },
  });
  for (let i = 0; i < replicas; i++) {
    const pod = `${spec.name}-${hexId(spec.name).slice(0, 9)}-${
      hexId(`${spec.name}${i}`).slice(0, 5)
    }`;
    addPod(kube, {
      namespace: spec.namespace,
      name: pod,
      labels,
      containers,
      node: spec.node,
      ready: available,
    });
  }
}

/**
 * A rollout of a Deployment: its pods are replaced by new ones (new names), as a changed pod
 * template does, all at once. A `kubectl port-forward` to an old pod fails its next connection and
 * ends (streaming.ts). With `ready: false`
 * the new pods stay Pending, so a service behind them has no running pod.
 */
export function rollout(
  kube: KubeStore,
  spec: { namespace: string; name: string; ready?: boolean },
): string[] {
  const deploy = kube.objects.deployments?.[`${spec.namespace}/${spec.name}`];
  if (!deploy) throw new Error(`sim preset: no deployment ${spec.namespace}/${spec.name}`);
  const labels: Record<string, string> = deploy.spec.selector.matchLabels;
  for (const [key, pod] of Object.entries(kube.objects.pods ?? {})) {
    const match = pod.metadata.namespace === spec.namespace &&
      Object.entries(labels).every(([k, v]) => pod.metadata.labels?.[k] === v);
    if (match) delete kube.objects.pods[key];
  }
  const ready = spec.ready ?? true;
  const hash = hexId(`${spec.name}:${kube.resourceVersion}`).slice(0, 9);
  const names: string[] = [];
  for (let i = 0; i < deploy.spec.replicas; i++) {
    const pod = `${spec.name}-${hash}-${hexId(`${hash}${i}`).slice(0, 5)}`;
    addPod(kube, {
      namespace: spec.namespace,
      name: pod,
      labels,
      containers: deploy.spec.template.spec.containers.map((c: KubeObject) => c.name),
      ready,
    });
    names.push(pod);
  }
  return names;
}

/** The names of a Deployment's pods (by its selector), in name order. */
export function deploymentPods(
  kube: KubeStore,
  spec: { namespace: string; name: string },
): string[] {
  const deploy = kube.objects.deployments?.[`${spec.namespace}/${spec.name}`];
  if (!deploy) throw new Error(`sim preset: no deployment ${spec.namespace}/${spec.name}`);
  const labels: Record<string, string> = deploy.spec.selector.matchLabels;
  return Object.values(kube.objects.pods ?? {})
    .filter((pod) =>
      pod.metadata.namespace === spec.namespace &&
      Object.entries(labels).every(([k, v]) => pod.metadata.labels?.[k] === v)
    )
    .map((pod) => pod.metadata.name as string)
    .sort();
}

/**
 * The surge step of a Deployment's RollingUpdate: one new pod of template `revision`, Running and
 * ready (the defaults, maxSurge and maxUnavailable 25%, round to one extra pod and none missing for
 * up to three replicas: a new pod is ready before an old one goes). Returns its name.
 */
export function surgePod(
  kube: KubeStore,
  spec: { namespace: string; name: string; revision: number },
): string {
  const deploy = kube.objects.deployments?.[`${spec.namespace}/${spec.name}`];
  if (!deploy) throw new Error(`sim preset: no deployment ${spec.namespace}/${spec.name}`);
  const hash = hexId(`${spec.name}:rev${spec.revision}`).slice(0, 9);
  const pod = `${spec.name}-${hash}-${hexId(`${hash}${kube.resourceVersion}`).slice(0, 5)}`;
  addPod(kube, {
    namespace: spec.namespace,
    name: pod,
    labels: deploy.spec.selector.matchLabels,
    containers: deploy.spec.template.spec.containers.map((c: KubeObject) => c.name),
  });
  return pod;
}

/**
 * A pod being deleted: it has a deletionTimestamp and, during its grace period, still runs and
 * serves what reaches it; its endpoint is terminating and no longer ready (endpoints.ts).
 */
export function terminatePod(kube: KubeStore, spec: { namespace: string; pod: string }): void {
  const pod = kube.objects.pods?.[`${spec.namespace}/${spec.pod}`];
  if (!pod) throw new Error(`sim preset: no pod ${spec.namespace}/${spec.pod}`);
  pod.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  pod.metadata.deletionGracePeriodSeconds = 30;
  put(kube, "pods", pod);
}

/** A pod gone for good (its grace period over). */
export function removePod(kube: KubeStore, spec: { namespace: string; pod: string }): void {
  delete kube.objects.pods?.[`${spec.namespace}/${spec.pod}`];
  kube.resourceVersion++;
}

/** A Running pod with log lines per container. */
export function addPod(
  kube: KubeStore,
  spec: {
    namespace: string;
    name: string;
    labels?: Record<string, string>;
    containers?: string[];
    node?: string;
    ready?: boolean;
    logs?: Record<string, string[]>;
    restarts?: number;
  },
): void {
  const containers = spec.containers ?? [spec.name];
  const ready = spec.ready ?? true;
  put(kube, "pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: spec.name, namespace: spec.namespace, labels: spec.labels ?? {} },
    spec: {
      nodeName: spec.node ?? "",
      containers: containers.map((c) => ({ name: c, image: `${c}:latest` })),
    },
    status: {
      phase: ready ? "Running" : "Pending",
      podIP: `10.42.0.${(kube.resourceVersion % 250) + 2}`,
      conditions: [{
        type: "Ready",
        status: ready ? "True" : "False",
        lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      }],
      containerStatuses: containers.map((c) => ({
        name: c,
        ready,
        restartCount: spec.restarts ?? 0,
        image: `${c}:latest`,
        state: ready
          ? { running: { startedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z") } }
          : { waiting: { reason: "ContainerCreating" } },
      })),
    },
  });
  for (const c of containers) {
    kube.logs[`${spec.namespace}/${spec.name}/${c}`] = spec.logs?.[c] ??
      [1, 2, 3].map((n) => `${spec.name}/${c} line ${n}`);
  }
}

/** A Service; `ports` are TCP unless named with a protocol. */
export function addService(
  kube: KubeStore,
  spec: {
    namespace: string;
    name: string;
    ports: (number | { port: number; protocol?: string; name?: string; targetPort?: number })[];
    selector?: Record<string, string> | null;
    clusterIP?: string;
    type?: string;
  },
): void {
  const selector = spec.selector === null ? undefined : spec.selector ?? { app: spec.name };
  const clusterIP = spec.clusterIP ??
    `10.43.${(kube.resourceVersion >> 8) % 250}.${(kube.resourceVersion % 250) + 2}`;
  put(kube, "services", {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: spec.name, namespace: spec.namespace },
    spec: {
      type: spec.type ?? "ClusterIP",
      clusterIP,
      clusterIPs: [clusterIP],
      ports: spec.ports.map((p) => {
        const o = typeof p === "number" ? { port: p } : p;
        return {
          name: o.name,
          port: o.port,
          protocol: o.protocol ?? "TCP",
          targetPort: o.targetPort ?? o.port,
        };
      }),
      ...(selector ? { selector } : {}),
    },
    status: { loadBalancer: {} },
  });
}

/** An Ingress (networking.k8s.io/v1) routing `hosts` to a service, with TLS for them. */
export function addIngress(
  kube: KubeStore,
  spec: { namespace: string; name: string; hosts: string[]; service?: string },
): void {
  put(kube, "ingresses", {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: spec.name, namespace: spec.namespace },
    spec: {
      rules: spec.hosts.map((host) => ({
        host,
        http: {
          paths: [{
            path: "/",
            pathType: "Prefix",
            backend: { service: { name: spec.service ?? spec.name, port: { number: 80 } } },
          }],
        },
      })),
      tls: [{ hosts: spec.hosts }],
    },
    status: { loadBalancer: {} },
  });
}

/** Adds an event. */
export function addEvent(
  kube: KubeStore,
  spec: {
    namespace: string;
    name?: string;
    type?: string;
    reason: string;
    message: string;
    kind?: string;
    object?: string;
    time?: string;
  },
): void {
  const time = spec.time ?? new Date().toISOString().replace(/\.\d+Z$/, "Z");
  put(kube, "events", {
    apiVersion: "v1",
    kind: "Event",
    metadata: {
      name: spec.name ?? `${spec.object ?? "x"}.${hexId(spec.message).slice(0, 16)}`,
      namespace: spec.namespace,
    },
    involvedObject: {
      kind: spec.kind ?? "Pod",
      name: spec.object ?? "x",
      namespace: spec.namespace,
    },
    reason: spec.reason,
    message: spec.message,
    type: spec.type ?? "Normal",
    count: 1,
    firstTimestamp: time,
    lastTimestamp: time,
    source: { component: "kubelet" },
  });
}

/** The objects k3s starts with: namespaces, nodes, CoreDNS, Traefik, metrics-server, kube-dns and kubernetes services. */
export function seedKube(world: World, cluster: SimCluster): void {
  const kube = cluster.kube;
  for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
    put(kube, "namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns },
      status: { phase: "Active" },
    });
  }
  syncNodes(world, cluster);
  const svcBase = cluster.serviceCidr.split("/")[0].split(".").slice(0, 3).join(".");
  addService(kube, {
    namespace: "default",
    name: "kubernetes",
    ports: [{ port: 443, name: "https", targetPort: 6443 }],
    selector: null,
    clusterIP: `${svcBase}.1`,
  });
  addService(kube, {
    namespace: "kube-system",
    name: "kube-dns",
    ports: [{ port: 53, protocol: "UDP", name: "dns" }, { port: 53, name: "dns-tcp" }, {
      port: 9153,
      name: "metrics",
    }],
    selector: { "k8s-app": "kube-dns" },
    clusterIP: `${svcBase}.10`,
  });
  const server = `k3d-${cluster.name}-server-0`;
  if (cluster.traefikCrdsAt !== null) {
    // k3s's packaged manifests (server/manifests/traefik.yaml): two HelmCharts in kube-system
    for (const name of ["traefik-crd", "traefik"]) {
      put(kube, "helmcharts", {
        apiVersion: "helm.cattle.io/v1",
        kind: "HelmChart",
        metadata: { name, namespace: "kube-system" },
        spec: { chart: `https://%{KUBERNETES_API}%/static/charts/${name}.tgz` },
      });
    }
  }
  addDeployment(kube, {
    namespace: "kube-system",
    name: "coredns",
    labels: { "k8s-app": "kube-dns" },
    node: server,
  });
  addDeployment(kube, { namespace: "kube-system", name: "local-path-provisioner", node: server });
  addDeployment(kube, {
    namespace: "kube-system",
    name: "metrics-server",
    labels: { "k8s-app": "metrics-server" },
    node: server,
  });
  addDeployment(kube, {
    namespace: "kube-system",
    name: "traefik",
    labels: { "app.kubernetes.io/name": "traefik" },
    node: server,
  });
  addService(kube, {
    namespace: "kube-system",
    name: "traefik",
    type: "LoadBalancer",
    ports: [{ port: 80, name: "web" }, { port: 443, name: "websecure" }],
    selector: { "app.kubernetes.io/name": "traefik" },
  });
  addEvent(kube, {
    namespace: "default",
    kind: "Node",
    object: server,
    reason: "Starting",
    message: "Starting kubelet.",
  });
}

/** Keeps Node objects in line with the cluster's node containers. */
export function syncNodes(world: World, cluster: SimCluster): void {
  const kube = cluster.kube;
  const nodes = Object.values(world.containers).filter((c) =>
    c.labels["k3d.cluster"] === cluster.name &&
    (c.labels["k3d.role"] === "server" || c.labels["k3d.role"] === "agent")
  );
  const wanted = new Set(nodes.map((n) => n.name));
  // as in Kubernetes, a node whose machine is gone stays registered, NotReady, until deleted
  for (const [name, obj] of Object.entries(kube.objects.nodes ?? {})) {
    if (wanted.has(name)) continue;
    const ready = obj.status.conditions.find((c: KubeObject) => c.type === "Ready");
    [ready.status, ready.reason] = ["Unknown", "NodeStatusUnknown"];
  }
  for (const n of nodes) {
    const obj = kube.objects.nodes?.[n.name] ??
      nodeObject(
        n.name,
        n.labels["k3d.role"] as "server" | "agent",
        n.networks[cluster.network]?.ip ?? "",
        n.image,
      );
    const ready = obj.status.conditions.find((c: KubeObject) => c.type === "Ready");
    const isNew = !kube.objects.nodes?.[n.name];
    const ip = n.networks[cluster.network]?.ip;
    if (n.running && ip) obj.status.addresses[0].address = ip;
    if (!n.running) [ready.status, ready.reason] = ["Unknown", "NodeStatusUnknown"];
    else if (isNew && world.nodesStartReady === false) {
      [ready.status, ready.reason] = ["False", "KubeletNotReady"];
    } else if (isNew || ready.status === "Unknown") {
      [ready.status, ready.reason] = ["True", "KubeletReady"];
    }
    put(kube, "nodes", obj);
  }
}
