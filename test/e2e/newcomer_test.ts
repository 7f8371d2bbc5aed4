/** End-to-end: the paths a newcomer walks from the README and the hints, on the simulated host. */
import { assertEquals, assertMatch, assertNotMatch, assertOk } from "../assert.ts";
import { type SimHost, testConfig, withSimHost } from "../sim/harness.ts";
import { until } from "../wait.ts";
import { answer, entries } from "./forwards.ts";

/** The test config with TLS on. */
function tlsConfig(options: Parameters<typeof testConfig>[0] = {}): string {
  return testConfig(options).replace(
    "[cluster.k3d.tls]\nenabled = false",
    "[cluster.k3d.tls]\nenabled = true",
  );
}

/** A service `web` (8080) in default and `api` (80) in apps, each with a ready pod. */
function addServices(h: SimHost): void {
  h.kube("firestream-local", (k, { addService, addDeployment, addNamespace }) => {
    addDeployment(k, { namespace: "default", name: "web" });
    addService(k, { namespace: "default", name: "web", ports: [8080] });
    addNamespace(k, "apps");
    addDeployment(k, { namespace: "apps", name: "api" });
    addService(k, { namespace: "apps", name: "api", ports: [80] });
  });
}

Deno.test("newcomer: create --clean on a converged cluster deletes and recreates it, the TLS secret and hosts block included", async () => {
  await withSimHost({ config: tlsConfig({ network: true }) }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const block = Deno.readTextFileSync(h.hostsFile);
    assertMatch(block, "# BEGIN firestream firestream-local");
    const r = await h.run(["cluster", "create", "--clean", "--yes"]);
    assertEquals(r.code, 0, r.stderr);
    assertNotMatch(r.stderr, "Cannot set properties");
    assertMatch(r.stdout, "Cluster firestream-local is ready.");
    // the delete half removed the block, the create half wrote it again
    assertMatch(r.stderr, "clean (delete half): Remove /etc/hosts entries");
    assertMatch(r.stderr, "✓ clean (create half): /etc/hosts entries");
    assertEquals(Deno.readTextFileSync(h.hostsFile), block);
    const state = await h.state();
    const tls = state.clusters["firestream-local"].resources.tls;
    assertEquals(tls.secret.name, "firestream-tls");
    assertMatch((await h.ok(["plan"])).stdout, "No changes.");
  });
});

Deno.test("newcomer: the hosts block follows the file's own lines and names no machine hostname", async () => {
  await withSimHost({ config: tlsConfig({ network: true }) }, async (h) => {
    const before = Deno.readTextFileSync(h.hostsFile);
    await h.ok(["cluster", "create", "--yes"]);
    const port = (await h.state()).clusters["firestream-local"].resources.registry.port;
    assertOk(port > 0);
    assertEquals(
      Deno.readTextFileSync(h.hostsFile),
      before + [
        "# BEGIN firestream firestream-local",
        "127.0.0.1\tk3d-registry.localhost",
        "127.0.0.1\tfirestream.local",
        "# END firestream firestream-local\n",
      ].join("\n"),
    );
    await h.ok(["cluster", "delete", "--yes"]);
    assertEquals(Deno.readTextFileSync(h.hostsFile), before);
  });
});

