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

/** Bytes that are not the certificate (or key) they should be; the message says what is wrong. */
export class MalformedDer extends Error {
  override name = "MalformedDer";
}

function malformed(what: string): never {
  throw new MalformedDer(what);
}

/** The first PEM block labelled `label` (CERTIFICATE, PRIVATE KEY), as DER. */
export function pemBlock(text: string, label: string): Uint8Array<ArrayBuffer> {
  const m = new RegExp(`-----BEGIN ${label}-----([^-]*)-----END ${label}-----`).exec(text);
  if (!m) malformed(`no ${label} block in PEM text`);
  const base64 = m[1].replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
    malformed(`the ${label} block is not base64`);
  }
  const bin = atob(base64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

const TAG_NAMES: Record<number, string> = {
  0x02: "INTEGER",
  0x03: "BIT STRING",
  0x04: "OCTET STRING",
  0x06: "OBJECT IDENTIFIER",
  0x30: "SEQUENCE",
  0x31: "SET",
};

function tagName(tag: number): string {
  return TAG_NAMES[tag] ?? `tag 0x${tag.toString(16).padStart(2, "0")}`;
}

/**
 * The elements one after another in `bytes` (X.690 8.1: one identifier octet, then the length in
 * short form, or in long form as 1 to 4 octets; the indefinite form is not DER). `what` names the
 * enclosing field in the messages.
 */
function elements(bytes: Uint8Array<ArrayBuffer>, what: string): Element[] {
  const out: Element[] = [];
  let i = 0;
  while (i < bytes.length) {
    const start = i;
    const tag = bytes[i++];
    if ((tag & 0x1f) === 0x1f) malformed(`${what}: a multi-byte tag, which X.509 does not use`);
    if (i >= bytes.length) malformed(`${what}: ${tagName(tag)} has no length`);
    let len = bytes[i++];
    if (len === 0x80) malformed(`${what}: an indefinite length, which DER does not allow`);
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n > 4) malformed(`${what}: a length of ${n} octets`);
      if (i + n > bytes.length) malformed(`${what}: ${tagName(tag)}'s length is cut short`);
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + bytes[i++];
    }
    if (i + len > bytes.length) malformed(`${what}: ${tagName(tag)} runs past its end`);
    out.push({ tag, content: bytes.subarray(i, i + len), whole: bytes.subarray(start, i + len) });
    i += len;
  }
  return out;
}

/** `bytes` holds exactly one element, of type `tag`. */
function only(bytes: Uint8Array<ArrayBuffer>, tag: number, what: string): Element {
  const [first] = elements(bytes.subarray(0, firstLength(bytes)), what);
  if (first?.tag !== tag) {
    malformed(`${what} is a ${first ? tagName(first.tag) : "nothing"}, not a ${tagName(tag)}`);
  }
  if (first.whole.length < bytes.length) malformed(`bytes after the end of ${what}`);
  return first;
}

/** How many bytes the first element of `bytes` takes (all of them when its header is broken). */
function firstLength(bytes: Uint8Array<ArrayBuffer>): number {
  if (bytes.length < 2) return bytes.length;
  const len = bytes[1];
  if (!(len & 0x80)) return Math.min(bytes.length, 2 + len);
  const n = len & 0x7f;
  if (n === 0 || n > 4 || 2 + n > bytes.length) return bytes.length;
  let v = 0;
  for (let k = 0; k < n; k++) v = v * 256 + bytes[2 + k];
  return Math.min(bytes.length, 2 + n + v);
}

/** The elements of a constructed element `e` of type `tag`, at least `min` of them. */
function items(e: Element | undefined, tag: number, what: string, min = 0): Element[] {
  if (!e) malformed(`${what} is missing`);
  if (e.tag !== tag) malformed(`${what} is a ${tagName(e.tag)}, not a ${tagName(tag)}`);
  const all = elements(e.content, what);
  if (all.length < min) malformed(`${what} has ${all.length} parts, expected ${min}`);
  return all;
}

/**
 * An OBJECT IDENTIFIER's dotted text (X.690 8.19): base-128 subidentifiers, the first of which
 * holds the first two arcs as 40·X + Y, where X is 0 or 1 with Y < 40, or X is 2 and Y any size.
 */
