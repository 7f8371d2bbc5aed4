/**
 * End-to-end: behaviour that depends on what the real tools print (test/sim/fixtures/README.md):
 * where k3d keeps the API port, k3d's coloured and split log lines, Traefik's late CRDs, addresses
 * that change on restart, the registry prefix, kubectl's klog noise, a denied Docker socket, a
 * missing kube context, `kubectl top pod -A`.
 */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { freePort, type SimHost, testConfig, withSimHost } from "../sim/harness.ts";
import { until } from "../wait.ts";

const ESC = String.fromCharCode(27);

/** A config for cluster `name` with the given host ports (no registry). */
function portsConfig(name: string, api: number, http: number, https: number): string {
  return testConfig({ name, registry: false, extra: "" })
    .replace(/(enabled = false)\nport = \d+/, "$1")
    .replace(
      "[cluster.k3d.registry]",
      'agents = 0\nk3s_version = "v1.31.5-k3s1"\n\n[cluster.k3d.registry]',
    )
    .replace(/api_port = \d+/, `api_port = ${api}`)
    .replace(/http_port = \d+/, `http_port = ${http}`)
    .replace(/https_port = \d+/, `https_port = ${https}`);
}

Deno.test("k3d's API port is read from the nodes: an import on a non-default port plans no change", async () => {
  const [api, http, https] = [freePort(), freePort(), freePort()];
  await withSimHost({ config: portsConfig("legacy", api, http, https) }, async (h) => {
    const made = await h.tool("k3d", [
      "cluster",
      "create",
      "legacy",
      "--api-port",
      `127.0.0.1:${api}`,
      "-p",
      `127.0.0.1:${http}:80@loadbalancer`,
      "-p",
      `127.0.0.1:${https}:443@loadbalancer`,
    ]);
    assertEquals(made.code, 0, made.stderr);
    await h.ok(["import", "cluster", "legacy"]);
    const rec = (await h.state()).clusters.legacy;
    assertEquals(
      [rec.k3d_config.api_port, rec.k3d_config.http_port, rec.k3d_config.https_port],
      [api, http, https],
    );
    const info = JSON.parse((await h.ok(["cluster", "info", "legacy", "--json"])).stdout);
    assertEquals(info.api, `https://127.0.0.1:${api}`);
    assertEquals(info.drift, []);
    // the config names the true port: no replacement; the import recorded the cluster as it is,
    // without ingress names, which this config turns on (a key of its CoreDNS, nothing else)
    const plan = await h.run(["plan", "--detailed-exitcode", "--json"]);
    const planned = JSON.parse(plan.stdout);
    assertEquals(planned.summary, { create: 1, update: 1, replace: 0, delete: 0 }, plan.stdout);
    assertEquals(
      planned.changes.map((c: { address: string; action: string; diffs: { key: string }[] }) => [
        c.address,
        c.action,
        c.diffs.map((d) => d.key).join(","),
      ]),
      [
        ["cluster.legacy", "update", "ingress.wildcard_dns"],
        ["cluster.legacy.ingress-dns", "create", "coredns-custom firestream.server"],
      ],
    );
    await h.ok(["apply", "--yes"]);
    assertEquals((await h.run(["plan", "--detailed-exitcode"])).code, 0);
  });
});

Deno.test("an imported cluster that publishes no 80/443 records them as unpublished: no false clash", async () => {
  await withSimHost({}, async (h) => {
    const made = await h.tool("k3d", ["cluster", "create", "plain"]);
    assertEquals(made.code, 0, made.stderr);
    await h.ok(["import", "cluster", "plain"]);
    const rec = (await h.state()).clusters.plain;
    assertEquals(rec.unpublished_ports, ["http_port", "https_port"]);
    // plain `k3d cluster create` picks the API port itself; it is found on the server node
    const live = JSON.parse((await h.tool("k3d", ["cluster", "list", "-o", "json"])).stdout)[0];
    const port = live.nodes.find((n: { role: string }) => n.role === "server").serverOpts.kubeAPI
      .Binding.HostPort;
    assertEquals(rec.k3d_config.api_port, Number(port));
    const info = JSON.parse((await h.ok(["cluster", "info", "plain", "--json"])).stdout);
    assertEquals(info.api, `https://127.0.0.1:${port}`);
    // another cluster on 80 and 443: those are the imported cluster's defaults, not its bindings
    h.writeConfig(
      portsConfig("web", freePort(), 80, 443),
    );
    const r = await h.run(["plan", "--json"]);
    assertEquals(r.code, 0, r.stderr);
    assertOk(!/also http_port of managed cluster plain/.test(r.stderr), r.stderr);
  });
});

