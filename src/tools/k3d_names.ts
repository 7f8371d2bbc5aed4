/**
 * The names k3d gives the objects of a cluster (network, containers, kubeconfig context), and
 * where Firestream keeps k3d's config: spelled here only.
 */

/** What k3d puts before every name it makes. */
const PREFIX = "k3d-";

/** The Docker network of cluster `cluster`. */
export function clusterNetwork(cluster: string): string {
  return `${PREFIX}${cluster}`;
}

/** The cluster whose network this is, if it is a k3d cluster network. */
export function clusterOfNetwork(network: string): string | undefined {
  return network.startsWith(PREFIX) ? network.slice(PREFIX.length) : undefined;
}

/** The kubeconfig context k3d writes for cluster `cluster`. */
export function kubeconfigContext(cluster: string): string {
  return `${PREFIX}${cluster}`;
}

/** The cluster a kubeconfig context belongs to, if it is a k3d context. */
export function clusterOfContext(context: string): string | undefined {
  return context.startsWith(PREFIX) ? context.slice(PREFIX.length) : undefined;
}

/** The container of server `i` of cluster `cluster`. */
export function serverContainer(cluster: string, i = 0): string {
  return `${PREFIX}${cluster}-server-${i}`;
}

/** The container of cluster `cluster`'s load balancer (it publishes the API and ingress ports). */
export function loadBalancerContainer(cluster: string): string {
  return `${PREFIX}${cluster}-serverlb`;
}

/**
 * The container name `k3d registry create NAME` gives: always "k3d-" + NAME, so "k3d-reg" becomes
 * "k3d-k3d-reg" (cmd/registry/registryCreate.go).
 */
export function registryContainer(name: string): string {
  return `${PREFIX}${name}`;
}

/** What is known of a registry's container, read from k3d and Docker (see {@link registryContainerOf}). */
export interface RegistryFacts {
  /** the registry recorded in the state: its name and the container read when it was made or imported */
  recorded?: { name: string; container: string };
  /** a registry container named exactly NAME that k3d labels as made for this cluster (`k3d.cluster`) */
  madeWithCluster?: string;
}

/**
 * The container of registry `name`, read where it can be, derived only for a registry yet to be
 * made: the container recorded for that name; else the one k3d made with the cluster, named
 * exactly NAME (`cluster create --registry-create NAME` and `registries.create.name`,
 * k3d v5.8.3 pkg/config/transform.go:328-331); else what `k3d registry create NAME` makes, `k3d-NAME`
 * ({@link registryContainer}).
 */
export function registryContainerOf(name: string, facts: RegistryFacts = {}): string {
  if (facts.recorded?.name === name) return facts.recorded.container;
  if (facts.madeWithCluster === name) return name;
  return registryContainer(name);
}

/** The registry name `k3d registry create` was given, from its container name. */
export function registryName(container: string): string {
  return container.startsWith(PREFIX) ? container.slice(PREFIX.length) : container;
}

/** Order of agents: k3d's own `-agent-N`, then added ones `-agent-N-0`, by N. */
export function agentIndex(container: string): number {
  const m = /-agent-(\d+)(?:-\d+)?$/.exec(container);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}

/** The k3d node name for the agent with index n (its container is {@link agentContainer}). */
export function agentNodeName(cluster: string, n: number): string {
  return `${cluster}-agent-${n}`;
}

/** Whether a container (and Node) name is one of cluster `cluster`'s agents, k3d's own or added. */
export function isAgentOf(cluster: string, container: string): boolean {
  return container.startsWith(`${PREFIX}${agentNodeName(cluster, 0).replace(/0$/, "")}`);
}

/** The container `k3d node create NODE` makes: `k3d-NODE-0`. */
export function agentContainer(node: string): string {
  return `${PREFIX}${node}-0`;
}

/** Where the generated k3d config of cluster `cluster` lives under the state dir. */
export function k3dConfigPath(stateDir: string, cluster: string): string {
  return `${stateDir}/k3d/${cluster}.yaml`;
}
