/**
 * End-to-end: a registry k3d made with its cluster (`k3d cluster create --registry-create NAME`, or
 * `registries.create` in a k3d config) is named exactly NAME (k3d v5.8.3 pkg/config/transform.go:328-331): it
 * is read from k3d and Docker and adopted as it is.
 */
import { assertEquals, assertMatch, assertNotMatch, assertOk } from "../assert.ts";
import { readCert } from "../../src/tls/certs.ts";
import { freePort, type SimHost, withSimHost } from "../sim/harness.ts";

/** `k3d cluster create legacy --registry-create myreg:0.0.0.0:PORT`, made outside firestream; its port. */
async function legacyWithRegistry(h: SimHost): Promise<number> {
  const port = freePort();
  const made = await h.tool("k3d", [
    "cluster",
    "create",
    "legacy",
    "--registry-create",
    `myreg:0.0.0.0:${port}`,
  ]);
  assertEquals(made.code, 0, made.stderr);
  return port;
}

/** The written config with TLS and the hosts block on, and `edit` applied. */
function turnOn(h: SimHost, edit: (text: string) => string = (t) => t): void {
  const file = `${h.projectDir}/firestream.toml`;
  const on = edit(Deno.readTextFileSync(file))
    .replace("[cluster.k3d.tls]\nenabled = false", "[cluster.k3d.tls]\nenabled = true")
    .replace("patch_etc_hosts = false", "patch_etc_hosts = true");
  assertOk(on.includes("[cluster.k3d.tls]\nenabled = true") && on.includes("hosts = true"), on);
  Deno.writeTextFileSync(file, on);
}

/** The hosts block and the certificate name the registry `myreg`, as k3d named it, never `k3d-myreg`. */
async function namedMyreg(h: SimHost): Promise<void> {
  const hosts = Deno.readTextFileSync(h.hostsFile);
  assertMatch(hosts, "\n127.0.0.1\tmyreg\n");
  assertNotMatch(hosts, "k3d-myreg");
  const { info } = await readCert(`${h.home}/certs/legacy/tls.crt`);
  assertOk(info.sans.dns.includes("myreg"), info.sans.dns.join(", "));
  assertEquals(info.sans.dns.filter((n) => n.includes("k3d-")), []);
}

Deno.test("a cluster made with --registry-create myreg:0.0.0.0:PORT, imported with --write-config: the registry is adopted as it is, nothing is planned for it", async () => {
  await withSimHost({}, async (h) => {
    const port = await legacyWithRegistry(h);
    const reg = h.world().containers["myreg"];
    assertEquals(
      reg?.labels["k3d.cluster"],
      "legacy",
      "k3d names it exactly myreg, for the cluster",
    );
    assertEquals(reg.ports["5000/tcp"], [{ HostIp: "0.0.0.0", HostPort: String(port) }]);
    assertEquals(h.world().containers["k3d-myreg"], undefined);

    const imported = await h.ok(["import", "cluster", "legacy", "--write-config"]);
    assertMatch(imported.stdout, `registry myreg:${port}`);
    const rec = (await h.state()).clusters.legacy;
    assertEquals(rec.resources.registry.container, "myreg");
    assertEquals(rec.k3d_config.registry, { ...rec.k3d_config.registry, name: "myreg", port });

    // the registry is adopted as it is and the written config describes the cluster as it is:
    // nothing is planned, and an apply touches no registry or container
    const plan = await h.run(["plan", "--detailed-exitcode"]);
    assertEquals(plan.code, 0, plan.stdout + plan.stderr);
    h.clearCalls();
    const apply = await h.ok(["apply", "--yes"]);
    assertEquals(
      h.mutatingCalls().filter((c) => /^(k3d|docker)/.test(c)),
      [],
      "no registry or container is touched: " + apply.stdout,
    );
    assertEquals(h.world().containers["myreg"].running, true);

    // stopped with the cluster (by firestream, then by hand) and started with it again
    await h.ok(["cluster", "stop", "legacy"]);
    assertEquals(h.world().containers["myreg"].running, false, "k3d stops it with the cluster");
    const start = await h.run(["cluster", "start", "legacy"]);
    assertEquals(start.code, 0, start.stdout + start.stderr);
    assertEquals(h.world().containers["myreg"].running, true);
    assertEquals((await h.tool("k3d", ["cluster", "stop", "legacy"])).code, 0);
    const stoppedPlan = await h.run(["plan"]);
    assertEquals(stoppedPlan.code, 0, stoppedPlan.stdout + stoppedPlan.stderr);
    assertMatch(stoppedPlan.stdout, "stopped nodes will be started");
    await h.ok(["apply", "--yes"]);
    assertEquals(h.world().containers["myreg"].running, true);
    assertEquals((await h.run(["plan", "--detailed-exitcode"])).code, 0);

    // k3d deletes the registry it made with the cluster along with it (pkg/client/cluster.go:632)
    await h.ok(["cluster", "delete", "legacy", "--yes"]);
    assertEquals(h.world().containers["myreg"], undefined);
    assertEquals((await h.state()).clusters.legacy, undefined);
  });
});

