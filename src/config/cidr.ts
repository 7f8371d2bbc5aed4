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
