/**
 * The DER reader against @peculiar/x509 (the library it replaced on `plan`'s path), on certificates
 * openssl makes (RSA, EC P-256, Ed25519, IP and long SAN lists, UTF-8 subjects, negative serials,
 * critical extensions) and on fast-check's corruptions of them: the same verdict and the same
 * fields, except where {@link DIFFERENCES} says why not. The library is loaded by this test only.
 */
import * as x509 from "@peculiar/x509";
import fc from "fast-check";
import { assertEquals, assertMatch, assertOk } from "../../test/assert.ts";
import { FirestreamError } from "../errors.ts";
import { parseCertFile } from "./certs.ts";
import { MalformedDer, nameText, parseCert, pemBlock } from "./der.ts";

/**
 * Where the reader refuses what the library lets through, and why. The library is a BER reader
 * whose schema matching skips some checks; a certificate is DER (RFC 5280 4.1), so the reader holds
 * it to X.690's DER rules and to RFC 5280's types. Each entry is our message for that case.
 */
const DIFFERENCES: { why: string; ours: RegExp }[] = [
  {
    why: "bytes after an element's end: the library reads the first element only",
    ours: /^bytes after the end of/,
  },
  {
    why: "a tag other than the one its place requires: the library's schema skips that tag check",
    ours: /, not a /i,
  },
  {
    why:
      "a time that is not YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ: the library makes some date of it, or an Invalid Date",
    ours: /is not a time/,
  },
  {
    why:
      "BER encodings DER forbids (X.690 10.1, 10.2): long lengths, constructed strings, odd BOOLEAN and NULL",
    ours:
      /a length of \d+ octets|in the wrong encoding form|a BOOLEAN of|a NULL with content|indefinite length|leading zero/,
  },
  {
    why: "an element that runs past its container: the library reads on into the bytes after it",
    ours: /runs past its end|length is cut short|has no length/,
  },
  {
    why: "a part count RFC 5280 fixes (AlgorithmIdentifier, Validity, Extension, Certificate)",
    ours: /has \d+ parts|is not type, critical, value|is not a key and its bits/,
  },
  {
    why: "a DNS name with bytes outside IA5String's 7 bits: the library reads them as Latin-1",
    ours: /a SAN DNS name that is not ASCII/,
  },
  {
    why: "a UTF8String that is not UTF-8: the library reads its bytes as Latin-1 instead",
    ours: /a UTF8String that is not UTF-8/,
  },
  {
    why:
      "a SAN IP address of other than 4 or 16 bytes (RFC 5280 4.2.1.6): the library shows it as hex",
    ours: /a SAN IP address of \d+ bytes/,
  },
  {
    why: "a key or signature whose BIT STRING has unused bits: the library rewrites the count to 0",
    ours: /BIT STRING has unused bits/,
  },
  {
    why:
      "a BMPString or UniversalString that is not whole UTF-16 or UTF-32 characters: the library reads what it can",
    ours: /a \d+-bit string of \d+ bytes|a character beyond Unicode/,
  },
  { why: "a multi-byte tag, which no X.509 type uses", ours: /multi-byte tag/ },
];

/** The library's names of the types the reader checks (every part it reads, and these extensions). */
const CHECKED = [
  "Certificate",
  "TBSCertificate",
  "AlgorithmIdentifier",
  "Name",
  "Validity",
  "SubjectPublicKeyInfo",
  "Extension",
  "SubjectAlternativeName",
  "GeneralName",
  "GeneralNames",
  "BasicConstraints",
  "KeyUsage",
  "ExtendedKeyUsage",
  "SubjectKeyIdentifier",
  "AuthorityKeyIdentifier",
  "RSAPublicKey",
  "ECParameters",
  "SpecifiedECDomain",
];

interface Fields {
  subject: string;
  issuer: string;
  notBefore: number;
  notAfter: number;
  dns: string[];
  ip: string[];
  spki: string;
}

