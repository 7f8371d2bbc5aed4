/** A local CA shared by all clusters, and per-cluster server certificates signed by it (ECDSA P-256). */
import type * as X509 from "@peculiar/x509";
import { ingressDomain, type K3dConfig } from "../config/schema.ts";
import { FirestreamError } from "../errors.ts";
import { writeFileAtomic } from "../state/fs.ts";
import { MalformedDer, nameText, parseCert, type ParsedCert, pemBlock, signedBy } from "./der.ts";
import { encodeName } from "./der_name.ts";

type X509Module = typeof X509;
let x509Module: Promise<X509Module> | undefined;
/** @peculiar/x509, loaded on first use (start-up stays fast). */
export function loadX509(): Promise<X509Module> {
  x509Module ??= import("@peculiar/x509").then((m) => {
    m.cryptoProvider.set(crypto);
    return m;
  });
  return x509Module;
}

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 86400_000;
/** Browsers refuse server certificates valid for more than 398 days. */
export const VALIDITY_DAYS = 397;
/** Renew when fewer days than this remain. */
export const RENEW_DAYS = 30;
const EMAIL_OID = "1.2.840.113549.1.9.1";

/** Where a cluster's files live. */
export interface CertPaths {
  dir: string;
  caCert: string;
  caKey: string;
  clusterDir: string;
  cert: string;
  key: string;
}

/** Expands `~` and returns the file layout for `cluster`. */
export function certPaths(certsDir: string, cluster: string): CertPaths {
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? ".";
  const dir = certsDir.replace(/^~(?=$|\/)/, home);
  return {
    dir,
    caCert: `${dir}/firestream-ca.crt`,
    caKey: `${dir}/firestream-ca.key`,
    clusterDir: `${dir}/${cluster}`,
    cert: `${dir}/${cluster}/tls.crt`,
    key: `${dir}/${cluster}/tls.key`,
  };
}

/** The subject as @peculiar/x509 JSON, in the usual C, ST, L, O, OU, CN, emailAddress order. */
export function subjectJson(k: K3dConfig): Record<string, string[]>[] {
  const c = k.tls.certificate;
  return [
    { C: [c.country] },
    { ST: [c.state] },
    { L: [c.locality] },
    { O: [c.organization] },
    { OU: [c.organizational_unit] },
    { CN: [c.common_name] },
    { [EMAIL_OID]: [c.email] },
  ];
}

/**
 * Names the certificate must cover: CN, its parent for a wildcard, localhost, the registry host,
 * extra hosts. `registry` is the registry's container as read from the state and Docker
 * (`registryContainerOf`), undefined when the config has none.
 */
export function desiredSans(
  k: K3dConfig,
  registry: string | undefined,
): { dns: string[]; ip: string[] } {
  const cn = k.tls.certificate.common_name;
  const dns = [cn];
  if (cn.startsWith("*.")) dns.push(cn.slice(2));
  dns.push("localhost");
  if (k.registry.enabled && registry) dns.push(registry);
  dns.push(...k.network.hosts);
  return { dns: [...new Set(dns)], ip: ["127.0.0.1", "::1"] };
}

/**
 * Why the certificate will not be trusted for names under the ingress domain (it has no
 * `*.<domain>` name), or undefined when it covers them, or there is nothing to say (TLS or the
 * wildcard DNS off).
 */
export function ingressCertificateGap(k: K3dConfig): string | undefined {
  if (!k.tls.enabled || !k.ingress.wildcard_dns) return undefined;
  const domain = ingressDomain(k);
  // the registry's name is never a wildcard: it has no say here
  if (desiredSans(k, undefined).dns.includes(`*.${domain}`)) return undefined;
  return `the certificate does not cover *.${domain}: names under it resolve, but browsers will not trust https to them; set tls.certificate.common_name = "*.${domain}"`;
}

/** What the certificate on disk says. */
export interface CertInfo {
  subject: string;
  subjectJson: Record<string, string[]>[];
  sans: { dns: string[]; ip: string[] };
  notAfter: Date;
  fingerprint: string;
  issuer: string;
}

function normalizeIp(ip: string): string {
  return ip === "0:0:0:0:0:0:0:1" ? "::1" : ip;
}

/** The first certificate of PEM `text` read from `path`; a malformed one is a FirestreamError naming the file. */
export function parseCertFile(path: string, text: string): ParsedCert {
  try {
    return parseCert(pemBlock(text, "CERTIFICATE"));
  } catch (err) {
    if (!(err instanceof MalformedDer)) throw err;
    throw new FirestreamError(`${path} is not a readable certificate: ${err.message}`, {
      hint: "move it away (with its key) so that `firestream apply` issues a new one",
    });
  }
}

