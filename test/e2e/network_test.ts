/** End-to-end: routes, DNS and /etc/hosts: set on create, changed in place, restored exactly on delete. */
import { assertEquals, assertMatch, assertNotMatch, assertOk } from "../assert.ts";
import { type SimHost, testConfig, withSimHost } from "../sim/harness.ts";

const hostsBefore = "127.0.0.1 localhost\r\n# a comment the user wrote\r\n10.0.0.5 build-server";
const resolvBefore = "# managed by hand\nnameserver 192.0.2.53\nsearch example.internal";

function routesOf(h: SimHost) {
  return h.world().routes.filter((r) => r.dst.startsWith("10.4")).map((r) =>
    `${r.dst} via ${r.gateway}`
  ).sort();
}

Deno.test("network: create sets routes, the resolv.conf block and the hosts block; delete restores both files byte for byte", async () => {
  await withSimHost({ config: testConfig({ network: true }) }, async (h) => {
    Deno.writeTextFileSync(h.hostsFile, hostsBefore);
    Deno.writeTextFileSync(h.resolvConf, resolvBefore);
    const dns = await h.startDns();
    const r = await h.run(["cluster", "create", "--yes"], { env: { FIRESTREAM_DNS_PROBE: dns } });
    assertEquals(r.code, 0, r.stderr);
    const world = h.world();
    const ip =
      world.containers["k3d-firestream-local-server-0"].networks["k3d-firestream-local"].ip;
    assertEquals(routesOf(h), [`10.42.0.0/16 via ${ip}`, `10.43.0.0/16 via ${ip}`]);
    const resolv = Deno.readTextFileSync(h.resolvConf);
    assertEquals(
      resolv,
      "# BEGIN firestream firestream-local\nnameserver 10.43.0.10\noptions timeout:1 attempts:1\n# END firestream firestream-local\n" +
        resolvBefore +
        "\n# BEGIN firestream firestream-local search\n# the cluster's search domains, then this file's own: glibc reads only the last search line\nsearch default.svc.cluster.local svc.cluster.local cluster.local example.internal\n# END firestream firestream-local search",
    );
    const hosts = Deno.readTextFileSync(h.hostsFile);
    assertMatch(
      hosts,
      "# BEGIN firestream firestream-local\r\n127.0.0.1\tk3d-registry.localhost\r\n",
    );
    assertOk(hosts.endsWith(hostsBefore));
    assertMatch(r.stderr, "DNS test: kubernetes.default.svc.cluster.local → 10.43.0.1");
    const rec = (await h.state()).clusters["firestream-local"].resources;
    assertEquals(rec.routes.map((x: { cidr: string }) => x.cidr), ["10.42.0.0/16", "10.43.0.0/16"]);
    assertEquals(rec.dns.mode, "resolv.conf");

    h.clearCalls();
    await h.ok(["cluster", "create", "--yes"]);
    assertEquals(h.mutatingCalls(), [], "converged: nothing changes");

    await h.ok(["cluster", "delete", "--yes"]);
    assertEquals(Deno.readTextFileSync(h.hostsFile), hostsBefore);
    assertEquals(Deno.readTextFileSync(h.resolvConf), resolvBefore);
    assertEquals(routesOf(h), []);
  });
});

Deno.test("network: with systemd-resolved, split DNS on the cluster bridge; resolv.conf is never touched", async () => {
  await withSimHost({ config: testConfig({ network: true }), resolved: true }, async (h) => {
    Deno.writeTextFileSync(h.resolvConf, resolvBefore);
    await h.ok(["cluster", "create", "--yes"]);
    const world = h.world();
    const bridge = world.networks["k3d-firestream-local"].bridge;
    // the ingress domain is a routing domain beside cluster.local
    assertEquals(world.links[bridge], {
      dns: ["10.43.0.10"],
      domains: ["~cluster.local", "~firestream.local"],
    });
    assertEquals(h.mutatingCalls().filter((c) => c.startsWith("resolvectl")), [
      `resolvectl dns ${bridge} 10.43.0.10`,
      `resolvectl domain ${bridge} ~cluster.local ~firestream.local`,
    ]);
    assertEquals(Deno.readTextFileSync(h.resolvConf), resolvBefore);
    await h.ok(["cluster", "delete", "--yes"]);
    assertEquals(h.world().links[bridge], undefined);
    assertEquals(Deno.readTextFileSync(h.resolvConf), resolvBefore);
  });
});

