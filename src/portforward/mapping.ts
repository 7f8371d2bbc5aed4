/** Which local port each service port gets: port + offset, the next free one on a clash, stable across restarts. */

/** One TCP port of one service. */
export interface ServicePort {
  namespace: string;
  service: string;
  port: number;
}

/** A service port and the local port it is forwarded to. */
export interface Mapping extends ServicePort {
  local_port: number;
}

/** A service port that gets no local port, and why. */
export interface Skipped extends ServicePort {
  reason: string;
}

/** Stable identity of a service port. */
export function keyOf(p: ServicePort): string {
  return `${p.namespace}/${p.service}:${p.port}`;
}

/**
 * The order of service ports in the mappings file and `--list`: by namespace, then service (plain
 * string order: Kubernetes names are lowercase ASCII, and the locale's collation would load tables
 * that cost the long-lived supervisor megabytes of memory), then port number.
 */
export function byServicePort(a: ServicePort, b: ServicePort): number {
  return order(a.namespace, b.namespace) || order(a.service, b.service) || a.port - b.port;
}

function order(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Options for {@link mapPorts}. */
export interface MapOptions {
  offset: number;
  /** mappings in use or from the last run (port_forwards.json): kept while their port is free */
  previous?: Mapping[];
  /** whether a local port may be taken (not held by another process) */
  isFree: (port: number) => boolean;
}

/** Maps ports deterministically: same input, same output. */
export function mapPorts(
  ports: ServicePort[],
  options: MapOptions,
): { mappings: Mapping[]; skipped: Skipped[] } {
  const sorted = [...ports].sort(byServicePort);
  const previous = new Map((options.previous ?? []).map((m) => [keyOf(m), m.local_port]));
  const claimed = new Set<number>();
  const mappings: Mapping[] = [];
  const skipped: Skipped[] = [];
  const pending: ServicePort[] = [];
  // first, every port that keeps its earlier local port
  for (const p of sorted) {
    const kept = previous.get(keyOf(p));
    if (kept !== undefined && !claimed.has(kept) && options.isFree(kept)) {
      claimed.add(kept);
      mappings.push({ ...p, local_port: kept });
    } else pending.push(p);
  }
  for (const p of pending) {
    const local = nextFreePort(
      p.port + options.offset,
      (l) => !claimed.has(l) && options.isFree(l),
    );
    if (local === undefined) {
      skipped.push({
        ...p,
        reason: `no free local port from ${p.port + options.offset} up to 65535`,
      });
      continue;
    }
    claimed.add(local);
    mappings.push({ ...p, local_port: local });
  }
  mappings.sort(byServicePort);
  return { mappings, skipped };
}

/** The first port from `from` up to 65535 that `usable` accepts. */
export function nextFreePort(from: number, usable: (port: number) => boolean): number | undefined {
  for (let port = from; port <= 65535; port++) if (usable(port)) return port;
  return undefined;
}
