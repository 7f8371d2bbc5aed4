/** End-to-end: certificates and the TLS secret across create, re-create, config change, disable and delete. */
import { assertEquals, assertMatch, assertNotMatch, assertOk } from "../assert.ts";
import { type SimHost, testConfig, withSimHost } from "../sim/harness.ts";

function tlsConfig(extra = ""): string {
  return testConfig().replace(
    "[cluster.k3d.tls]\nenabled = false",
    `[cluster.k3d.tls]\nenabled = true\nnamespaces = ["default", "apps"]\n${extra}`,
  );
}

function secretIn(h: SimHost, ns: string) {
  return h.world().clusters["firestream-local"].kube.objects.secrets?.[`${ns}/firestream-tls`];
}

Deno.test("tls: create issues the certificate and applies the secret; a second create reuses both", async () => {
  await withSimHost({ config: tlsConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const certFile = `${h.home}/certs/firestream-local/tls.crt`;
    const cert = Deno.readTextFileSync(certFile);
    for (const ns of ["default", "apps", "kube-system"]) {
      const s = secretIn(h, ns);
      assertOk(s, `secret in ${ns}`);
      assertEquals(s.type, "kubernetes.io/tls");
      assertEquals(atob(s.data["tls.crt"]), cert);
      assertEquals(s.metadata.labels["app.kubernetes.io/managed-by"], "firestream");
    }
    const store =
      h.world().clusters["firestream-local"].kube.objects.tlsstores["kube-system/default"];
    assertEquals(store.spec.defaultCertificate.secretName, "firestream-tls");
    const applies = h.calls().filter((c) => c.tool === "kubectl" && c.argv.includes("apply"));
    assertEquals(applies.length, 4, "three secrets and the TLSStore");
    const creates = h.calls().filter((c) =>
      c.tool === "kubectl" && c.argv.includes("secret") && c.argv.includes("create")
    );
    assertOk(creates.every((c) => c.argv.includes("--dry-run=client")));
    const state = h.stateBytes()!;
    assertNotMatch(state, "PRIVATE KEY");
    const tls = JSON.parse(state).clusters["firestream-local"].resources.tls;
    assertEquals(tls.secret, {
      name: "firestream-tls",
      namespaces: ["default", "apps", "kube-system"],
    });
    assertOk(tls.sans.includes("*.firestream.local") && tls.sans.includes("::1"));

    h.clearCalls();
    await h.ok(["cluster", "create", "--yes"]);
    assertEquals(h.mutatingCalls(), []);
    assertEquals(Deno.readTextFileSync(certFile), cert, "the certificate was reused");
  });
});

Deno.test("tls: a subject change reissues the certificate and updates the secret; turning TLS off removes it", async () => {
  await withSimHost({ config: tlsConfig() }, async (h) => {
    await h.ok(["apply", "--yes"]);
    const before = (await h.state()).clusters["firestream-local"].resources.tls.fingerprint;
    const path = `${h.projectDir}/firestream.toml`;
    Deno.writeTextFileSync(
      path,
      Deno.readTextFileSync(path) + '\n[cluster.k3d.tls.certificate]\norganization = "Other Org"\n',
    );
    const plan = await h.run(["plan", "--detailed-exitcode"]);
    assertEquals(plan.code, 2);
    assertMatch(plan.stdout, "cluster.firestream-local.tls-cert will be updated in place");
    h.clearCalls();
    const r = await h.ok(["apply", "--yes"]);
    assertMatch(r.stderr, "reissuing the certificate: the subject in the config changed");
    const after = (await h.state()).clusters["firestream-local"].resources.tls;
    assertOk(after.fingerprint !== before);
    assertMatch(after.subject, "O=Other Org");
    assertEquals(
      atob(secretIn(h, "default").data["tls.crt"]),
      Deno.readTextFileSync(`${h.home}/certs/firestream-local/tls.crt`),
    );
    assertEquals(
      h.mutatingCalls().filter((c) => c.includes(" apply -f -")).length,
      3,
      "each secret updated once",
    );

    Deno.writeTextFileSync(
      path,
      Deno.readTextFileSync(path).replace(
        "[cluster.k3d.tls]\nenabled = true",
        "[cluster.k3d.tls]\nenabled = false",
      ),
    );
    await h.ok(["apply", "--yes"]);
    assertEquals(secretIn(h, "default"), undefined);
    assertEquals(
      h.world().clusters["firestream-local"].kube.objects.tlsstores?.["kube-system/default"],
      undefined,
    );
    assertEquals((await h.state()).clusters["firestream-local"].resources.tls, undefined);
    assertEquals((await h.run(["plan", "--detailed-exitcode"])).code, 0);
  });
});

Deno.test("tls: delete removes the secrets; certificates stay unless --purge-certs, the CA while others use it", async () => {
  await withSimHost({}, async (h) => {
    Deno.writeTextFileSync(
      `${h.projectDir}/a.toml`,
      tlsConfig().replace('name = "firestream-local"', 'name = "a"'),
    );
    Deno.writeTextFileSync(
      `${h.projectDir}/b.toml`,
      tlsConfig().replace('name = "firestream-local"', 'name = "b"').replace(
        /\[cluster\.k3d\.registry\]\nenabled = true/,
        "[cluster.k3d.registry]\nenabled = false",
      ),
    );
    await h.ok(["-c", "a.toml", "cluster", "create", "--yes"]);
    await h.ok(["-c", "b.toml", "cluster", "create", "--yes"]);
    h.clearCalls();
    await h.ok(["-c", "a.toml", "cluster", "delete", "--yes", "--purge-certs"]);
    const deletes = h.mutatingCalls().filter((c) => c.includes("delete secret"));
    assertEquals(deletes.length, 3);
    assertEquals(Deno.statSync(`${h.home}/certs`).isDirectory, true);
    assertEquals([...Deno.readDirSync(`${h.home}/certs`)].map((e) => e.name).sort(), [
      "b",
      "firestream-ca.crt",
      "firestream-ca.key",
    ]);
    const r = await h.ok(["-c", "b.toml", "cluster", "delete", "--yes"]);
    assertMatch(r.stderr, "keeping certificates");
    assertOk(Deno.statSync(`${h.home}/certs/b/tls.crt`).isFile);
  });
});

Deno.test("tls: a delete that fails at the cluster gives the running cluster its secrets back", async () => {
  await withSimHost({ config: tlsConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    h.fault("k3d cluster delete", "FATA[0000] simulated failure");
    const r = await h.run(["cluster", "delete", "--yes"]);
    assertEquals(r.code, 1);
    assertMatch(r.stderr, "rolled back");
    for (const ns of ["default", "apps", "kube-system"]) {
      assertOk(secretIn(h, ns), `secret back in ${ns}`);
    }
    assertEquals(
      h.world().clusters["firestream-local"].kube.objects.tlsstores["kube-system/default"].spec
        .defaultCertificate.secretName,
      "firestream-tls",
    );
    assertEquals((await h.state()).clusters["firestream-local"].resources.tls.secret.namespaces, [
      "default",
      "apps",
      "kube-system",
    ]);
  });
});
