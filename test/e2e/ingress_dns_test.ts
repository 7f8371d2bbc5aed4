/**
 * End-to-end: every name under the ingress domain answers with Traefik's Service inside the
 * cluster (one key of CoreDNS's `coredns-custom`), a user's own keys stay byte for byte, drift is
 * planned key by key, and the hosts-block fallback follows the cluster's Ingresses.
 */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { type SimHost, testConfig, withSimHost } from "../sim/harness.ts";
import { change, converges, planned } from "./plans.ts";

const CLUSTER = "firestream-local";
const CONTEXT = `k3d-${CLUSTER}`;
const KEY = "firestream.server";

/** A user's own keys, with the bytes a hand-written file has: CRLF, tabs, no final newline. */
const USER_KEYS = {
  "corp.server": "corp.example:53 {\r\n\tforward . 192.0.2.1\r\n}",
  "log.override": "log  \n",
};

function customData(h: SimHost): Record<string, string> | undefined {
  return h.world().clusters[CLUSTER].kube.objects.configmaps?.["kube-system/coredns-custom"]?.data;
}

async function kubectl(h: SimHost, args: string[]) {
  const r = await h.tool("kubectl", ["--context", CONTEXT, ...args]);
  assertEquals(r.code, 0, r.stderr);
  return r;
}

function withKeys(h: SimHost, data: Record<string, string>): void {
  h.kube(CLUSTER, (k, { put }) => {
    const existing = k.objects.configmaps?.["kube-system/coredns-custom"];
    put(k, "configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: existing?.metadata ?? { name: "coredns-custom", namespace: "kube-system" },
      data: { ...(existing?.data ?? {}), ...data },
    });
  });
}

Deno.test("ingress dns: create writes one server block answering the domain with Traefik's address; a second create changes nothing", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const world = h.world().clusters[CLUSTER].kube.objects;
    const traefik = world.services["kube-system/traefik"].spec.clusterIP;
    const cm = world.configmaps["kube-system/coredns-custom"];
    assertEquals(Object.keys(cm.data), [KEY]);
    assertEquals(cm.metadata.labels["app.kubernetes.io/managed-by"], "firestream");
    assertMatch(cm.data[KEY], /^firestream\.local:53 \{$/m);
    assertMatch(cm.data[KEY], `IN A ${traefik}"`);
    const rec = (await h.state()).clusters[CLUSTER].resources.ingress_dns;
    assertEquals(rec, {
      domain: "firestream.local",
      addresses: [traefik],
      key: KEY,
      configmap_created: true,
    });
    // the simulated CoreDNS loads the block and answers any name under the domain
    const probe = await h.startDns();
    const [ip, port] = [probe.split(":")[0], Number(probe.split(":")[1])];
    const answer = await Deno.resolveDns("never-written.firestream.local", "A", {
      nameServer: { ipAddr: ip, port },
    });
    assertEquals(answer, [traefik]);
    h.clearCalls();
    await h.ok(["cluster", "create", "--yes"]);
    assertEquals(h.mutatingCalls(), []);
  });
});

Deno.test("ingress dns: a user's coredns-custom keys stay byte for byte through apply, a failed delete and a domain change; turning it off keeps their ConfigMap", async () => {
  const off = testConfig({ extra: "\n[cluster.k3d.ingress]\nwildcard_dns = false\n" });
  await withSimHost({ config: off }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    assertEquals(customData(h), undefined);
    withKeys(h, USER_KEYS);

    // turned on: only Firestream's key is added, by a merge patch naming only it
    h.writeConfig(off.replace("wildcard_dns = false", "wildcard_dns = true"));
    h.clearCalls();
    await h.ok(["apply", "--yes"]);
    assertEquals(customData(h)!["corp.server"], USER_KEYS["corp.server"]);
    assertEquals(customData(h)!["log.override"], USER_KEYS["log.override"]);
    assertOk(customData(h)![KEY]);
    const writes = h.calls().filter((c) => c.mutating && c.argv.includes("coredns-custom"));
    assertOk(writes.length === 1 && writes[0].argv.includes("patch"), JSON.stringify(writes));
    assertEquals(
      (await h.state()).clusters[CLUSTER].resources.ingress_dns.configmap_created,
      false,
    );

    // a custom domain: the key is rewritten, the user's keys are not
    h.writeConfig(
      off.replace("wildcard_dns = false", 'wildcard_dns = true\ndomain = "apps.example.test"'),
    );
    const c = change(await planned(h), `cluster.${CLUSTER}.ingress-dns`);
    assertEquals(c.diffs.map((d) => [d.key, d.from, d.to, d.drift]), [
      [`coredns-custom ${KEY} domain`, "firestream.local", "apps.example.test", undefined],
    ]);
    await converges(h);
    assertMatch(customData(h)![KEY], /^apps\.example\.test:53 \{$/m);
    assertEquals(customData(h)!["corp.server"], USER_KEYS["corp.server"]);

    // a delete that fails at the cluster puts the key back; the user's keys never move
    h.clearCalls();
    h.fault("k3d cluster delete", "FATA[0000] simulated failure", { times: 1 });
    const failed = await h.run(["cluster", "delete", "--yes"]);
    assertEquals(failed.code, 1, failed.stdout + failed.stderr);
    assertEquals(customData(h)!["corp.server"], USER_KEYS["corp.server"]);
    assertEquals(customData(h)!["log.override"], USER_KEYS["log.override"]);
    assertMatch(customData(h)![KEY], /^apps\.example\.test:53 \{$/m);
    const patches = h.calls().filter((c) => c.argv.includes("patch")).map((c) =>
      JSON.parse(c.argv.at(-1)!)
    );
    // the key went with a merge patch naming it alone, and the rollback put it back the same way
    assertEquals(patches.length, 2, JSON.stringify(patches));
    assertEquals(patches[0], { data: { [KEY]: null } });
    assertEquals(Object.keys(patches[1].data), [KEY]);

    // turned off again: only Firestream's key goes, the ConfigMap is the user's and stays
    h.writeConfig(off);
    await converges(h);
    assertEquals(customData(h), USER_KEYS);
    assertEquals((await h.state()).clusters[CLUSTER].resources.ingress_dns, undefined);
    await h.ok(["cluster", "delete", "--yes"]);
  });
});

Deno.test("ingress dns: plan shows a changed Traefik address and a removed key as drift, each with its key", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const before = h.world().clusters[CLUSTER].kube.objects.services["kube-system/traefik"].spec
      .clusterIP;
    h.kube(CLUSTER, (k) => {
      const svc = k.objects.services["kube-system/traefik"];
      svc.spec.clusterIP = "10.43.200.7";
      svc.spec.clusterIPs = ["10.43.200.7"];
    });
    let c = change(await planned(h), `cluster.${CLUSTER}.ingress-dns`);
    assertEquals([c.cause, c.diffs], ["drift", [{
      key: `coredns-custom ${KEY} address`,
      from: [before],
      to: ["10.43.200.7"],
      drift: true,
    }]]);
    await converges(h);
    assertMatch(customData(h)![KEY], 'IN A 10.43.200.7"');

    // the key removed by hand (the ConfigMap stays, with a user's key)
    withKeys(h, USER_KEYS);
    await kubectl(h, [
      "patch",
      "configmap",
      "coredns-custom",
      "-n",
      "kube-system",
      "--type",
      "merge",
      "-p",
      JSON.stringify({ data: { [KEY]: null } }),
    ]);
    c = change(await planned(h), `cluster.${CLUSTER}.ingress-dns`);
    assertEquals([c.cause, c.diffs], ["drift", [{
      key: `coredns-custom ${KEY}`,
      from: null,
      to: "firestream.local → 10.43.200.7",
      drift: true,
    }]]);
    await converges(h);
    assertEquals(customData(h)!["corp.server"], USER_KEYS["corp.server"]);
  });
});

