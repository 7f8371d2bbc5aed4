/**
 * Refresh once, then diff: a no-op plan makes a handful of concurrent read-only calls, and every
 * kind of drift plans its exact key, before and after, labelled as drift; apply then converges.
 */
import { assertEquals, assertOk } from "../assert.ts";
import { testConfig, withSimHost } from "../sim/harness.ts";
import { until } from "../wait.ts";
import { change, converges, planned } from "./plans.ts";

const CLUSTER = "firestream-local";

function everythingOn(): string {
  return testConfig({ network: true }).replace(
    "[cluster.k3d.tls]\nenabled = false",
    '[cluster.k3d.tls]\nenabled = true\nnamespaces = ["default"]',
  );
}

Deno.test("refresh: a no-op plan makes at most 5 read-only calls, all started before any ends", async () => {
  await withSimHost({ config: everythingOn() }, async (h) => {
    await h.ok(["apply", "--yes"]);
    h.clearCalls();
    const learn = await h.run(["plan", "--detailed-exitcode"]);
    assertEquals(learn.code, 0, learn.stdout + learn.stderr);
    const reads = h.ownCalls().length;
    // every call is held: calls issued one after another could not all start
    h.clearCalls();
    h.hold("");
    const child = h.spawn(["plan", "--detailed-exitcode"]);
    await until(`all ${reads} reads started, none ended`, () => h.ownCalls().length >= reads);
    h.release("");
    const status = await child.status;
    assertEquals(status.code, 0);
    const calls = h.ownCalls();
    const list = calls.map((c) => `${c.tool} ${c.argv.join(" ")}`).join("\n");
    assertOk(calls.length > 0 && calls.length <= 5, `${calls.length} calls:\n${list}`);
    assertEquals(calls.length, reads, list);
    assertEquals(calls.filter((c) => c.mutating), [], list);
    const firstEnd = Math.min(...calls.map((c) => Date.parse(c.end!)));
    for (const c of calls) {
      assertOk(Date.parse(c.time) < firstEnd, `${c.tool} ${c.argv.join(" ")} waited for another`);
    }
  });
});

Deno.test("refresh: each kind of drift plans its key with before, after and the drift label", async () => {
  await withSimHost({ config: everythingOn() }, async (h) => {
    await h.ok(["apply", "--yes"]);
    const state = await h.state();
    const rec = state.clusters[CLUSTER].resources;
    const server = rec.routes[0].via;

    // the hosts block edited by hand
    const hosts = Deno.readTextFileSync(h.hostsFile);
    const lines: string[] = rec.hosts_block.lines;
    Deno.writeTextFileSync(h.hostsFile, hosts.replace(`${lines[0]}\n`, ""));
    let c = change(await planned(h), `cluster.${CLUSTER}.hosts`);
    assertEquals([c.cause, c.diffs.length], ["drift", 1]);
    assertEquals(c.diffs[0], {
      key: `hosts block in ${h.hostsFile}`,
      from: lines.slice(1),
      to: lines,
      drift: true,
    });
    await converges(h);

    // the hosts block removed by hand
    Deno.writeTextFileSync(
      h.hostsFile,
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n",
    );
    c = change(await planned(h), `cluster.${CLUSTER}.hosts`);
    assertEquals(c.diffs[0], {
      key: `hosts block in ${h.hostsFile}`,
      from: null,
      to: lines,
      drift: true,
    });
    await converges(h);

    // a route deleted
    assertEquals((await h.tool("ip", ["route", "del", "10.42.0.0/16"])).code, 0);
    c = change(await planned(h), `cluster.${CLUSTER}.routes`);
    assertEquals(c.cause, "drift");
    assertEquals(c.diffs, [{ key: "route 10.42.0.0/16", from: null, to: server, drift: true }]);
    await converges(h);

    // the DNS setting removed (the resolv.conf blocks taken out)
    Deno.writeTextFileSync(h.resolvConf, "nameserver 192.0.2.53\nsearch example.internal\n");
    c = change(await planned(h), `cluster.${CLUSTER}.dns`);
    assertEquals(c.cause, "drift");
    assertEquals(c.diffs.map((d) => [d.key, d.drift]), [[`dns ${h.resolvConf}`, true]]);
    await converges(h);

    // the TLS secret deleted
    const del = await h.tool("kubectl", [
      "--context",
      `k3d-${CLUSTER}`,
      "delete",
      "secret",
      "firestream-tls",
      "-n",
      "default",
    ]);
    assertEquals(del.code, 0, del.stderr);
    c = change(await planned(h), `cluster.${CLUSTER}.tls-secret`);
    assertEquals(c.cause, "drift");
    assertEquals(c.diffs, [{
      key: "secret default/firestream-tls",
      from: null,
      to: "the cluster's certificate",
      drift: true,
    }]);
    await converges(h);

    // the registry container stopped
    assertEquals((await h.tool("docker", ["stop", "k3d-registry.localhost"])).code, 0);
    c = change(await planned(h), `cluster.${CLUSTER}.registry`);
    assertEquals([c.action, c.cause], ["replace", "drift"]);
    assertEquals(c.diffs, [{ key: "registry.running", from: false, to: true, drift: true }]);
    await converges(h);

    // an agent removed with k3d
    const agents = (await h.state()).clusters[CLUSTER].k3d_config.agents;
    const gone = await h.tool("k3d", ["node", "delete", `k3d-${CLUSTER}-agent-${agents - 1}`]);
    assertEquals(gone.code, 0, gone.stderr);
    c = change(await planned(h), `cluster.${CLUSTER}`);
    assertEquals([c.action, c.cause], ["update", "drift"]);
    assertEquals(c.diffs.find((d) => d.key === "agents"), {
      key: "agents",
      from: agents - 1,
      to: agents,
      drift: true,
      forces_replacement: false,
    });
    await converges(h);
  });
});
