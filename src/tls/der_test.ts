import fc from "fast-check";
import { assertEquals } from "../../test/assert.ts";
import { validate } from "../config/load.ts";
import { certPaths, ensureCa, issueCert, loadX509, readCert, renewalReason } from "./certs.ts";
import { nameText, parseCert, pemBlock, signedBy } from "./der.ts";

/** The default registry's container, as `k3d registry create registry.localhost` names it. */
const REGISTRY = "k3d-registry.localhost";

function config(certificate: Record<string, string> = {}) {
  return validate({ cluster: { k3d: { tls: { certificate } } } }, "t").cluster.k3d;
}

/** What the schema refuses in certificate fields: control characters. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

Deno.test("der: a certificate reads the same as the certificate library reads it", async () => {
  const x509 = await loadX509();
  const dir = await Deno.makeTempDir();
  try {
    const p = certPaths(dir, "c");
    await ensureCa(p);
    const text = fc.string({ unit: "grapheme", minLength: 1, maxLength: 24 }).filter((s) =>
      s.trim() === s && !CONTROL.test(s)
    );
    const hard = fc.constantFrom("ACME Co, LLC.", 'R&D = "team"', "a+b;<c>\\d", "#hash", "Zürich");
    await fc.assert(
      fc.asyncProperty(
        fc.record({ organization: fc.oneof(text, hard), locality: fc.oneof(text, hard) }),
        async (subject) => {
          await issueCert(p, config(subject), REGISTRY);
          const pem = await Deno.readTextFile(p.cert);
          const theirs = new x509.X509Certificate(pem);
          const { cert, info } = await readCert(p.cert);
          assertEquals(info.subject, theirs.subject);
          assertEquals(info.issuer, theirs.issuer);
          assertEquals(nameText(cert.issuer), theirs.issuer);
          assertEquals(info.notAfter.getTime(), theirs.notAfter.getTime());
          assertEquals(cert.notBefore.getTime(), theirs.notBefore.getTime());
          const thumb = new Uint8Array(await theirs.getThumbprint("SHA-256"));
          assertEquals(
            info.fingerprint.replaceAll(":", ""),
            [...thumb].map((b) => b.toString(16).padStart(2, "0")).join(""),
          );
          const san = theirs.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON();
          assertEquals(info.sans.dns, san.filter((n) => n.type === "dns").map((n) => n.value));
          assertEquals(info.sans.ip, ["127.0.0.1", "::1"]);
          assertEquals(new Uint8Array(cert.spki), new Uint8Array(theirs.publicKey.rawData));
        },
      ),
      { numRuns: 20 },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("der: a signature holds only for the CA that made it, and not once a bit changes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = certPaths(dir, "c");
    await ensureCa(p);
    await issueCert(p, config(), REGISTRY);
    const cert = parseCert(pemBlock(await Deno.readTextFile(p.cert), "CERTIFICATE"));
    const ca = parseCert(pemBlock(await Deno.readTextFile(p.caCert), "CERTIFICATE"));
    assertEquals(await signedBy(cert, ca), true);
    assertEquals(await signedBy(ca, ca), true, "the CA signs itself");
    assertEquals(await signedBy(ca, cert), false);
    const tampered = parseCert(cert.der.slice());
    tampered.tbs[tampered.tbs.length - 1] ^= 1;
    assertEquals(await signedBy(tampered, ca), false);
    // another CA in the same place: the certificate must be issued again
    const other = certPaths(await Deno.makeTempDir({ dir }), "c");
    await ensureCa(other);
    await Deno.copyFile(other.caCert, p.caCert);
    assertEquals(await renewalReason(p, config(), REGISTRY), "not signed by the current CA");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("der: a key that is not the certificate's is found", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [a, b] = [certPaths(dir, "a"), certPaths(dir, "b")];
    await ensureCa(a);
    await issueCert(a, config(), REGISTRY);
    await issueCert(b, config(), REGISTRY);
    assertEquals(await renewalReason(a, config(), REGISTRY), undefined);
    await Deno.copyFile(b.key, a.key);
    assertEquals(
      await renewalReason(a, config(), REGISTRY),
      "the key does not match the certificate",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("der: what is not a certificate is refused, not misread", () => {
  for (const bad of [new Uint8Array([]), new Uint8Array([0x30, 0x05, 1]), new Uint8Array([4, 0])]) {
    let threw = false;
    try {
      parseCert(bad);
    } catch {
      threw = true;
    }
    assertEquals(threw, true, String(bad));
  }
});