const hex = (b: ArrayBuffer | Uint8Array) =>
  [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");

function theirs(der: Uint8Array<ArrayBuffer>): Fields | string {
  try {
    const c = new x509.X509Certificate(der);
    const san = c.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
    return {
      subject: c.subject,
      issuer: c.issuer,
      notBefore: c.notBefore.getTime(),
      notAfter: c.notAfter.getTime(),
      dns: san.filter((n) => n.type === "dns").map((n) => n.value),
      // the library writes ::1 in full
      ip: san.filter((n) => n.type === "ip").map((n) =>
        n.value === "0:0:0:0:0:0:0:1" ? "::1" : n.value
      ),
      spki: hex(c.publicKey.rawData),
    };
  } catch (err) {
    return String(err);
  }
}

function ours(der: Uint8Array<ArrayBuffer>): Fields | string {
  try {
    const c = parseCert(der);
    return {
      subject: nameText(c.subject),
      issuer: nameText(c.issuer),
      notBefore: c.notBefore.getTime(),
      notAfter: c.notAfter.getTime(),
      dns: c.sans.dns,
      ip: c.sans.ip,
      spki: hex(c.spki),
    };
  } catch (err) {
    // anything but a MalformedDer (a TypeError, a RangeError) is a defect of the reader
    if (!(err instanceof MalformedDer)) throw err;
    return err.message;
  }
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  if (!r.success) {
    throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  }
}

/** `-subj` text: `/` and `+` and `\` escaped as openssl reads them. */
function subj(rdns: [string, string][]): string {
  return rdns.map(([k, v]) => `/${k}=${v.replace(/[\\/+]/g, (c) => `\\${c}`)}`).join("");
}

interface Recipe {
  key: string[];
  subject: [string, string][];
  sans: string[];
  serial: string;
  critical: boolean;
}

async function make(dir: string, i: number, r: Recipe): Promise<Uint8Array<ArrayBuffer>> {
  const ext = [
    ...(r.sans.length ? ["-addext", `subjectAltName=${r.sans.join(",")}`] : []),
    "-addext",
    `basicConstraints=${r.critical ? "critical," : ""}CA:FALSE`,
    "-addext",
    `keyUsage=${r.critical ? "critical," : ""}digitalSignature`,
  ];
  await openssl([
    "req",
    "-x509",
    ...r.key,
    "-nodes",
    "-keyout",
    `${i}.key`,
    "-out",
    `${i}.pem`,
    "-days",
    "30",
    "-set_serial",
    r.serial,
    "-utf8",
    "-subj",
    subj(r.subject),
    ...ext,
  ], dir);
  return pemBlock(await Deno.readTextFile(`${dir}/${i}.pem`), "CERTIFICATE");
}

const KEYS = [
  ["-newkey", "rsa:2048"],
  ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
  ["-newkey", "ed25519"],
];

const printable = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 .-]{0,14}[A-Za-z0-9]$/);
const utf8 = fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 })
  // deno-lint-ignore no-control-regex
  .filter((s) => s.trim() === s && !/[\u0000-\u001f\u007f-\u009f=,"#;<>]/.test(s) && s !== "");
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const recipe: fc.Arbitrary<Recipe> = fc.record({
  key: fc.constantFrom(...KEYS),
  subject: fc.tuple(
    fc.constantFrom("C", "O", "OU", "CN", "L", "ST"),
    fc.oneof(printable, utf8),
  ).map(([k, v]) => k === "C" ? [k, "DE"] as [string, string] : [k, v] as [string, string])
    .chain((first) =>
      fc.array(fc.tuple(fc.constantFrom("O", "OU", "CN"), fc.oneof(printable, utf8)), {
        maxLength: 3,
      }).map((more) => [first, ...more])
    ),
  sans: fc.array(
    fc.oneof(
      fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => `DNS:${l.join(".")}.example`),
      fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `IP:10.${a}.${b}.1`),
      fc.nat(0xffff).map((g) => `IP:2001:db8::${g.toString(16)}`),
    ),
    { maxLength: 80 },
  ),
  serial: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n }).filter((n) => n !== 0n).map(String),
  critical: fc.boolean(),
});

/** openssl's certificates for the fixed cases and for fast-check's recipes. */
async function certificates(dir: string): Promise<Uint8Array<ArrayBuffer>[]> {
  const fixed: Recipe[] = KEYS.map((key) => ({
    key,
    subject: [["C", "DE"], ["O", "Zürich Straße, GmbH"], ["CN", "ä.example"], ["OU", "deep arc"]],
    sans: [
      ...Array.from({ length: 60 }, (_, i) => `DNS:host-${i}.example`),
      "IP:10.0.0.1",
      "IP:::1",
    ],
    serial: "-12345",
    critical: true,
  }));
  const all = [...fixed, ...fc.sample(recipe, { numRuns: 9, seed: 26 })];
  const made = await Promise.all(all.map((r, i) => make(dir, i, r)));
  // the OU's type 2.5.4.11 (55 04 0b) becomes 2.999.3 (88 37 03: 999 + 80 in base 128, then 3)
  for (const der of made.slice(0, fixed.length)) {
    const at = hex(der).indexOf("060355040b");
    assertOk(at > 0 && at % 2 === 0);
    der.set([0x88, 0x37, 0x03], at / 2 + 2);
  }
  return made;
}

/** Corruptions: one byte set, a byte inserted or removed, the end cut off. */
const corruption = fc.tuple(
  fc.nat(),
  fc.nat(255),
  fc.constantFrom("set", "insert", "remove", "cut"),
);

function corrupt(src: Uint8Array<ArrayBuffer>, [at, byte, how]: [number, number, string]) {
  const p = at % src.length;
  if (how === "set") {
    const b = src.slice();
    b[p] = byte;
    return b;
  }
  if (how === "cut") return src.slice(0, p);
  if (how === "insert") return new Uint8Array([...src.subarray(0, p), byte, ...src.subarray(p)]);
  return new Uint8Array([...src.subarray(0, p), ...src.subarray(p + 1)]);
}