Deno.test("k3d registries.create in a config file: named exactly as given, or k3d-CLUSTER-registry", async () => {
  await withSimHost({}, async (h) => {
    const port = freePort();
    const file = `${h.projectDir}/k3d.yaml`;
    Deno.writeTextFileSync(
      file,
      `apiVersion: k3d.io/v1alpha5\nkind: Simple\nmetadata:\n  name: one\nregistries:\n  create:\n    name: shop\n    hostPort: "${port}"\n`,
    );
    assertEquals((await h.tool("k3d", ["cluster", "create", "--config", file])).code, 0);
    assertEquals(h.world().containers["shop"].labels["k3d.cluster"], "one");
    assertEquals(h.world().clusters.one.registriesUse, ["shop:5000"]);
    const taken = await h.tool("k3d", ["cluster", "create", "two", "--registry-create", "shop"]);
    assertEquals(taken.code, 1);
    assertMatch(taken.stderr, "A registry node with that name already exists");
    assertEquals(h.world().clusters.two, undefined);
    // no name: k3d-CLUSTER-registry (transform.go:328), also for `--registry-create ""` (v5.8.3
    // makes one whenever the flag is given, transform.go:312; v5.9.0 makes none then)
    const three = await h.tool("k3d", [
      "cluster",
      "create",
      "three",
      "--registry-create",
      `:${freePort()}`,
    ]);
    assertEquals(three.code, 0, three.stderr);
    assertEquals(h.world().containers["k3d-three-registry"]?.labels["k3d.cluster"], "three");
    const four = await h.tool("k3d", ["cluster", "create", "four", "--registry-create", ""]);
    assertEquals(four.code, 0, four.stderr);
    const registries = Object.values(h.world().containers).filter((c) =>
      c.labels["k3d.role"] === "registry"
    );
    assertEquals(registries.map((c) => c.name).sort(), [
      "k3d-four-registry",
      "k3d-three-registry",
      "shop",
    ]);
  });
});

Deno.test("a --registry-create registry in the hosts block and the certificate: named myreg as k3d named it, not k3d-myreg", async () => {
  await withSimHost({}, async (h) => {
    await legacyWithRegistry(h);
    await h.ok(["import", "cluster", "legacy", "--write-config"]);
    turnOn(h);

    const plan = await h.run(["plan", "--detailed-exitcode"]);
    assertEquals(plan.code, 2, plan.stdout + plan.stderr);
    assertMatch(plan.stdout, "127.0.0.1 myreg");
    assertNotMatch(plan.stdout, "k3d-myreg");
    await h.ok(["apply", "--yes"]);

    await namedMyreg(h);
    const rec = (await h.state()).clusters.legacy;
    assertEquals(rec.resources.registry.container, "myreg");
    assertOk(rec.resources.tls.sans.includes("myreg"));

    // as the machine now is: nothing more to do, and doctor finds the registry's name
    const again = await h.run(["plan", "--detailed-exitcode"]);
    assertEquals(again.code, 0, again.stdout + again.stderr);
    const doctor = await h.run(["doctor"]);
    assertMatch(doctor.stdout, /registry name.*myreg resolves from/);
  });
});