Deno.test("newcomer: port-forward takes kubectl's svc/NAME, refuses a service or namespace that does not exist naming what does, and -n NS forwards that namespace", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    addServices(h);
    const offset = 20000 + Math.floor(Math.random() * 20000);

    h.clearCalls();
    const nosuch = await h.run(["cluster", "port-forward", "nosuch", "--detach"]);
    assertEquals(nosuch.code, 1);
    assertMatch(nosuch.stderr, "no service named nosuch in namespace default");
    assertMatch(nosuch.stderr, "services there: kubernetes, web");
    const typo = await h.run(["cluster", "port-forward", "svc/wbe", "--detach"]);
    assertEquals(typo.code, 1);
    assertMatch(typo.stderr, "did you mean web?");
    const pod = await h.run(["cluster", "port-forward", "pod/web", "--detach"]);
    assertEquals(pod.code, 1);
    assertMatch(pod.stderr, "port-forward forwards services, named NAME or svc/NAME");
    const ns = await h.run(["cluster", "port-forward", "-n", "nosuch", "--detach"]);
    assertEquals(ns.code, 1);
    assertMatch(ns.stderr, "no namespace named nosuch");
    assertMatch(ns.stderr, "apps");
    // nothing started for any of them
    assertEquals(h.calls().filter((c) => c.argv[0] === "port-forward"), []);
    assertEquals(entries(h), []);

    const webOnly = ["cluster", "port-forward", "svc/web", "--detach", "--offset", String(offset)];
    const svc = await h.ok(webOnly);
    assertMatch(svc.stdout, "port forwarding runs in the background");
    await until("web up", () => entries(h).some((e) => e.service === "web" && e.status === "up"));
    assertEquals(entries(h).map((e) => `${e.namespace}/${e.service}`), ["default/web"]);
    assertEquals(await answer(8080 + offset), "default/web:8080");

    // the same request again keeps it; another offset is refused, as the foreground form refuses
    const again = await h.ok(webOnly);
    assertMatch(again.stdout, "already runs in the background");
    const other = await h.run([
      "cluster",
      "port-forward",
      "--detach",
      "--offset",
      String(offset + 1),
    ]);
    assertEquals(other.code, 1);
    assertMatch(
      other.stderr,
      `already runs with offset ${offset}, service default/web (pid`,
    );
    assertMatch(other.stderr, `not offset ${offset + 1}, every service`);
    assertMatch(other.stderr, "--stop");
    // another cluster of the same folder has no forwards of its own to show
    Deno.writeTextFileSync(
      `${h.projectDir}/other.toml`,
      testConfig({ name: "other", registry: false }),
    );
    await h.ok(["-c", "other.toml", "cluster", "create", "--yes"]);
    assertMatch((await h.ok(["cluster", "info"])).stdout, "forwards:   1/1 up");
    assertNotMatch((await h.ok(["cluster", "info", "other"])).stdout, "forwards:");
    const fg = await h.run(["cluster", "port-forward"]);
    assertEquals(fg.code, 1);
    assertNotMatch(fg.stderr, "Ctrl-C stops");
    assertMatch(fg.stderr, "already runs");
    await h.ok(["cluster", "port-forward", "--stop"]);

    // -n alone: every service of that namespace
    await h.ok(["cluster", "port-forward", "-n", "apps", "--detach", "--offset", String(offset)]);
    await until("api up", () => entries(h).some((e) => e.service === "api" && e.status === "up"));
    assertEquals(entries(h).map((e) => `${e.namespace}/${e.service}`), ["apps/api"]);
    await h.ok(["cluster", "port-forward", "--stop"]);
  });
});

Deno.test("newcomer: a forward moved off a port another program holds is said in --list", async () => {
  const offset = 20000 + Math.floor(Math.random() * 20000);
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    addServices(h);
    const held = Deno.listen({ hostname: "127.0.0.1", port: 8080 + offset });
    try {
      const r = await h.ok(["cluster", "port-forward", "--detach", "--offset", String(offset)]);
      assertMatch(r.stderr, `127.0.0.1:${8080 + offset} is in use`);
      await until("web up", () => entries(h).some((e) => e.service === "web" && e.status === "up"));
      const list = (await h.ok(["cluster", "port-forward", "--list"])).stdout;
      assertMatch(list, `127.0.0.1:${8081 + offset} (${8080 + offset} was taken)`);
      await h.ok(["cluster", "port-forward", "--stop"]);
    } finally {
      held.close();
    }
  });
});

Deno.test("newcomer: cluster list --json prints what k3d's list measured, nothing it did not ask", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const [listed] = JSON.parse((await h.ok(["cluster", "list", "--json"])).stdout);
    const info = JSON.parse((await h.ok(["cluster", "info", "--json"])).stdout);
    assertEquals(info.registry.healthy, true);
    assertEquals(info.k3s_versions, ["v1.31.2+k3s1"]);
    assertOk(!("k3s_versions" in listed), "list does not ask the nodes' versions");
    assertOk(!("healthy" in listed.registry), "list does not ask the registry");
    assertEquals(listed.status, "running");
    assertEquals(listed.servers, info.servers);
  });
});