Deno.test("der: openssl's certificates read the same as the certificate library reads them, and so do their corruptions", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const certs = await certificates(dir);
    for (const der of certs) {
      const [a, b] = [ours(der), theirs(der)];
      assertEquals(a, b);
      assertOk(typeof a !== "string");
    }
    // X.690 8.19.4: the first subidentifier 999 + 80 is 2.999
    assertMatch((ours(certs[0]) as Fields).issuer, /, 2\.999\.3=deep arc$/);
    const seen = new Map<string, number>();
    let agreed = 0;
    fc.assert(
      fc.property(fc.nat(certs.length - 1), corruption, (which, how) => {
        const der = corrupt(certs[which], how);
        const [a, b] = [ours(der), theirs(der)];
        if (typeof a !== "string" && typeof b !== "string") return assertEquals(a, b);
        if (typeof a === "string" && typeof b === "string") return void agreed++;
        if (typeof a !== "string") {
          // the library refused what the reader accepted: only the value of an extension the
          // reader does not read (CRL distribution points, policies …), which it does not check
          const id = /Data does not match to (\w+) ASN1 schema/.exec(b as string)?.[1];
          assertOk(
            id && !CHECKED.includes(id),
            `accepted what the library refuses (${b}): ${hex(der)}`,
          );
          return void seen.set(
            `unread extension ${id}`,
            (seen.get(`unread extension ${id}`) ?? 0) + 1,
          );
        }
        const rule = DIFFERENCES.find((d) => d.ours.test(a));
        assertOk(rule, `refused "${a}" where the library reads ${JSON.stringify(b)}: ${hex(der)}`);
        seen.set(rule.why, (seen.get(rule.why) ?? 0) + 1);
      }),
      { numRuns: 4000, seed: 2626 },
    );
    assertOk(agreed > 2000, `both refused ${agreed}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("der: OBJECT IDENTIFIERs and lengths decode as X.690 says, and every malformed input is a MalformedDer", () => {
  const read = (bytes: Uint8Array) => {
    // a certificate around the name: only the issuer is read before the failure or the end
    try {
      parseCert(new Uint8Array(bytes));
    } catch (err) {
      assertOk(err instanceof MalformedDer, String(err));
      return err.message;
    }
  };
  for (
    const [bytes, message] of [
      [[], /is a nothing, not a SEQUENCE/],
      [[0x30], /SEQUENCE has no length/],
      [[0x30, 0x84, 0x00, 0x00], /length is cut short/],
      [[0x30, 0x80, 0x00, 0x00], /indefinite length/],
      [[0x30, 0x85, 1, 0, 0, 0, 0], /a length of 5 octets/],
      [[0x30, 0x03, 0x02, 0x01], /runs past its end/],
      [[0x30, 0x00, 0x00], /bytes after the end of the certificate/],
      [[0x30, 0x03, 0x06, 0x01, 0x81], /last arc is cut short/],
      [[0x30, 0x04, 0x06, 0x02, 0x80, 0x01], /leading zero/],
      [[0x30, 0x02, 0x06, 0x00], /empty OBJECT IDENTIFIER/],
      [[0x30, 0x02, 0x00, 0x00], /tag 0, which is reserved/],
      [[0x30, 0x03, 0x01, 0x01, 0x00, 0x00].slice(0, 5), /has 1 parts, expected 3/],
    ] as [number[], RegExp][]
  ) {
    assertMatch(read(new Uint8Array(bytes)) ?? "accepted", message, JSON.stringify(bytes));
  }
});

Deno.test("der: a certificate file the reader cannot read is a FirestreamError naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tlv = (tag: number, ...content: number[][]) => {
      const c = content.flat();
      return [tag, c.length, ...c];
    };
    const alg = tlv(0x30, tlv(0x06, [0x2a]));
    const time = (t: string) => tlv(0x17, [...new TextEncoder().encode(t)]);
    // an issuer attribute (CN) without its value
    const issuer = tlv(0x30, tlv(0x31, tlv(0x30, tlv(0x06, [0x55, 0x04, 0x03]))));
    const tbs = tlv(
      0x30,
      tlv(0x02, [1]),
      alg,
      issuer,
      tlv(0x30, time("260101000000Z"), time("270101000000Z")),
      tlv(0x30),
      tlv(0x30, alg, tlv(0x03, [0])),
    );
    const broken = new Uint8Array(tlv(0x30, tbs, alg, tlv(0x03, [0])));
    assertEquals(broken.length < 80, true);
    assertEquals(ours(broken), "the issuer: an attribute without its type and value");
    assertOk(typeof theirs(broken) === "string", "the library refuses it too");
    const pem = (der: Uint8Array) =>
      `-----BEGIN CERTIFICATE-----\n${
        btoa(String.fromCharCode(...der))
      }\n-----END CERTIFICATE-----\n`;
    for (
      const text of [
        pem(broken),
        pem(new Uint8Array([0x30, 0x84, 0, 0])),
        "junk",
        "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----",
      ]
    ) {
      try {
        parseCertFile(`${dir}/c.pem`, text);
        throw new Error(`accepted ${text}`);
      } catch (err) {
        assertOk(err instanceof FirestreamError, String(err));
        assertMatch(err.message, new RegExp(`^${dir}/c.pem is not a readable certificate: `));
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
