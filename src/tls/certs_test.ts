import fc from "fast-check";
import { assertEquals, assertMatch, assertOk } from "../../test/assert.ts";
import { validate } from "../config/load.ts";
import {
  certPaths,
  desiredSans,
  ensureCa,
  ingressCertificateGap,
  issueCert,
  readCert,
  renewalReason,
  subjectJson,
  VALIDITY_DAYS,
} from "./certs.ts";

/** The default registry's container, as `k3d registry create registry.localhost` names it. */
const REGISTRY = "k3d-registry.localhost";

function config(certificate: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  return validate({ cluster: { k3d: { tls: { certificate }, ...extra } } }, "t").cluster.k3d;
}

Deno.test("tls: SANs cover the CN, its parent for a wildcard, localhost, loopback and the registry host", () => {
  assertEquals(desiredSans(config(), REGISTRY), {
    dns: ["*.firestream.local", "firestream.local", "localhost", "k3d-registry.localhost"],
    ip: ["127.0.0.1", "::1"],
  });
  // the registry's container as read: one k3d made with its cluster is named exactly NAME
  const myreg = config({}, { registry: { name: "myreg" } });
  assertEquals(desiredSans(myreg, "myreg").dns, [
    "*.firestream.local",
    "firestream.local",
    "localhost",
    "myreg",
  ]);
  assertEquals(
    desiredSans(config({ common_name: "app.test" }, { registry: { enabled: false } }), REGISTRY)
      .dns,
    ["app.test", "localhost"],
  );
});

Deno.test("tls: issued certificate is valid ≤ 398 days, and reissued when subject, names or expiry say so", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = certPaths(dir, "c1");
    assertEquals(await ensureCa(p), true);
    assertEquals(await ensureCa(p), false, "the CA is created once");
    const k = config();
    assertEquals(await renewalReason(p, k, REGISTRY), "no certificate yet");
    const info = await issueCert(p, k, REGISTRY);
    assertEquals(await renewalReason(p, k, REGISTRY), undefined);
    const days = (info.notAfter.getTime() - Date.now()) / 86400_000;
    assertOk(days <= 398 && days >= VALIDITY_DAYS - 1, `valid for ${days} days`);
    assertEquals((await Deno.stat(p.key)).mode! & 0o777, 0o600);
    assertEquals((await Deno.stat(p.caKey)).mode! & 0o777, 0o600);
    assertEquals((await Deno.stat(p.clusterDir)).mode! & 0o777, 0o700);
    assertEquals(
      await renewalReason(p, config({ organization: "Other Org" }), REGISTRY),
      "the subject in the config changed",
    );
    assertEquals(
      await renewalReason(p, config({}, { network: { hosts: ["api.test"] } }), REGISTRY),
      "the names (SANs) in the config changed",
    );
    // the registry's container read differently (made with the cluster, named exactly NAME)
    assertEquals(
      await renewalReason(p, k, "registry.localhost"),
      "the names (SANs) in the config changed",
    );
    assertMatch(
      (await renewalReason(p, k, REGISTRY, new Date(Date.now() + 380 * 86400_000)))!,
      "it expires on",
    );
    // a second cluster shares the CA
    const p2 = certPaths(dir, "c2");
    assertEquals(await ensureCa(p2), false);
    await issueCert(p2, k, REGISTRY);
    assertEquals((await readCert(p2.cert)).info.issuer, (await readCert(p.cert)).info.issuer);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tls: any subject values round-trip into the certificate unchanged", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = certPaths(dir, "prop");
    await ensureCa(p);
    const text = fc.string({ unit: "grapheme", minLength: 1, maxLength: 24 }).filter((s) =>
      s.trim() === s && s.length > 0
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({ state: text, locality: text, organization: text, organizational_unit: text }),
        fc.constantFrom("US", "DE", "JP", "BR"),
        async (subject, country) => {
          const k = config({ ...subject, country });
          await issueCert(p, k, REGISTRY);
          const { info } = await readCert(p.cert);
          assertEquals(info.subjectJson, subjectJson(k));
        },
      ),
      { numRuns: 25 },
    );
    // the hard cases, always
    const k = config({
      organization: "ACME Co, LLC.",
      organizational_unit: 'R&D / Ops = "team"',
      locality: "Zürich+Genève; <ch>",
      state: "#hash",
    });
    await issueCert(p, k, REGISTRY);
    assertEquals((await readCert(p.cert)).info.subjectJson, subjectJson(k));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("certs: plan names an ingress domain the certificate does not cover", () => {
  const k3d = (raw: Record<string, unknown>) =>
    validate({ cluster: { k3d: raw } }, "firestream.toml").cluster.k3d;
  assertEquals(ingressCertificateGap(k3d({})), undefined);
  assertEquals(
    ingressCertificateGap(
      k3d({
        ingress: { domain: "apps.example.test" },
        tls: { certificate: { common_name: "*.apps.example.test" } },
      }),
    ),
    undefined,
  );
  const gap = ingressCertificateGap(k3d({ ingress: { domain: "apps.example.test" } }));
  assertOk(gap?.includes("does not cover *.apps.example.test"), gap);
  assertOk(gap?.includes('common_name = "*.apps.example.test"'), gap);
  // nothing to say without TLS or without the wildcard DNS
  assertEquals(
    ingressCertificateGap(
      k3d({ ingress: { domain: "apps.example.test" }, tls: { enabled: false } }),
    ),
    undefined,
  );
  assertEquals(
    ingressCertificateGap(
      k3d({ ingress: { domain: "apps.example.test", wildcard_dns: false } }),
    ),
    undefined,
  );
});
