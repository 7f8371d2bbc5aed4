/** The names k3d gives its objects, and where Firestream keeps k3d's config: spelled here only. */

/** Where the generated k3d config of cluster `cluster` lives under the state dir. */
export function k3dConfigPath(stateDir: string, cluster: string): string {
  return `${stateDir}/k3d/${cluster}.yaml`;
}

/** Order of agents: k3d's own `-agent-N`, then added ones `-agent-N-0`, by N. */
export function agentIndex(container: string): number {
  const m = /-agent-(\d+)(?:-\d+)?$/.exec(container);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}

/** The k3d node name for the agent with index n (k3d names its container `k3d-<name>-0`). */
export function agentNodeName(cluster: string, n: number): string {
  return `${cluster}-agent-${n}`;
}
