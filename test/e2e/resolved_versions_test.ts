/**
 * End-to-end: systemd-resolved as systemd 260 reports it (resolvectl over varlink, `Delegate`
 * sections; src/host/dns.ts RESOLVED_ABSENT, parseResolvectlStatus).
 */
import { assertEquals } from "../assert.ts";
import { testConfig, withSimHost } from "../sim/harness.ts";

const resolvBefore = "# managed by hand\nnameserver 192.0.2.53\nsearch example.internal";

Deno.test("systemd 260 without systemd-resolved: create falls back to resolv.conf, delete restores it byte for byte", async () => {
  await withSimHost({ config: testConfig({ network: true }) }, async (h) => {
    h.updateWorld((w) => w.systemdVersion = 260);
    Deno.writeTextFileSync(h.resolvConf, resolvBefore);
    const status = await h.tool("resolvectl", ["status"]);
    assertEquals(
      status.stderr,
      "Failed to connect to service /run/systemd/resolve/io.systemd.Resolve: No such file or directory\n",
    );
    const dns = await h.startDns();
    const r = await h.run(["cluster", "create", "--yes"], { env: { FIRESTREAM_DNS_PROBE: dns } });
    assertEquals(r.code, 0, r.stderr);
    assertEquals((await h.state()).clusters["firestream-local"].resources.dns.mode, "resolv.conf");
    assertEquals(Deno.readTextFileSync(h.resolvConf).includes("nameserver 10.43.0.10"), true);
    await h.ok(["cluster", "delete", "--yes"]);
    assertEquals(Deno.readTextFileSync(h.resolvConf), resolvBefore);
  });
});

Deno.test("systemd 260 with a DNS delegate: its section is not read as the cluster bridge's, so a second run changes nothing", async () => {
  await withSimHost({ config: testConfig({ network: true }), resolved: true }, async (h) => {
    h.updateWorld((w) => {
      w.systemdVersion = 260;
      w.delegates = { corp: { dns: ["10.8.0.1", "10.8.0.2"], domains: ["~corp.example"] } };
    });
    await h.ok(["cluster", "create", "--yes"]);
    const bridge = h.world().networks["k3d-firestream-local"].bridge;
    const status = (await h.tool("resolvectl", ["status"])).stdout;
    assertEquals(
      status.trimEnd().split("\n").slice(-4).join("\n"),
      "Delegate corp\n  DNS Servers: 10.8.0.1 10.8.0.2\n   DNS Domain: ~corp.example\nDefault Route: no",
      "the delegate follows the cluster bridge's link",
    );
    assertEquals(status.includes(`(${bridge})`), true);
    h.clearCalls();
    await h.ok(["cluster", "create", "--yes"]);
    assertEquals(h.mutatingCalls(), [], "converged: the delegate's servers are not the bridge's");
    await h.ok(["plan", "--detailed-exitcode"]);
    await h.ok(["cluster", "delete", "--yes"]);
    assertEquals(h.world().links[bridge], undefined);
  });
});
