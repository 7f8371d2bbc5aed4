/** IPv4 CIDR parsing and arithmetic, for config rules and route handling. */

/** A parsed IPv4 network. */
export interface Cidr {
  /** network address as an unsigned 32-bit number */
  base: number;
  /** prefix length 0..32 */
  bits: number;
}

/** Parses "a.b.c.d" into a number, or undefined. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

/** Formats a 32-bit number as dotted quad. */
export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(value / 2 ** s) % 256).join(".");
}

/** Parses "a.b.c.d/n" whose host bits are zero; undefined when invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const base = parseIpv4(m[1]);
  const bits = Number(m[2]);
  if (base === undefined || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  if (base % size !== 0) return undefined;
  return { base, bits };
}

/** True when the two networks share any address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const aEnd = a.base + 2 ** (32 - a.bits);
  const bEnd = b.base + 2 ** (32 - b.bits);
  return a.base < bEnd && b.base < aEnd;
}

/** The n-th address in a network (n = 10 gives kube-dns in 10.43.0.0/16). */
export function nthAddress(cidr: Cidr, n: number): string {
  return formatIpv4(cidr.base + n);
}

/** Ranges a cluster network may use: RFC 1918 and the shared address space (RFC 6598, CGNAT). */
export const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];

/** Ranges a cluster network must never touch, with what they are. */
export const RESERVED_RANGES: [string, string][] = [
  ["0.0.0.0/8", 'the default route\'s "this network" range'],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "the reserved range"],
];

/** Smallest and largest prefix length a cluster network may have. */
export const PREFIX_RANGE = { min: 8, max: 28 } as const;

/** True when `inner` lies entirely inside `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return inner.bits >= outer.bits && cidrsOverlap(outer, inner);
}

/** Formats a network as "a.b.c.d/n". */
export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.base)}/${c.bits}`;
}

/**
 * Why `text` cannot be a cluster network (pod or service CIDR), or undefined when it can: it must
 * parse, have a prefix from /8 to /28, avoid the default route, loopback, link-local and multicast,
 * and lie inside a private range.
 */
export function clusterCidrProblem(text: string): string | undefined {
  const c = parseCidr(text);
  if (!c) {
    return "must be an IPv4 CIDR with its host bits zero, such as 10.42.0.0/16";
  }
  if (c.bits === 0) {
    return "covers the default route 0.0.0.0/0; use a private range such as 10.42.0.0/16";
  }
  for (const [range, what] of RESERVED_RANGES) {
    if (cidrsOverlap(c, parseCidr(range)!)) {
      return `overlaps ${what} (${range}); use a private range such as 10.42.0.0/16`;
    }
  }
  if (c.bits < PREFIX_RANGE.min || c.bits > PREFIX_RANGE.max) {
    return `prefix /${c.bits} is outside /${PREFIX_RANGE.min}–/${PREFIX_RANGE.max}`;
  }
  if (!PRIVATE_RANGES.some((r) => cidrContains(parseCidr(r)!, c))) {
    return `is not a private range: use one inside ${PRIVATE_RANGES.join(", ")}`;
  }
  return undefined;
}