Deno.test("a 2-server create that k3d fails reports k3d's ERRO line, without escape codes, not its warning", async () => {
  const config = testConfig({ registry: false }).replace(
    "[cluster.k3d.registry]",
    "servers = 2\nagents = 0\n\n[cluster.k3d.registry]",
  );
  await withSimHost({ config }, async (h) => {
    const http = Number(/http_port = (\d+)/.exec(config)![1]);
    // the port is taken after preflight looked: k3d fails when it starts the load balancer
    h.hold("k3d cluster create");
    const child = h.spawn(["cluster", "create", "--yes", "--json"], {
      stdout: "piped",
      stderr: "piped",
    });
    await until(
      "k3d cluster create to start",
      () =>
        h.calls().some((c) =>
          c.tool === "k3d" && c.argv[0] === "cluster" && c.argv[1] === "create"
        ),
    );
    const taken = Deno.listen({ hostname: "127.0.0.1", port: http });
    h.release("k3d cluster create");
    const [status, out, err] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    taken.close();
    assertEquals(status.code, 1, err);
    assertMatch(err, "Failed Cluster Start: Failed to add one or more helper nodes");
    assertMatch(err, `127.0.0.1:${http}`);
    assertOk(!err.includes("You're creating 2 server nodes"), err);
    assertOk(!err.includes(ESC) && !out.includes(ESC), "no escape codes");
    // the call ran without colours and without a user's LOG_LEVEL
    const create = h.calls().find((c) => c.tool === "k3d" && c.argv[1] === "create")!;
    assertOk(create, "k3d was called");
    const journal = [...Deno.readDirSync(`${h.projectDir}/.firestream`)].filter((e) =>
      e.name.startsWith("journal")
    );
    for (const e of journal) {
      const path = `${h.projectDir}/.firestream/${e.name}`;
      if (e.isFile) assertOk(!Deno.readTextFileSync(path).includes(ESC), `${e.name} is plain`);
    }
    assertEquals(Object.keys(h.world().clusters), [], "k3d rolled back");
  });
});

Deno.test("k3d runs without the user's LOG_LEVEL: its DEBUG lines never reach the JSON", async () => {
  await withSimHost({ config: testConfig({ registry: false }) }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    // what the user's shell would get from k3d itself
    const raw = await h.tool("k3d", ["cluster", "list", "-o", "json"]);
    assertEquals(JSON.parse(raw.stdout).length, 1);
    const noisy = await runWith(h, { LOG_LEVEL: "debug" }, [
      "k3d",
      "cluster",
      "list",
      "-o",
      "json",
    ]);
    assertMatch(noisy, "Runtime Info:", "k3d puts DEBUG lines on stdout");
    const r = await h.run(["cluster", "list", "--json"], { env: { LOG_LEVEL: "debug" } });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(JSON.parse(r.stdout).map((c: { name: string }) => c.name), ["firestream-local"]);
  });
});