Deno.test("replacing an imported cluster whose registry k3d made with it: the registry goes with the cluster and the new cluster makes it again as myreg", async () => {
  await withSimHost({}, async (h) => {
    const port = await legacyWithRegistry(h);
    await h.ok(["import", "cluster", "legacy", "--write-config"]);
    assertEquals((await h.state()).clusters.legacy.resources.registry.with_cluster, true);
    // a new pod network forces a new cluster; TLS and the hosts block come with it
    turnOn(h, (t) => {
      assertMatch(t, `pod_cidr = "10.42.0.0/16"`);
      return t.replace(`pod_cidr = "10.42.0.0/16"`, `pod_cidr = "10.60.0.0/16"`);
    });

    const plan = await h.run(["plan", "--detailed-exitcode"]);
    assertEquals(plan.code, 2, plan.stdout + plan.stderr);
    assertMatch(plan.stdout, "# cluster.legacy.registry must be replaced [destructive]");
    assertMatch(plan.stdout, `address = "0.0.0.0:${port}" -> "127.0.0.1:${port}"`);
    assertMatch(plan.stdout, "`k3d cluster delete` deletes it and its images");
    assertMatch(plan.stdout, "the new cluster makes it again as myreg");
    assertMatch(plan.stdout, "Plan: 0 to add, 0 to change, 2 to replace, 0 to destroy.");
    assertNotMatch(plan.stdout, "k3d-myreg");

    h.clearCalls();
    const apply = await h.run(["apply", "--yes"]);
    assertEquals(apply.code, 0, apply.stdout + apply.stderr);
    assertNotMatch(apply.stderr, "internal");
    assertNotMatch(apply.stderr, "✗");
    // k3d deletes the registry with the cluster, and makes it again with the new one: no
    // `k3d registry create`, which would name it k3d-myreg
    const config = `${h.projectDir}/.firestream/k3d/legacy.yaml`;
    assertEquals(
      h.mutatingCalls().filter((c) => /^(k3d|docker)/.test(c)),
      ["k3d cluster delete legacy", `k3d cluster create --config ${config}`],
    );
    assertMatch(
      Deno.readTextFileSync(config),
      `registries:\n  create:\n    name: myreg\n    host: 127.0.0.1\n    hostPort: "${port}"\n`,
    );
    const w = h.world();
    assertEquals(w.containers["k3d-myreg"], undefined);
    const reg = w.containers["myreg"];
    assertEquals(reg?.labels["k3d.cluster"], "legacy");
    assertEquals(reg.running, true);
    assertEquals(reg.ports["5000/tcp"], [{ HostIp: "127.0.0.1", HostPort: String(port) }]);
    assertOk("k3d-legacy" in reg.networks, Object.keys(reg.networks).join(", "));
    assertEquals(w.clusters.legacy.registriesUse, ["myreg:5000"]);
    assertEquals(w.clusters.legacy.podCidr, "10.60.0.0/16");
    const rec = (await h.state()).clusters.legacy;
    assertEquals(rec.resources.registry, {
      name: "myreg",
      container: "myreg",
      host: "127.0.0.1",
      port,
      created: false,
      with_cluster: true,
    });

    // the hosts block and the certificate name the registry as k3d named it
    await namedMyreg(h);

    const again = await h.run(["plan", "--detailed-exitcode"]);
    assertEquals(again.code, 0, again.stdout + again.stderr);

    // it cannot outlive its cluster: --keep-registry is refused, and changes nothing
    h.clearCalls();
    const keep = await h.run(["cluster", "delete", "legacy", "--keep-registry", "--yes"]);
    assertEquals(keep.code, 1, keep.stdout + keep.stderr);
    assertMatch(
      keep.stderr,
      "--keep-registry: registry myreg was made by k3d with cluster legacy, and `k3d cluster delete` deletes it with the cluster",
    );
    assertEquals(h.mutatingCalls(), []);

    const del = await h.ok(["cluster", "delete", "legacy", "--yes"]);
    assertMatch(del.stdout, "made by k3d with the cluster: deleted with it");
    const left = h.world();
    assertEquals(Object.keys(left.containers), []);
    assertEquals(Object.keys(left.networks).filter((n) => n.includes("legacy")), []);
    assertEquals(left.clusters, {});
    assertEquals((await h.state()).clusters.legacy, undefined);
    assertNotMatch(Deno.readTextFileSync(h.hostsFile), "myreg");
  });
});

Deno.test("a registry k3d made with a cluster that another cluster also uses: k3d keeps it on delete and then refuses that cluster name; firestream plans no replacement", async () => {
  await withSimHost({}, async (h) => {
    await legacyWithRegistry(h);
    const other = await h.tool("k3d", [
      "cluster",
      "create",
      "other",
      "--registry-use",
      "myreg:5000",
    ]);
    assertEquals(other.code, 0, other.stderr);
    await h.ok(["import", "cluster", "legacy", "--write-config"]);
    const file = `${h.projectDir}/firestream.toml`;
    Deno.writeTextFileSync(
      file,
      Deno.readTextFileSync(file).replace(`pod_cidr = "10.42.0.0/16"`, `pod_cidr = "10.60.0.0/16"`),
    );
    h.clearCalls();
    const plan = await h.run(["plan"]);
    assertEquals(plan.code, 1, plan.stdout + plan.stderr);
    assertMatch(
      plan.stderr,
      "registry myreg was made by k3d with cluster legacy, so replacing the cluster deletes it, but cluster other still uses it",
    );
    const apply = await h.run(["apply", "--yes"]);
    assertEquals(apply.code, 1, apply.stdout + apply.stderr);
    assertEquals(h.mutatingCalls(), []);

    // what k3d itself does (pkg/client/cluster.go:619-651, cmd/cluster/clusterCreate.go:146)
    assertEquals((await h.tool("k3d", ["cluster", "delete", "legacy"])).code, 0);
    const kept = h.world().containers["myreg"];
    assertEquals(Object.keys(kept.networks).sort(), ["bridge", "k3d-other"]);
    const again = await h.tool("k3d", ["cluster", "create", "legacy"]);
    assertEquals(again.code, 1);
    assertMatch(
      again.stderr,
      "Failed to create cluster 'legacy' because a cluster with that name already exists",
    );
  });
});