Deno.test("newcomer: cluster stop pauses port forwarding and plan calls it firestream's own stop; cluster start, named by every hint, brings DNS and forwards back", async () => {
  const offset = 20000 + Math.floor(Math.random() * 20000);
  await withSimHost({ config: testConfig({ network: true }) }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    addServices(h);
    await h.ok(["cluster", "port-forward", "svc/web", "--detach", "--offset", String(offset)]);
    await until("web up", () => entries(h).some((e) => e.service === "web" && e.status === "up"));
    const resolv = Deno.readTextFileSync(h.resolvConf);

    const stopped = await h.ok(["cluster", "stop"]);
    assertMatch(stopped.stdout, "`firestream cluster start` starts it again");
    assertMatch(stopped.stderr, "Pause port forwarding");
    assertNotMatch(Deno.readTextFileSync(h.resolvConf), "# BEGIN firestream");
    // no kubectl keeps trying a stopped API
    assertEquals(await answer(8080 + offset), undefined);
    h.clearCalls();
    const info = (await h.ok(["cluster", "info"])).stdout;
    assertMatch(
      info,
      "forwards:   0/1 up (paused by `cluster stop`; `firestream cluster start` resumes it)",
    );
    const plan = (await h.ok(["plan"])).stdout;
    assertMatch(plan, "stopped by `firestream cluster stop`: stopped nodes will be started");
    assertNotMatch(plan, "drift");
    assertEquals(h.calls().filter((c) => c.argv[0] === "port-forward"), []);

    for (
      const args of [["cluster", "logs"], ["cluster", "diagnostics"], ["cluster", "port-forward"]]
    ) {
      const r = await h.run(args);
      assertEquals(r.code, 1, args.join(" "));
      assertMatch(
        r.stderr,
        "cluster firestream-local is stopped; start it with `firestream cluster start firestream-local`",
      );
      assertNotMatch(r.stderr, "k3d cluster start");
    }
    const started = await h.ok(["cluster", "start"]);
    assertMatch(started.stdout, "Cluster firestream-local is running.");
    assertMatch(started.stderr, "port forwarding runs again");
    assertEquals(Deno.readTextFileSync(h.resolvConf), resolv);
    await until("web answers again", async () => await answer(8080 + offset));
    assertMatch((await h.ok(["plan"])).stdout, "No changes.");
    assertMatch((await h.ok(["cluster", "start"])).stdout, "already running; nothing to do");
    await h.ok(["cluster", "port-forward", "--stop"]);
  });
});

Deno.test("newcomer: cluster create on an existing cluster shows the plan and asks, as apply does; a flag's one-off value is named by plan and info", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    const fresh = await h.run(["cluster", "create"]);
    assertEquals(fresh.code, 0, fresh.stderr);
    assertNotMatch(fresh.stderr, "Firestream will perform");

    h.clearCalls();
    const asked = await h.run(["cluster", "create", "--agents", "3"]);
    assertEquals(asked.code, 1);
    assertMatch(asked.stderr, "~ agents = 2 -> 3");
    assertMatch(asked.stderr, "--yes");
    assertEquals(h.mutatingCalls(), []);
    await h.ok(["cluster", "create", "--agents", "3", "--yes"]);

    const plan = (await h.ok(["plan"])).stdout;
    assertMatch(
      plan,
      "~ agents = 3 -> 2 # set by `cluster create --agents 3` for that run only; the config says 2",
    );
    const info = (await h.ok(["cluster", "info"])).stdout;
    assertMatch(info, "agents:     3/3 running (recorded: 3, set by `cluster create --agents 3`)");
    assertNotMatch(info, "config:");
    // the config's value again: nothing is left to explain
    await h.ok(["apply", "--yes"]);
    assertMatch((await h.ok(["plan"])).stdout, "No changes.");
    assertOk(!("set_by_flags" in (await h.state()).clusters["firestream-local"]));
  });
});