/** Stdout of a simulated tool run with extra environment. */
async function runWith(h: SimHost, env: Record<string, string>, argv: string[]): Promise<string> {
  const out = await new Deno.Command(new URL(`../sim/bin/${argv[0]}`, import.meta.url).pathname, {
    args: argv.slice(1),
    env: { ...h.env, ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

Deno.test("Traefik's TLSStore type arrives after the nodes are ready: create waits for it and sets the default certificate", async () => {
  const config = testConfig({ registry: false }).replace(
    "[cluster.k3d.tls]\nenabled = false",
    "[cluster.k3d.tls]\nenabled = true",
  );
  await withSimHost({ config }, async (h) => {
    // real k3s: the traefik-crd HelmChart job applies the CRDs tens of seconds after start; here
    // they arrive once create says it waits for them
    h.updateWorld((w) => w.traefikCrdDelayMs = 24 * 3600_000);
    const child = h.spawn(["cluster", "create", "--yes"], { stdout: "piped", stderr: "piped" });
    let stderr = "";
    const read = (async () => {
      for await (const c of child.stderr.pipeThrough(new TextDecoderStream())) stderr += c;
    })();
    const stdout = new Response(child.stdout).text();
    await until(
      "create to wait for the type",
      () => stderr.includes("waiting for Traefik's TLSStore type"),
    );
    h.updateWorld((w) => w.clusters["firestream-local"].traefikCrdsAt = new Date().toISOString());
    const status = await child.status;
    await read;
    assertEquals(status.code, 0, stderr);
    assertOk(!/Traefik is not installed/.test(stderr + (await stdout)), stderr);
    const store = h.world().clusters["firestream-local"].kube.objects.tlsstores?.[
      "kube-system/default"
    ];
    assertEquals(store?.spec?.defaultCertificate?.secretName, "firestream-tls");
    const plan = await h.run(["plan", "--detailed-exitcode"]);
    assertEquals(plan.code, 0, plan.stdout);
  });
});

Deno.test("a restarted cluster whose server changed address: info marks the routes, plan shows drift, apply repairs", async () => {
  await withSimHost({ config: testConfig({ network: true, registry: false }) }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const before = (await h.state()).clusters["firestream-local"].resources.routes;
    assertEquals((await h.tool("k3d", ["cluster", "stop", "firestream-local"])).code, 0);
    assertEquals((await h.tool("k3d", ["cluster", "start", "firestream-local"])).code, 0);
    const server = h.world().containers["k3d-firestream-local-server-0"].networks[
      "k3d-firestream-local"
    ].ip;
    assertOk(server !== before[0].via, `the server moved (${before[0].via} → ${server})`);

    const info = JSON.parse((await h.ok(["cluster", "info", "--json"])).stdout);
    assertEquals(info.status, "drifted");
    assertEquals(
      info.host.routes.map((r: { present: boolean; stale: boolean }) => [r.present, r.stale]),
      [[false, true], [false, true]],
    );
    const text = (await h.ok(["cluster", "info"])).stdout;
    assertMatch(text, "stale: the server's address changed");

    const plan = JSON.parse((await h.run(["plan", "--json"])).stdout);
    const routes = plan.changes.find((c: { address: string }) =>
      c.address === "cluster.firestream-local.routes"
    );
    assertEquals(routes.cause, "drift");
    assertEquals(routes.diffs[0], {
      key: "route 10.42.0.0/16",
      from: before[0].via,
      to: server,
      drift: true,
    });

    await h.ok(["apply", "--auto-approve"]);
    const routesNow = h.world().routes.filter((r) => r.dst.startsWith("10.4"));
    assertEquals(routesNow.map((r) => r.gateway), [server, server]);
    const after = JSON.parse((await h.ok(["cluster", "info", "--json"])).stdout);
    assertEquals(after.host.routes.map((r: { present: boolean }) => r.present), [true, true]);
    assertEquals((await h.run(["plan", "--detailed-exitcode"])).code, 0);
    await h.ok(["cluster", "delete", "--yes"]);
    assertEquals(h.world().routes.filter((r) => r.dst.startsWith("10.4")), []);
  });
});

Deno.test('registry.name = "k3d-reg": k3d names the container k3d-k3d-reg; create, re-apply and delete agree', async () => {
  const config = testConfig().replace(
    "[cluster.k3d.registry]\nenabled = true",
    '[cluster.k3d.registry]\nenabled = true\nname = "k3d-reg"',
  );
  await withSimHost({ config }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    assertOk(h.world().containers["k3d-k3d-reg"], "k3d's container name");
    const rec = (await h.state()).clusters["firestream-local"].resources.registry;
    assertEquals([rec.name, rec.container], ["k3d-reg", "k3d-k3d-reg"]);
    const cfg = Deno.readTextFileSync(`${h.projectDir}/.firestream/k3d/firestream-local.yaml`);
    assertMatch(cfg, "k3d-k3d-reg:");
    h.clearCalls();
    const again = await h.ok(["cluster", "create", "--yes"]);
    assertMatch(again.stdout, "already up to date");
    assertEquals(h.mutatingCalls(), []);
    await h.ok(["cluster", "delete", "--yes"]);
    assertEquals(Object.keys(h.world().containers), []);
  });
});

Deno.test("an API server that refuses connections: the decisive kubectl line is quoted, not its klog noise", async () => {
  await withSimHost({ config: testConfig({ registry: false }) }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    assertEquals((await h.tool("docker", ["stop", "k3d-firestream-local-serverlb"])).code, 0);
    const raw = await h.tool("kubectl", ["--context", "k3d-firestream-local", "get", "nodes"]);
    assertMatch(raw.stderr, /^E\d{4} .* memcache\.go:\d+\] /, "the real client's noise first");
    const r = await h.ok(["cluster", "diagnostics", "--nodes", "--json"]);
    const error: string = JSON.parse(r.stdout).sections.nodes.error;
    assertMatch(error, /The connection to the server 127\.0\.0\.1:\d+ was refused/);
    assertOk(!/memcache|Unhandled Error/.test(error), error);
  });
});

Deno.test("a Docker socket that refuses the user: the hint names the docker group", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    h.updateWorld((w) => w.dockerDenied = true);
    const r = await h.run(["cluster", "create", "--yes"]);
    assertEquals(r.code, 1, r.stdout);
    assertMatch(r.stderr, "Docker refused this user");
    assertMatch(r.stderr, "docker` group");
    assertMatch(r.stderr, "usermod -aG docker");
    assertEquals(h.mutatingCalls(), []);
    assertEquals(h.stateBytes(), undefined, "state untouched");
  });
});

Deno.test("a kube context missing from the kubeconfig is named with the command that writes it; top -A has namespaces", async () => {
  const config = testConfig({ registry: false }).replace(
    "[cluster.k3d.tls]\nenabled = false",
    "[cluster.k3d.tls]\nenabled = true",
  );
  await withSimHost({ config }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const top = JSON.parse(
      (await h.ok(["cluster", "diagnostics", "--nodes", "--pods", "-n", "all", "--json"])).stdout,
    );
    assertOk(top.metrics.ok, JSON.stringify(top.metrics));
    const coredns = top.metrics.pods.find((p: { name: string }) => p.name.startsWith("coredns"));
    assertEquals(coredns.namespace, "kube-system");

    h.updateWorld((w) => {
      w.kubeconfig.contexts = [];
      w.kubeconfig.current = "";
    });
    const r = await h.run(["plan"]);
    assertEquals(r.code, 1, r.stdout);
    assertMatch(r.stderr, "kubeconfig has no context k3d-firestream-local");
    assertMatch(r.stderr, "k3d kubeconfig merge firestream-local --kubeconfig-merge-default");
    assertOk(!r.stderr.includes("Error in configuration: Error in configuration"), r.stderr);
  });
});