function oid(e: Element, what: string): string {
  if (e.tag !== 0x06) malformed(`${what} is a ${tagName(e.tag)}, not an OBJECT IDENTIFIER`);
  const c = e.content;
  if (c.length === 0) malformed(`${what} is an empty OBJECT IDENTIFIER`);
  const subs: bigint[] = [];
  let v = 0n;
  let fresh = true;
  for (const b of c) {
    if (fresh && b === 0x80) malformed(`${what}: an OBJECT IDENTIFIER arc with a leading zero`);
    v = v * 128n + BigInt(b & 0x7f);
    fresh = !(b & 0x80);
    if (fresh) {
      subs.push(v);
      v = 0n;
    }
  }
  if (!fresh) malformed(`${what}: an OBJECT IDENTIFIER whose last arc is cut short`);
  const first = subs[0];
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...subs.slice(1)].join(".");
}

const SHORT: Record<string, string> = {
  "2.5.4.6": "C",
  "2.5.4.8": "ST",
  "2.5.4.7": "L",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.3": "CN",
  "1.2.840.113549.1.9.1": "E",
  "0.9.2342.19200300.100.1.25": "DC",
  "2.5.4.42": "G",
  "2.5.4.43": "I",
  "2.5.4.4": "SN",
  "2.5.4.12": "T",
};

/** A name as attributes per RDN: `[{ C: ["US"] }, { O: ["ACME"] }]`, unknown types by OID. */
export type NameParts = Record<string, string[]>[];

/**
 * A name's string: UTF8String as UTF-8, BMPString as UTF-16, UniversalString as UTF-32 (big-endian
 * both); the 7- and 8-bit types (Printable, IA5, Teletex) one character a byte.
 */
function text(e: Element): string {
  const c = e.content;
  if (e.tag === 0x0c) {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(c);
    } catch {
      malformed("a UTF8String that is not UTF-8");
    }
  }
  const width = e.tag === 0x1e ? 2 : e.tag === 0x1c ? 4 : 1;
  if (c.length % width) malformed(`a ${width * 8}-bit string of ${c.length} bytes`);
  let s = "";
  for (let i = 0; i < c.length; i += width) {
    let code = 0;
    for (let k = 0; k < width; k++) code = code * 256 + c[i + k];
    if (code > 0x10ffff) malformed("a character beyond Unicode");
    s += String.fromCodePoint(code);
  }
  return s;
}

/** DirectoryString's types (RFC 5280 4.1.2.4) and IA5String (email addresses). */
const STRING_TAGS = new Set([0x0c, 0x13, 0x14, 0x16, 0x1c, 0x1e]);

function name(e: Element | undefined, what: string): NameParts {
  return items(e, 0x30, what).map((set) => {
    const rdn: Record<string, string[]> = {};
    const atvs = items(set, 0x31, `${what}: a relative name`, 1);
    for (const atv of atvs) {
      const parts = items(atv, 0x30, `${what}: an attribute`);
      if (parts.length !== 2) malformed(`${what}: an attribute without its type and value`);
      const [type, value] = parts;
      const id = oid(type, `${what}: an attribute type`);
      if (!STRING_TAGS.has(value.tag)) {
        malformed(`${what}: the value of ${id} is a ${tagName(value.tag)}, not a string`);
      }
      const key = SHORT[id] ?? id;
      (rdn[key] ??= []).push(text(value));
    }
    return rdn;
  });
}