/** Reads a PEM certificate (the first one of the file) without the certificate library. */
export async function readCert(path: string): Promise<{ cert: ParsedCert; info: CertInfo }> {
  const cert = parseCertFile(path, await Deno.readTextFile(path));
  const thumb = new Uint8Array(await crypto.subtle.digest("SHA-256", cert.der));
  return {
    cert,
    info: {
      subject: nameText(cert.subject),
      subjectJson: cert.subject.map((rdn) =>
        Object.fromEntries(Object.entries(rdn).map(([k, v]) => [k === "E" ? EMAIL_OID : k, v]))
      ),
      sans: { dns: cert.sans.dns, ip: cert.sans.ip.map(normalizeIp) },
      notAfter: cert.notAfter,
      fingerprint: [...thumb].map((b) => b.toString(16).padStart(2, "0")).join(":"),
      issuer: nameText(cert.issuer),
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function pemKey(key: CryptoKey): Promise<string> {
  const x509 = await loadX509();
  return x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

async function importKey(path: string): Promise<CryptoKey> {
  const text = await Deno.readTextFile(path);
  try {
    return await crypto.subtle.importKey("pkcs8", pemBlock(text, "PRIVATE KEY"), ALG, true, [
      "sign",
    ]);
  } catch (err) {
    const why = err instanceof MalformedDer ? err.message : "not a P-256 private key (PKCS #8)";
    throw new FirestreamError(`${path} is not a readable private key: ${why}`, {
      hint: "move it away (with its certificate) so that `firestream apply` issues a new one",
    });
  }
}

function serial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f; // positive
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function ensureDir(path: string): Promise<void> {
  if (!(await exists(path))) await Deno.mkdir(path, { recursive: true, mode: 0o700 });
  if (Deno.build.os !== "windows") await Deno.chmod(path, 0o700);
}

/** Creates the CA when missing; true when it was created now. */
export async function ensureCa(paths: CertPaths): Promise<boolean> {
  if ((await exists(paths.caCert)) && (await exists(paths.caKey))) return false;
  const x509 = await loadX509();
  if (!(await exists(paths.dir))) await Deno.mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as CryptoKeyPair;
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ CN: [`Firestream Local CA (${Deno.hostname()})`] }, { O: ["Firestream"] }],
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 3650 * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  await writeFileAtomic(paths.caKey, await pemKey(keys.privateKey), { mode: 0o600 });
  await writeFileAtomic(paths.caCert, ca.toString("pem"), { mode: 0o644 });
  return true;
}

/** Why the cluster's certificate must be (re)issued, or undefined when it is good. */
export async function renewalReason(
  paths: CertPaths,
  k: K3dConfig,
  registry: string | undefined,
  now = new Date(),
): Promise<string | undefined> {
  if (!(await exists(paths.cert)) || !(await exists(paths.key))) return "no certificate yet";
  if (!(await exists(paths.caCert))) return "the CA is missing";
  const { cert, info } = await readCert(paths.cert);
  const { cert: ca } = await readCert(paths.caCert);
  if (!(await signedBy(cert, ca))) return "not signed by the current CA";
  if (JSON.stringify(info.subjectJson) !== JSON.stringify(subjectJson(k))) {
    return "the subject in the config changed";
  }
  const want = desiredSans(k, registry);
  const same = (a: string[], b: string[]) =>
    JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
  if (!same(info.sans.dns, want.dns) || !same(info.sans.ip, want.ip)) {
    return "the names (SANs) in the config changed";
  }
  if (info.notAfter.getTime() - now.getTime() < RENEW_DAYS * DAY) {
    return `it expires on ${info.notAfter.toISOString().slice(0, 10)}`;
  }
  const key = await importKey(paths.key);
  const jwk = await crypto.subtle.exportKey("jwk", key);
  const pub = await crypto.subtle.exportKey(
    "jwk",
    await crypto.subtle.importKey("spki", cert.spki, ALG, true, ["verify"]),
  );
  if (jwk.x !== pub.x || jwk.y !== pub.y) return "the key does not match the certificate";
  return undefined;
}

/** Issues the cluster's certificate and key (0600) signed by the CA, for {@link desiredSans}. */
export async function issueCert(
  paths: CertPaths,
  k: K3dConfig,
  registry: string | undefined,
  now = new Date(),
): Promise<CertInfo> {
  const x509 = await loadX509();
  await ensureDir(paths.clusterDir);
  const ca = new x509.X509Certificate(await Deno.readTextFile(paths.caCert));
  const caKey = await importKey(paths.caKey);
  const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as CryptoKeyPair;
  const sans = desiredSans(k, registry);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    // encoded by us: the library's own name parser rewrites values holding `=`, `"` or a leading `#`
    subject: new x509.Name(encodeName(subjectJson(k))),
    issuer: ca.subject,
    notBefore: new Date(now.getTime() - 3600_000),
    notAfter: new Date(now.getTime() + VALIDITY_DAYS * DAY),
    signingKey: caKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        ...sans.dns.map((value) => ({ type: "dns" as const, value })),
        ...sans.ip.map((value) => ({ type: "ip" as const, value })),
      ]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  await writeFileAtomic(paths.key, await pemKey(keys.privateKey), { mode: 0o600 });
  await writeFileAtomic(paths.cert, cert.toString("pem") + "\n" + ca.toString("pem") + "\n", {
    mode: 0o644,
  });
  return (await readCert(paths.cert)).info;
}