Deno.test("network: a route to another gateway is an error unless --force; forced, it is restored on delete", async () => {
  await withSimHost({ config: testConfig({ network: true }) }, async (h) => {
    h.updateWorld((w) => {
      w.routes.push({ dst: "10.43.0.0/16", gateway: "172.17.0.9", dev: "docker0" });
    });
    h.clearCalls();
    const r = await h.run(["cluster", "create", "--yes"]);
    assertEquals(r.code, 1);
    assertMatch(r.stderr, "a route for 10.43.0.0/16 already exists via 172.17.0.9");
    assertMatch(r.stderr, "--force");
    assertEquals(Object.keys(h.world().clusters), [], "the failed run was rolled back");
    assertEquals(routesOf(h), ["10.43.0.0/16 via 172.17.0.9"]);

    await h.ok(["cluster", "create", "--yes", "--force"]);
    const ip =
      h.world().containers["k3d-firestream-local-server-0"].networks["k3d-firestream-local"].ip;
    assertEquals(routesOf(h), [`10.42.0.0/16 via ${ip}`, `10.43.0.0/16 via ${ip}`]);
    const del = await h.ok(["cluster", "delete", "--yes"]);
    // the preview says which route comes back, and through which gateway
    assertMatch(
      del.stdout,
      [
        "  # cluster.firestream-local.routes will be updated in place",
        "  ~ cluster.firestream-local.routes {",
        `      - route 10.42.0.0/16 = "${ip}" -> null`,
        `      ~ route 10.43.0.0/16 = "${ip}" -> "172.17.0.9"`,
        "      # a route firestream replaced gets its previous gateway back",
        "    }",
      ].join("\n"),
    );
    assertMatch(del.stdout, "Plan: 0 to add, 1 to change, 0 to replace, 5 to destroy.");
    assertEquals(routesOf(h), ["10.43.0.0/16 via 172.17.0.9"]);
  });
});

Deno.test("network: a failed DNS test is a warning, or with --strict an error that rolls back", async () => {
  await withSimHost({ config: testConfig({ network: true }) }, async (h) => {
    const dead = "127.0.0.1:9";
    const warn = await h.run(["cluster", "create", "--yes"], {
      env: { FIRESTREAM_DNS_PROBE: dead },
    });
    assertEquals(warn.code, 0, warn.stderr);
    assertMatch(
      warn.stderr,
      "warning: DNS resolution test failed: check network connectivity and verify firewall settings",
    );
    await h.ok(["cluster", "delete", "--yes"]);
    const resolv = Deno.readTextFileSync(h.resolvConf);
    const strict = await h.run(["cluster", "create", "--yes", "--strict"], {
      env: { FIRESTREAM_DNS_PROBE: dead },
    });
    assertEquals(strict.code, 1);
    assertMatch(strict.stderr, "DNS resolution test failed");
    assertEquals(Deno.readTextFileSync(h.resolvConf), resolv);
    assertEquals(Object.keys(h.world().clusters), []);
  });
});

Deno.test("network: toggles change in place; --skip-host-network leaves the host alone", async () => {
  await withSimHost({ config: testConfig({ network: true }) }, async (h) => {
    const hosts = Deno.readTextFileSync(h.hostsFile);
    const resolv = Deno.readTextFileSync(h.resolvConf);
    await h.ok(["apply", "--yes"]);
    const path = `${h.projectDir}/firestream.toml`;
    Deno.writeTextFileSync(
      path,
      Deno.readTextFileSync(path).replace("configure_dns = true", "configure_dns = false").replace(
        "patch_etc_hosts = true",
        "patch_etc_hosts = false",
      ),
    );
    const plan = await h.ok(["plan"]);
    assertMatch(plan.stdout, "cluster.firestream-local.dns will be updated in place");
    assertMatch(plan.stdout, "cluster.firestream-local.hosts will be updated in place");
    await h.ok(["apply", "--yes"]);
    assertEquals(Deno.readTextFileSync(h.hostsFile), hosts);
    assertEquals(Deno.readTextFileSync(h.resolvConf), resolv);
    assertEquals(routesOf(h).length, 2, "routes stay on");
    const rec = (await h.state()).clusters["firestream-local"].resources;
    assertEquals([rec.dns, rec.hosts_block], [undefined, undefined]);

    await h.ok(["cluster", "delete", "--yes"]);
    h.writeConfig(testConfig({ network: true, name: "skipper" }));
    h.clearCalls();
    await h.ok(["cluster", "create", "--yes", "--skip-host-network"]);
    assertEquals(
      h.mutatingCalls().filter((c) => c.startsWith("ip ") || c.startsWith("resolvectl")),
      [],
    );
    assertEquals(Deno.readTextFileSync(h.hostsFile), hosts);
    assertNotMatch(Deno.readTextFileSync(h.resolvConf), "firestream");
  });
});

Deno.test("network: a delete that fails at the cluster puts the host setup back as it was", async () => {
  await withSimHost({ config: testConfig({ network: true }) }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const hosts = Deno.readTextFileSync(h.hostsFile);
    const resolv = Deno.readTextFileSync(h.resolvConf);
    const routes = routesOf(h);
    h.fault("k3d cluster delete", "FATA[0000] simulated: docker went away");
    const r = await h.run(["cluster", "delete", "--yes"]);
    assertEquals(r.code, 1);
    assertMatch(r.stderr, "Delete k3d cluster failed");
    assertMatch(r.stderr, "rolled back");
    assertEquals(Deno.readTextFileSync(h.hostsFile), hosts);
    assertEquals(Deno.readTextFileSync(h.resolvConf), resolv);
    assertEquals(routesOf(h), routes);
    const rec = (await h.state()).clusters["firestream-local"].resources;
    assertOk(rec.hosts_block && rec.dns && rec.routes, "the record still holds them");
    await h.ok(["cluster", "delete", "--yes"]);
    assertEquals(routesOf(h), []);
  });
});