Deno.test("ingress dns: without routes the cluster's Ingress hosts go into the hosts block; plan shows each one added or gone as drift", async () => {
  const config = testConfig({ network: true }).replace(
    "configure_routes = true",
    "configure_routes = false",
  );
  await withSimHost({ config }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    assertEquals((await h.state()).clusters[CLUSTER].resources.hosts_block.ingress_hosts, []);
    h.kube(CLUSTER, (k, { addIngress }) => {
      addIngress(k, { namespace: "default", name: "hello", hosts: ["hello.firestream.local"] });
      addIngress(k, { namespace: "default", name: "elsewhere", hosts: ["app.example.com"] });
    });
    let c = change(await planned(h), `cluster.${CLUSTER}.hosts`);
    assertEquals([c.cause, c.diffs], ["drift", [{
      key: "ingress host hello.firestream.local",
      from: null,
      to: "127.0.0.1",
      drift: true,
    }]]);
    await converges(h);
    assertMatch(Deno.readTextFileSync(h.hostsFile), "127.0.0.1\thello.firestream.local\n");

    h.kube(CLUSTER, (k) => {
      delete k.objects.ingresses["default/hello"];
    });
    c = change(await planned(h), `cluster.${CLUSTER}.hosts`);
    assertEquals(c.diffs, [{
      key: "ingress host hello.firestream.local",
      from: "127.0.0.1",
      to: null,
      drift: true,
    }]);
    await converges(h);
    assertEquals(Deno.readTextFileSync(h.hostsFile).includes("hello.firestream.local"), false);
    await h.ok(["cluster", "delete", "--yes"]);
    assertEquals(
      Deno.readTextFileSync(h.hostsFile),
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n",
    );
  });
});

Deno.test("ingress dns: cluster info and doctor show the domain, the answer address and whether a name under it resolves", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const traefik = h.world().clusters[CLUSTER].kube.objects.services["kube-system/traefik"].spec
      .clusterIP;
    const probe = { FIRESTREAM_DNS_PROBE: await h.startDns() };
    const info = await h.run(["cluster", "info"], { env: probe });
    assertEquals(info.code, 0, info.stderr);
    assertMatch(info.stdout, `ingress:    *.firestream.local → ${traefik}`);
    assertMatch(info.stdout, `firestream-probe.firestream.local resolves to ${traefik}`);
    const json = JSON.parse((await h.run(["cluster", "info", "--json"], { env: probe })).stdout);
    const view = Array.isArray(json) ? json[0] : json;
    assertEquals(view.ingress.lookup, {
      name: "firestream-probe.firestream.local",
      addresses: [traefik],
    });
    const doctor = await h.run(["doctor", "--json"], { env: probe });
    const checks = JSON.parse(doctor.stdout).checks ?? JSON.parse(doctor.stdout);
    const check = checks.find((x: { name: string }) => x.name === "ingress names");
    assertEquals(check.status, "pass", JSON.stringify(check));
    assertMatch(check.detail, `*.firestream.local → ${traefik}`);

    // the key gone from CoreDNS: the name no longer resolves, and both say so with the fix
    await kubectl(h, [
      "delete",
      "configmap",
      "coredns-custom",
      "-n",
      "kube-system",
    ]);
    const after = await h.run(["cluster", "info"], { env: probe });
    assertMatch(after.stdout, "firestream-probe.firestream.local does not resolve on this host");
    assertMatch(after.stdout, "fix: run `firestream apply`");
  });
});
