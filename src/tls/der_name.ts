/** DER encoding of an X.509 distinguished name, so that any attribute text is stored exactly as given. */

const OIDS: Record<string, string> = {
  C: "2.5.4.6",
  ST: "2.5.4.8",
  L: "2.5.4.7",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  CN: "2.5.4.3",
  "1.2.840.113549.1.9.1": "1.2.840.113549.1.9.1",
};
const PRINTABLE = 0x13;
const IA5 = 0x16;
const UTF8 = 0x0c;

function length(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function tlv(tag: number, content: number[]): number[] {
  return [tag, ...length(content.length), ...content];
}

function oid(text: string): number[] {
  const parts = text.split(".").map(Number);
  const out = [parts[0] * 40 + parts[1]];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) {
      chunk.unshift((v & 0x7f) | 0x80);
    }
    out.push(...chunk);
  }
  return tlv(0x06, out);
}

/** Encodes `[{C: ["US"]}, {O: ["ACME, Inc."]}, …]` as a DER Name (one attribute per RDN). */
export function encodeName(rdns: Record<string, string[]>[]): Uint8Array<ArrayBuffer> {
  const sets: number[] = [];
  for (const rdn of rdns) {
    for (const [type, values] of Object.entries(rdn)) {
      const id = OIDS[type];
      if (!id) throw new Error(`unsupported name attribute ${type}`);
      for (const value of values) {
        const tag = type === "C" ? PRINTABLE : id === "1.2.840.113549.1.9.1" ? IA5 : UTF8;
        const bytes = [...new TextEncoder().encode(value)];
        sets.push(...tlv(0x31, tlv(0x30, [...oid(id), ...tlv(tag, bytes)])));
      }
    }
  }
  return new Uint8Array(tlv(0x30, sets));
}
