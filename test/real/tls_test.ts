/** Certificates checked by the real openssl; the secret manifest made by the real kubectl client. */
import { parse as parseYaml } from "yaml";
import { assertEquals, assertMatch } from "../assert.ts";
import { validate } from "../../src/config/load.ts";
import { certPaths, ensureCa, issueCert } from "../../src/tls/certs.ts";
import { findProgram, requireReal, run } from "./require.ts";

const openssl = findProgram("openssl");
const kubectl = findProgram("kubectl");
const hasOpenssl = requireReal("openssl", Boolean(openssl), "install the openssl package");
const hasKubectl = requireReal("kubectl client", Boolean(kubectl), "install kubectl");

const k3d = validate({
  cluster: {
    k3d: {
      tls: {
        certificate: {
          organization: "ACME Co, LLC.",
          locality: "Roswell",
          organizational_unit: 'R&D / Ops = "team"',
        },
      },
    },
  },
}, "test").cluster.k3d;

async function issued() {
  const dir = await Deno.makeTempDir();
  const p = certPaths(dir, "firestream-local");
  await ensureCa(p);
  await issueCert(p, k3d, "k3d-registry.localhost");
  return { dir, p };
}

Deno.test({
  name: "openssl verifies the server certificate against the CA and shows SANs and subject",
  ignore: !hasOpenssl,
}, async () => {
  const { dir, p } = await issued();
  try {
    const verify = await run(openssl!, ["verify", "-CAfile", p.caCert, p.cert]);
    assertEquals(verify.code, 0, verify.stderr);
    assertMatch(verify.stdout, `${p.cert}: OK`);
    const text = await run(openssl!, [
      "x509",
      "-in",
      p.cert,
      "-noout",
      "-text",
      "-nameopt",
      "utf8,sep_comma_plus_space",
    ]);
    assertEquals(text.code, 0, text.stderr);
    assertMatch(
      text.stdout,
      "DNS:*.firestream.local, DNS:firestream.local, DNS:localhost, DNS:k3d-registry.localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
    );
    assertMatch(text.stdout, "TLS Web Server Authentication");
    const subject = await run(openssl!, [
      "x509",
      "-in",
      p.cert,
      "-noout",
      "-subject",
      "-nameopt",
      "multiline,utf8,-esc_msb",
    ]);
    const fields = Object.fromEntries(
      subject.stdout.split("\n").slice(1).filter((l) => l.includes(" = ")).map((l) => {
        const at = l.indexOf(" = ");
        return [l.slice(0, at).trim(), l.slice(at + 3)];
      }),
    );
    assertEquals(fields, {
      countryName: "US",
      stateOrProvinceName: "New Mexico",
      localityName: "Roswell",
      organizationName: "ACME Co, LLC.",
      organizationalUnitName: 'R&D / Ops = "team"',
      commonName: "*.firestream.local",
      emailAddress: "admin@firestream.local",
    });
    assertEquals((await Deno.stat(p.key)).mode! & 0o777, 0o600);
    assertEquals((await Deno.stat(p.caKey)).mode! & 0o777, 0o600);
    const keyCheck = await run(openssl!, ["pkey", "-in", p.key, "-noout", "-check"]);
    assertEquals(keyCheck.code, 0, keyCheck.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "the real kubectl makes the secret manifest, which decodes back to the same certificate",
  ignore: !hasKubectl,
}, async () => {
  const { dir, p } = await issued();
  try {
    const r = await run(kubectl!, [
      "create",
      "secret",
      "tls",
      "firestream-tls",
      `--cert=${p.cert}`,
      `--key=${p.key}`,
      "--namespace",
      "default",
      "--dry-run=client",
      "-o",
      "yaml",
    ], {
      env: { KUBECONFIG: "/dev/null", HOME: dir },
    });
    assertEquals(r.code, 0, r.stderr);
    const doc = parseYaml(r.stdout) as {
      type: string;
      data: Record<string, string>;
      metadata: { name: string; namespace: string };
    };
    assertEquals([doc.type, doc.metadata.name, doc.metadata.namespace], [
      "kubernetes.io/tls",
      "firestream-tls",
      "default",
    ]);
    const decoded = new TextDecoder().decode(
      Uint8Array.from(atob(doc.data["tls.crt"]), (c) => c.charCodeAt(0)),
    );
    assertEquals(decoded, await Deno.readTextFile(p.cert));
    const key = new TextDecoder().decode(
      Uint8Array.from(atob(doc.data["tls.key"]), (c) => c.charCodeAt(0)),
    );
    assertEquals(key, await Deno.readTextFile(p.key));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
