/**
 * Reading X.509 certificates without a library: PEM to DER, DER's tag-length-value walk, and the
 * fields a check needs (names, validity, SANs, key, signature). Checking a certificate that is
 * already there is on the path of every `plan`; the certificate library is loaded only to issue.
 */

/** One DER element: its tag, its content, and the whole encoding. */
interface Element {
  tag: number;
  content: Uint8Array<ArrayBuffer>;
  whole: Uint8Array<ArrayBuffer>;
}

/** The first PEM block labelled `label` (CERTIFICATE, PRIVATE KEY), as DER. */
export function pemBlock(text: string, label: string): Uint8Array<ArrayBuffer> {
  const m = new RegExp(`-----BEGIN ${label}-----([^-]*)-----END ${label}-----`).exec(text);
  if (!m) throw new Error(`no ${label} in PEM text`);
  const bin = atob(m[1].replace(/\s+/g, ""));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** The elements one after another in `bytes`. */
function elements(bytes: Uint8Array<ArrayBuffer>): Element[] {
  const out: Element[] = [];
  let i = 0;
  while (i < bytes.length) {
    const start = i;
    const tag = bytes[i++];
    if ((tag & 0x1f) === 0x1f) throw new Error("DER: multi-byte tags are not used by X.509");
    let len = bytes[i++];
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4) throw new Error("DER: bad length");
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + bytes[i++];
    }
    if (i + len > bytes.length) throw new Error("DER: element runs past its end");
    out.push({ tag, content: bytes.subarray(i, i + len), whole: bytes.subarray(start, i + len) });
    i += len;
  }
  return out;
}

function only(bytes: Uint8Array<ArrayBuffer>, tag: number): Element {
  const [e] = elements(bytes);
  if (!e || e.tag !== tag) throw new Error(`DER: expected tag 0x${tag.toString(16)}`);
  return e;
}

function oid(content: Uint8Array): string {
  const parts = [Math.floor(content[0] / 40), content[0] % 40];
  let v = 0;
  for (const b of content.subarray(1)) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}

const SHORT: Record<string, string> = {
  "2.5.4.6": "C",
  "2.5.4.8": "ST",
  "2.5.4.7": "L",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.3": "CN",
  "1.2.840.113549.1.9.1": "E",
};

/** A name as attributes per RDN: `[{ C: ["US"] }, { O: ["ACME"] }]`, unknown types by OID. */
export type NameParts = Record<string, string[]>[];

function text(e: Element): string {
  // BMPString is UTF-16; every other string type used in names is ASCII or UTF-8
  if (e.tag === 0x1e) {
    let s = "";
    for (let i = 0; i + 1 < e.content.length; i += 2) {
      s += String.fromCharCode(e.content[i] * 256 + e.content[i + 1]);
    }
    return s;
  }
  return new TextDecoder().decode(e.content);
}

function name(e: Element): NameParts {
  return elements(e.content).map((set) => {
    const rdn: Record<string, string[]> = {};
    for (const atv of elements(set.content)) {
      const [type, value] = elements(atv.content);
      const id = oid(type.content);
      const key = SHORT[id] ?? id;
      (rdn[key] ??= []).push(text(value));
    }
    return rdn;
  });
}

function escape(value: string): string {
  return value.replace(/[,+"\\<>;]/g, (c) => `\\${c}`).replace(/^[#\s]/, (c) => `\\${c}`)
    .replace(/\s$/, (c) => `\\${c}`);
}

/** RFC 4514's text of a name, in certificate order: `C=US, O=ACME Co\, LLC., CN=…`. */
export function nameText(parts: NameParts): string {
  return parts.map((rdn) =>
    Object.entries(rdn).flatMap(([k, vs]) => vs.map((v) => `${k}=${escape(v)}`)).join("+")
  ).join(", ");
}

function time(e: Element): Date {
  const s = new TextDecoder().decode(e.content);
  const m = e.tag === 0x17
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
    : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw new Error(`DER: bad time ${s}`);
  let year = Number(m[1]);
  if (e.tag === 0x17) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), +m[4], +m[5], +m[6]));
}