/** RFC 4514 2.4: specials escaped with `\\`, CR, LF and tab as `\\HH`, as the library writes them. */
function escape(value: string): string {
  return value.replace(/[,+"\\<>;]/g, (c) => `\\${c}`).replace(/^[# ]/, (c) => `\\${c}`)
    .replace(/ $/, (c) => `\\${c}`)
    .replace(
      /[\r\n\t]/g,
      (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase()}`,
    );
}

/** RFC 4514's text of a name, in certificate order: `C=US, O=ACME Co\, LLC., CN=…`. */
export function nameText(parts: NameParts): string {
  return parts.map((rdn) =>
    Object.entries(rdn).flatMap(([k, vs]) => vs.map((v) => `${k}=${escape(v)}`)).join("+")
  ).join(", ");
}

function time(e: Element | undefined, what: string): Date {
  if (!e) malformed(`${what} is missing`);
  if (e.tag !== 0x17 && e.tag !== 0x18) malformed(`${what} is a ${tagName(e.tag)}, not a time`);
  const s = new TextDecoder().decode(e.content);
  const m = e.tag === 0x17
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
    : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) malformed(`${what} is not a time: ${JSON.stringify(s)}`);
  let year = Number(m[1]);
  if (e.tag === 0x17) year += year < 50 ? 2000 : 1900;
  const date = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), +m[4], +m[5], +m[6]));
  if (Number.isNaN(date.getTime())) malformed(`${what} is not a time: ${JSON.stringify(s)}`);
  return date;
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
const RSA = "1.2.840.113549.1.1.1";
const EC = "1.2.840.10045.2.1";

/**
 * Every element inside `e`, checked as DER encodes each type (X.690 8 and 10): tag 0 is reserved;
 * only SEQUENCE and SET (and context tags) are constructed; a BOOLEAN is one octet, an INTEGER at
 * least one, NULL none; a BIT STRING states 0 to 7 unused bits; an OBJECT IDENTIFIER decodes.
 */
function checkEncoding(e: Element, what: string): void {
  const universal = (e.tag & 0xc0) === 0;
  const number = e.tag & 0x1f;
  const constructed = (e.tag & 0x20) !== 0;
  if (universal) {
    if (number === 0) malformed(`${what}: tag 0, which is reserved`);
    if (constructed !== (number === 0x10 || number === 0x11)) {
      malformed(`${what}: ${tagName(e.tag)} in the wrong encoding form`);
    }
    const n = e.content.length;
    if (e.tag === 0x01 && n !== 1) malformed(`${what}: a BOOLEAN of ${n} octets`);
    if (e.tag === 0x02 && n === 0) malformed(`${what}: an empty INTEGER`);
    if (e.tag === 0x05 && n !== 0) malformed(`${what}: a NULL with content`);
    if (e.tag === 0x03 && (n === 0 || e.content[0] > 7)) {
      malformed(`${what}: a BIT STRING without a valid count of unused bits`);
    }
    if (e.tag === 0x06) oid(e, what);
  }
  if (constructed) { for (const inner of elements(e.content, what)) checkEncoding(inner, what); }
}

/** An AlgorithmIdentifier: SEQUENCE { OBJECT IDENTIFIER, parameters OPTIONAL }; its OID. */
function algorithm(e: Element | undefined, what: string): string {
  const parts = items(e, 0x30, what, 1);
  if (parts.length > 2) malformed(`${what} has ${parts.length} parts`);
  return oid(parts[0], what);
}

/** The value of a known extension, checked against its ASN.1 type (RFC 5280 4.2.1). */
function checkExtension(id: string, value: Uint8Array<ArrayBuffer>): void {
  const what = `extension ${id}`;
  const top = (tag: number) => {
    const e = only(value, tag, what);
    checkEncoding(e, what);
    return e;
  };
  const seq = () => items(top(0x30), 0x30, what);
  switch (id) {
    case SAN:
      for (const g of seq()) {
        // GeneralName: otherName [0], rfc822Name [1] … registeredID [8]
        if (![0xa0, 0x81, 0x82, 0xa3, 0xa4, 0xa5, 0x86, 0x87, 0x88].includes(g.tag)) {
          malformed(`${what}: a name of ${tagName(g.tag)}, which is no GeneralName`);
        }
        checkEncoding(g, what);
        // otherName: type-id OBJECT IDENTIFIER, [0] value; directoryName: a Name
        if (g.tag === 0xa0) oid(elements(g.content, what)[0] ?? malformed(`${what}: empty`), what);
        if (g.tag === 0xa4) only(g.content, 0x30, `${what}: a directory name`);
      }
      return;
    case "2.5.29.19": { // basicConstraints: SEQUENCE { cA BOOLEAN OPTIONAL, pathLen INTEGER OPTIONAL }
      const parts = seq();
      const tags = parts.map((p) => p.tag).join(",");
      if (!["", "1", "2", "1,2"].includes(tags)) malformed(`${what}: not a basicConstraints`);
      return;
    }
    case "2.5.29.15": // keyUsage: BIT STRING
      top(0x03);
      return;
    case "2.5.29.37": // extKeyUsage: SEQUENCE OF OBJECT IDENTIFIER
      for (const p of seq()) oid(p, what);
      return;
    case "2.5.29.14": // subjectKeyIdentifier: OCTET STRING
      top(0x04);
      return;
    case "2.5.29.35": { // authorityKeyIdentifier: SEQUENCE { [0] OPTIONAL, [1] OPTIONAL, [2] OPTIONAL }
      const tags = seq().map((p) => p.tag);
      const order = [0x80, 0xa1, 0x82];
      let at = -1;
      for (const t of tags) {
        const k = order.indexOf(t);
        if (k <= at) malformed(`${what}: not an authorityKeyIdentifier`);
        at = k;
      }
      return;
    }
  }
}

/** Parses a DER certificate. Throws {@link MalformedDer}, saying what is wrong, on anything else. */
export function parseCert(der: Uint8Array<ArrayBuffer>): ParsedCert {
  const cert = only(der, 0x30, "the certificate");
  checkEncoding(cert, "the certificate");
  const outer = items(cert, 0x30, "the certificate", 3);
  if (outer.length !== 3) malformed(`the certificate has ${outer.length} parts, expected 3`);
  const [tbs, alg, sig] = outer;
  const fields = items(tbs, 0x30, "the signed part", 6);
  // [0] EXPLICIT version is optional: the serial number follows it
  let at = 0;
  if (fields[0].tag === 0xa0) {
    only(fields[0].content, 0x02, "the version");
    at = 1;
  }
  const [serial, innerAlg, issuer, validity, subject, spki, ...rest] = fields.slice(at);
  if (serial?.tag !== 0x02) malformed("the serial number is not an INTEGER");
  algorithm(innerAlg, "the signature algorithm of the signed part");
  const times = items(validity, 0x30, "the validity", 2);
  if (times.length !== 2) malformed(`the validity has ${times.length} parts, expected 2`);
  const [notBefore, notAfter] = times;
  const key = items(spki, 0x30, "the public key", 2);
  if (key.length !== 2 || key[1].tag !== 0x03) {
    malformed("the public key is not a key and its bits");
  }
  if (key[1].content[0] !== 0) malformed("the public key's BIT STRING has unused bits");
  const keyType = algorithm(key[0], "the public key's algorithm");
  if (keyType === EC) {
    // namedCurve OBJECT IDENTIFIER (RFC 5480 2.1.1); implicit and specified curves are not used
    const [, curve] = items(key[0], 0x30, "the public key's algorithm");
    if (curve?.tag !== 0x06) malformed("the public key's curve is not named");
  }
  if (keyType === RSA) {
    const rsa = items(only(key[1].content.subarray(1), 0x30, "the RSA key"), 0x30, "the RSA key");
    if (rsa.length !== 2 || rsa.some((p) => p.tag !== 0x02)) malformed("the RSA key is not n, e");
  }
  // optional issuerUniqueID [1], subjectUniqueID [2], extensions [3], in that order
  let last = 0;
  for (const f of rest) {
    const k = [0x81, 0xa1, 0x82, 0xa2, 0xa3].indexOf(f.tag);
    const slot = k < 0 ? -1 : k < 2 ? 1 : k < 4 ? 2 : 3;
    if (slot <= last) malformed(`the signed part: an unexpected ${tagName(f.tag)}`);
    last = slot;
  }
  const sans = { dns: [] as string[], ip: [] as string[] };
  const extensions = rest.find((f) => f.tag === 0xa3);
  const list = extensions
    ? items(only(extensions.content, 0x30, "the extensions"), 0x30, "the extensions", 1)
    : [];
  for (const ext of list) {
    const parts = items(ext, 0x30, "an extension", 2);
    const id = oid(parts[0], "an extension's type");
    const shape = parts.map((p) => p.tag).join(",");
    if (shape !== "6,4" && shape !== "6,1,4") {
      malformed(`extension ${id} is not type, critical, value`);
    }
    const value = parts[parts.length - 1];
    checkExtension(id, value.content);
    if (id !== SAN) continue;
    for (const general of items(only(value.content, 0x30, "the SAN extension"), 0x30, "the SANs")) {
      if (general.tag === 0x82) {
        // dNSName is an IA5String: 7-bit
        if (general.content.some((b) => b > 0x7f)) malformed("a SAN DNS name that is not ASCII");
        sans.dns.push(new TextDecoder().decode(general.content));
      }
      if (general.tag === 0x87) {
        if (general.content.length !== 4 && general.content.length !== 16) {
          malformed(`a SAN IP address of ${general.content.length} bytes`);
        }
        sans.ip.push(ipText(general.content));
      }
    }
  }
  const signatureAlgorithm = algorithm(alg, "the signature algorithm");
  if (sig.tag !== 0x03) malformed("the signature is not a BIT STRING");
  if (sig.content[0] !== 0) malformed("the signature's BIT STRING has unused bits");
  return {
    der,
    tbs: tbs.whole,
    signatureAlgorithm,
    // a BIT STRING's first byte counts its unused bits: none in a signature
    signature: sig.content.subarray(1),
    issuer: name(issuer, "the issuer"),
    subject: name(subject, "the subject"),
    notBefore: time(notBefore, "notBefore"),
    notAfter: time(notAfter, "notAfter"),
    spki: spki.whole,
    sans,
  };
}

const ECDSA_SHA256 = "1.2.840.10045.4.3.2";

/** An ECDSA signature as DER `SEQUENCE { r, s }` in the raw `r‖s` form WebCrypto verifies. */
function rawSignature(der: Uint8Array<ArrayBuffer>, size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size * 2);
  items(only(der, 0x30, "the signature"), 0x30, "the signature").slice(0, 2).forEach((int, i) => {
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