Deno.test("newcomer: a held lock is said before any question; plan and info mention a killed run", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    const killed = await h.run(["cluster", "create", "--yes"], {
      env: { FIRESTREAM_KILL_AFTER: "task-done:registry" },
    });
    assertOk(killed.code !== 0);
    const plan = await h.ok(["plan"]);
    assertMatch(plan.stderr, "did not finish, 1 step(s) of it in place");
    assertMatch(plan.stderr, "`firestream rollback`");
    // killed before the cluster was recorded: the run is what there is to say
    const bare = await h.run(["cluster", "info"]);
    assertEquals(bare.code, 1);
    assertMatch(bare.stderr, "cluster firestream-local is not recorded: run ");
    assertMatch(bare.stderr, "of `firestream cluster create --yes`");
    await h.ok(["cluster", "create", "--yes"]);
    assertNotMatch((await h.ok(["plan"])).stderr, "did not finish");

    const more = await h.run(["cluster", "create", "--agents", "3", "--yes"], {
      env: { FIRESTREAM_KILL_AFTER: "task-done:agents" },
    });
    assertOk(more.code !== 0);
    const info = await h.ok(["cluster", "info"]);
    assertMatch(info.stdout, "unfinished: run ");
    assertEquals(
      JSON.parse((await h.ok(["cluster", "info", "--json"])).stdout).unfinished_runs[0].command,
      "firestream cluster create --agents 3 --yes",
    );
    await h.ok(["rollback", "--yes"]);
    assertNotMatch((await h.ok(["cluster", "info"])).stdout, "unfinished");

    // a change to make, so each command would ask
    const path = `${h.projectDir}/firestream.toml`;
    Deno.writeTextFileSync(
      path,
      Deno.readTextFileSync(path).replace(/(\[cluster\.k3d\]\nname = .*\n)/, "$1agents = 3\n"),
    );
    const sleeper = new Deno.Command("sleep", { args: ["3600"] }).spawn();
    try {
      h.holdLock(sleeper.pid);
      for (
        const args of [["cluster", "create", "--agents", "3"], ["cluster", "delete"], ["apply"]]
      ) {
        const r = await h.run(args);
        assertEquals(r.code, 1, args.join(" "));
        assertMatch(r.stderr, `state is locked by pid ${sleeper.pid}`);
        assertNotMatch(r.stderr, "--yes");
        assertNotMatch(r.stderr, "--auto-approve");
      }
    } finally {
      sleeper.kill();
      await sleeper.status;
    }
  });
});

Deno.test("newcomer: a fresh plan counts every resource its delete counts; TLS turned back on is an add", async () => {
  await withSimHost({ config: tlsConfig({ network: true }) }, async (h) => {
    const fresh = JSON.parse((await h.ok(["plan", "--json"])).stdout);
    const added = fresh.changes.map((c: { address: string; action: string }) =>
      `${c.address.replace("cluster.firestream-local", "")} ${c.action}`
    );
    assertEquals(added, [
      " create",
      ".registry create",
      ".tls-cert create",
      ".tls-secret create",
      ".ingress-dns create",
      ".routes create",
      ".dns create",
      ".hosts create",
    ]);
    assertEquals(fresh.summary.create, 8);
    await h.ok(["apply", "--yes"]);
    const preview = await h.run(["cluster", "delete"]);
    // the delete counts the same resources (the certificate files are kept, and said so)
    assertMatch(preview.stdout, "Plan: 0 to add, 0 to change, 0 to replace, 7 to destroy.");
    assertMatch(preview.stdout, "cluster.firestream-local.tls-cert is kept");

    const path = `${h.projectDir}/firestream.toml`;
    const on = Deno.readTextFileSync(path);
    Deno.writeTextFileSync(
      path,
      on.replace("[cluster.k3d.tls]\nenabled = true", "[cluster.k3d.tls]\nenabled = false"),
    );
    await h.ok(["apply", "--yes"]);
    Deno.writeTextFileSync(path, on);
    const back = JSON.parse((await h.ok(["plan", "--json"])).stdout);
    const tls = back.changes.filter((c: { address: string }) => /tls/.test(c.address));
    assertOk(tls.length > 0);
    for (const c of tls) assertEquals(c.action, "create", c.address);
    assertEquals(back.summary.create, tls.length);
  });
});