function ipText(b: Uint8Array): string {
  if (b.length === 4) return [...b].join(".");
  const groups: string[] = [];
  for (let i = 0; i + 1 < b.length; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  // the shortest form: the longest run of zero groups becomes `::`
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length; i++) {
    let j = i;
    while (j < groups.length && groups[j] === "0") j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

/** What a certificate says, read from its DER. */
export interface ParsedCert {
  der: Uint8Array<ArrayBuffer>;
  /** the signed part, as encoded */
  tbs: Uint8Array<ArrayBuffer>;
  signatureAlgorithm: string;
  /** the signature's bits */
  signature: Uint8Array<ArrayBuffer>;
  issuer: NameParts;
  subject: NameParts;
  notBefore: Date;
  notAfter: Date;
  /** SubjectPublicKeyInfo, as encoded (for `crypto.subtle.importKey("spki", …)`) */
  spki: Uint8Array<ArrayBuffer>;
  sans: { dns: string[]; ip: string[] };
}

const SAN = "2.5.29.17";

/** Parses a DER certificate. Throws on anything that is not one. */
export function parseCert(der: Uint8Array<ArrayBuffer>): ParsedCert {
  const [tbs, alg, sig] = elements(only(der, 0x30).content);
  if (!tbs || tbs.tag !== 0x30 || alg?.tag !== 0x30 || sig?.tag !== 0x03) {
    throw new Error("not an X.509 certificate");
  }
  const fields = elements(tbs.content);
  // [0] version is optional: the serial number follows it
  const at = fields[0].tag === 0xa0 ? 1 : 0;
  const [, , issuer, validity, subject, spki] = fields.slice(at);
  const [notBefore, notAfter] = elements(validity.content);
  const sans = { dns: [] as string[], ip: [] as string[] };
  const extensions = fields.find((f) => f.tag === 0xa3);
  for (const ext of extensions ? elements(only(extensions.content, 0x30).content) : []) {
    const parts = elements(ext.content);
    if (oid(parts[0].content) !== SAN) continue;
    const value = parts[parts.length - 1];
    for (const general of elements(only(value.content, 0x30).content)) {
      if (general.tag === 0x82) sans.dns.push(new TextDecoder().decode(general.content));
      if (general.tag === 0x87) sans.ip.push(ipText(general.content));
    }
  }
  return {
    der,
    tbs: tbs.whole,
    signatureAlgorithm: oid(only(alg.content, 0x06).content),
    // a BIT STRING's first byte counts its unused bits: none in a signature
    signature: sig.content.subarray(1),
    issuer: name(issuer),
    subject: name(subject),
    notBefore: time(notBefore),
    notAfter: time(notAfter),
    spki: spki.whole,
    sans,
  };
}

const ECDSA_SHA256 = "1.2.840.10045.4.3.2";

/** An ECDSA signature as DER `SEQUENCE { r, s }` in the raw `r‖s` form WebCrypto verifies. */
function rawSignature(der: Uint8Array<ArrayBuffer>, size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size * 2);
  elements(only(der, 0x30).content).forEach((int, i) => {
    const v = int.content.subarray(Math.max(0, int.content.length - size));
    out.set(v, i * size + size - v.length);
  });
  return out;
}

/** Whether `cert` was signed by the holder of `issuer`'s key (P-256 ECDSA, as Firestream signs). */
export async function signedBy(cert: ParsedCert, issuer: ParsedCert): Promise<boolean> {
  if (cert.signatureAlgorithm !== ECDSA_SHA256) return false;
  try {
    const key = await crypto.subtle.importKey(
      "spki",
      issuer.spki,
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["verify"],
    );
    return await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      key,
      rawSignature(cert.signature, 32),
      cert.tbs,
    );
  } catch {
    return false;
  }
}
