/** End-to-end over real TCP: dev-mode forwards answer, heal, follow services, and never outlive their supervisor. */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { freeOffset, type SimHost, withSimHost } from "../sim/harness.ts";
import { until } from "../wait.ts";
import { answer, entries, offsetConfig } from "./forwards.ts";
import { alive } from "./runs.ts";

async function withServices(h: SimHost): Promise<void> {
  await h.ok(["cluster", "create", "--yes"]);
  h.kube("firestream-local", (k, { addService, addDeployment }) => {
    addDeployment(k, { namespace: "default", name: "web" });
    addService(k, { namespace: "default", name: "web", ports: [8080] });
    // kubectl port-forward needs a running pod behind the service
    addDeployment(k, { namespace: "apps", name: "api" });
    addService(k, {
      namespace: "apps",
      name: "api",
      ports: [{ port: 80, name: "http" }, { port: 9090, name: "metrics" }],
    });
    addService(k, { namespace: "default", name: "external", ports: [443], selector: null });
    addService(k, { namespace: "default", name: "dns", ports: [{ port: 53, protocol: "UDP" }] });
  });
}

Deno.test("port-forward: the seed's 8080 → offset mapping and a multi-port service answer; heal; follow services; --stop cleans up", async () => {
  const offset = freeOffset();
  await withSimHost({ config: offsetConfig(offset) }, async (h) => {
    await withServices(h);
    const r = await h.ok(["cluster", "port-forward", "--detach"]);
    assertMatch(r.stdout, "port forwarding runs in the background");
    const list = await until("forwards up", () => {
      const e = entries(h);
      return e.length === 3 && e.every((x) => x.status === "up") && e;
    });
    assertEquals(list.map((e) => `${e.namespace}/${e.service}:${e.port}→${e.local_port}`), [
      `apps/api:80→${80 + offset}`,
      `apps/api:9090→${9090 + offset}`,
      `default/web:8080→${8080 + offset}`,
    ]);
    assertEquals(await answer(8080 + offset), "default/web:8080");
    assertEquals(await answer(9090 + offset), "apps/api:9090");
    const forwards = h.calls().filter((c) =>
      c.tool === "kubectl" && c.argv.includes("port-forward")
    );
    for (const c of forwards) {
      assertEquals(c.argv.slice(0, 2), ["--context", "k3d-firestream-local"]);
      assertOk(c.argv.includes("--address") && c.argv.includes("127.0.0.1"));
    }
    const events = () =>
      Deno.readTextFileSync(`${h.projectDir}/.firestream/port-forward.firestream-local.log`);
    assertMatch(events(), '"event":"ignored","key":"default/external"');
    assertMatch(events(), "carries TCP only");

    // a killed forward is restarted at once and answers again
    const web = list.find((e) => e.service === "web")!;
    Deno.kill(web.pid!, "SIGKILL");
    await until(
      "web answers again",
      async () =>
        (await answer(web.local_port)) === "default/web:8080" &&
        entries(h).find((e) => e.service === "web")!.pid !== web.pid,
    );
    assertMatch(events(), "restarting now");

    // a new service is picked up, a removed one dropped, without a restart of the supervisor
    const listed = JSON.parse((await h.ok(["cluster", "port-forward", "--list", "--json"])).stdout);
    const supervisor = listed.running.pid;
    h.kube("firestream-local", (k, { addService, addDeployment }) => {
      addDeployment(k, { namespace: "default", name: "late" });
      addService(k, { namespace: "default", name: "late", ports: [7000] });
    });
    await until(
      "late forwarded",
      async () => (await answer(7000 + offset)) === "default/late:7000",
    );
    const apiPids = entries(h).filter((e) => e.service === "api").map((e) => e.pid!);
    h.updateWorld((w) => delete w.clusters["firestream-local"].kube.objects.services["apps/api"]);
    await until("api dropped", () => !entries(h).some((e) => e.service === "api"));
    await until("api forwards ended", () => apiPids.every((p) => !alive(p)));
    assertEquals(
      JSON.parse((await h.ok(["cluster", "port-forward", "--list", "--json"])).stdout).running.pid,
      supervisor,
    );

    const pids = entries(h).map((e) => e.pid!).filter(Boolean);
    await h.ok(["cluster", "port-forward", "--stop"]);
    assertOk(!alive(supervisor), "supervisor stopped");
    assertEquals(pids.filter(alive), [], "no kubectl port-forward left");
    assertEquals(await answer(8080 + offset), undefined);
    const after = JSON.parse((await h.ok(["cluster", "port-forward", "--list", "--json"])).stdout);
    assertEquals(after.running, null);
  });
});

Deno.test("port-forward: kill -9 of the supervisor, Ctrl-C in the foreground and cluster delete leave no forward behind", async () => {
  const offset = freeOffset();
  await withSimHost({ config: offsetConfig(offset) }, async (h) => {
    await withServices(h);
    // kill -9: the watchdog ends the children
    await h.ok(["cluster", "port-forward", "--detach"]);
    const first = await until("up", () => {
      const e = entries(h);
      return e.length === 3 && e.every((x) => x.status === "up") && e;
    });
    const info = JSON.parse(
      Deno.readTextFileSync(`${h.projectDir}/.firestream/port-forward.firestream-local.pid`),
    );
    Deno.kill(info.pid, "SIGKILL");
    await until("children gone after kill -9", () => first.every((e) => !alive(e.pid!)));

    // foreground, one service, stopped by Ctrl-C
    const child = h.spawn(["cluster", "port-forward", "api", "-n", "apps"], { stderr: "piped" });
    const fg = await until("foreground up", () => {
      const e = entries(h);
      return e.length === 2 && e.every((x) => x.status === "up" && x.service === "api") && e;
    });
    assertEquals(await answer(80 + offset), "apps/api:80");
    child.kill("SIGINT");
    const status = await child.status;
    const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
    assertEquals(status.code, 130, stderr);
    assertEquals(fg.map((e) => e.pid!).filter(alive), []);

    // dev mode from create, then delete stops it
    await h.ok(["cluster", "create", "--yes", "--dev-mode"]);
    const dev = await until("dev-mode forwards", () => {
      const e = entries(h);
      return e.length === 3 && e.every((x) => x.status === "up") && e;
    });
    assertEquals(await answer(8080 + offset), "default/web:8080");
    const pidFile = `${h.projectDir}/.firestream/port-forward.firestream-local.pid`;
    const devSupervisor = JSON.parse(Deno.readTextFileSync(pidFile)).pid;
    const del = await h.ok(["cluster", "delete", "--yes"]);
    assertMatch(del.stderr, "Stop port forwarding");
    assertOk(!alive(devSupervisor), "delete stopped the supervisor");
    assertOk(!(await Deno.stat(pidFile).catch(() => false)), "pid file removed");
    assertEquals(dev.map((e) => e.pid!).filter(alive), []);
  });
});

function portForwardCalls(h: SimHost, service: string): string[][] {
  return h.calls().filter((c) =>
    c.tool === "kubectl" && c.argv.includes("port-forward") &&
    c.argv.some((a) => a.startsWith(`pod/${service}-`))
  ).map((c) => c.argv);
}

Deno.test("port-forward: one kubectl per service serves all its ports; killing it brings every port back and restarts no other forward; a service without a ready pod waits", async () => {
  const offset = freeOffset();
  await withSimHost({ config: offsetConfig(offset) }, async (h) => {
    await withServices(h);
    h.kube("firestream-local", (k, { addService }) => {
      addService(k, { namespace: "default", name: "idle", ports: [7100] });
    });
    await h.ok(["cluster", "port-forward", "--detach"]);
    const first = await until("forwards up, idle waiting", () => {
      const e = entries(h);
      const up = e.filter((x) => x.service !== "idle");
      return up.length === 3 && up.every((x) => x.status === "up") &&
        e.find((x) => x.service === "idle")?.status === "waiting" && e;
    });
    // one row per port, one process per service
    const api = first.filter((e) => e.service === "api");
    const web = first.find((e) => e.service === "web")!;
    assertEquals(api.map((e) => e.port), [80, 9090]);
    assertEquals(api[0].pid, api[1].pid);
    assertOk(api[0].pid !== web.pid);
    assertEquals(portForwardCalls(h, "api").length, 1);
    // to the pod the list names, on private ports kubectl picks; the local ports are the relay's
    assertMatch(
      portForwardCalls(h, "api")[0].join(" "),
      new RegExp(`pod/${api[0].pod} :80 :9090 --address 127\\.0\\.0\\.1$`),
    );
    assertEquals(portForwardCalls(h, "idle"), [], "no kubectl for a service without a ready pod");
    const listed = (await h.ok(["cluster", "port-forward", "--list"])).stdout;
    assertMatch(listed, /idle\s+7100\s+127\.0\.0\.1:\d+\s+waiting\s+waiting\s/);

    // kill the api process: both its ports come back from one new process; web is untouched
    Deno.kill(api[0].pid!, "SIGKILL");
    const healed = await until("api answers again on both ports", async () => {
      const e = entries(h).filter((x) => x.service === "api");
      const fresh = e.every((x) => x.status === "up" && x.pid !== null && x.pid !== api[0].pid);
      return fresh && (await answer(80 + offset)) === "apps/api:80" &&
        (await answer(9090 + offset)) === "apps/api:9090" && e;
    });
    assertEquals(healed[0].pid, healed[1].pid);
    assertEquals(portForwardCalls(h, "api").length, 2);
    assertEquals(portForwardCalls(h, "web").length, 1, "web's forward was not restarted");
    assertEquals(entries(h).find((e) => e.service === "web")!.pid, web.pid);
    assertOk(alive(web.pid!));
    assertEquals(await answer(8080 + offset), "default/web:8080");

    // a pod becomes ready behind idle: it is forwarded without a restart of the others
    h.kube("firestream-local", (k, { addDeployment }) => {
      addDeployment(k, { namespace: "default", name: "idle" });
    });
    await until(
      "idle forwarded",
      async () => (await answer(7100 + offset)) === "default/idle:7100",
    );
    assertEquals(portForwardCalls(h, "web").length, 1);
    await h.ok(["cluster", "port-forward", "--stop"]);
  });
});

Deno.test("port-forward: a local port held by another program moves to the next free one and is reported; every other service answers", async () => {
  const offset = freeOffset();
  await withSimHost({ config: offsetConfig(offset) }, async (h) => {
    await withServices(h);
    // held before the supervisor starts: web's port, and the one api's 80 would move to
    const held = [8080, 9090].map((p) => Deno.listen({ hostname: "127.0.0.1", port: p + offset }));
    try {
      const detach = await h.run(["cluster", "port-forward", "--detach"]);
      assertEquals(detach.code, 0, detach.stderr);
      assertMatch(detach.stderr, `127.0.0.1:${8080 + offset} is in use`);
      assertMatch(detach.stderr, `127.0.0.1:${9090 + offset} is in use`);
      const e = await until("every forward up", () => {
        const e = entries(h);
        return e.length === 3 && e.every((x) => x.status === "up") && e;
      });
      const web = e.find((x) => x.service === "web")!;
      assertEquals(web.local_port, 8081 + offset);
      assertEquals(await answer(web.local_port), "default/web:8080");
      const metrics = e.find((x) => x.port === 9090)!;
      assertEquals(metrics.local_port, 9091 + offset);
      assertEquals(await answer(9091 + offset), "apps/api:9090");
      assertEquals(await answer(80 + offset), "apps/api:80");
      const listed = (await h.ok(["cluster", "port-forward", "--list"])).stdout;
      assertMatch(listed, `127.0.0.1:${8081 + offset}`);
      await h.ok(["cluster", "port-forward", "--stop"]);
    } finally {
      for (const l of held) l.close();
    }
  });
});

Deno.test("port-forward: a detached supervisor whose state directory is removed stops, and leaves no forward behind", async () => {
  const offset = freeOffset();
  await withSimHost({ config: offsetConfig(offset) }, async (h) => {
    await withServices(h);
    await h.ok(["cluster", "port-forward", "--detach"]);
    const up = await until("up", () => {
      const e = entries(h);
      return e.length === 3 && e.every((x) => x.status === "up") && e;
    });
    const stateDir = `${h.projectDir}/.firestream`;
    const supervisor = JSON.parse(
      Deno.readTextFileSync(`${stateDir}/port-forward.firestream-local.pid`),
    ).pid;
    assertOk(alive(supervisor));
    // what `rm -rf` of a project does: no command could find this supervisor again
    await Deno.remove(stateDir, { recursive: true });
    await until("supervisor gone", () => !alive(supervisor));
    await until("its forwards gone", () => up.every((e) => !alive(e.pid!)));
    assertEquals(await answer(8080 + offset), undefined);

    // the same, with a new supervisor started at once: the old one stops without touching the
    // new one's pid, mappings, children or events
    await h.ok(["cluster", "port-forward", "--detach"]);
    const old = JSON.parse(Deno.readTextFileSync(`${stateDir}/port-forward.firestream-local.pid`))
      .pid;
    await until("up again", () => entries(h).every((x) => x.status === "up"));
    await Deno.remove(stateDir, { recursive: true });
    await h.ok(["cluster", "port-forward", "--detach"]);
    await until("old supervisor gone", () => !alive(old));
    const listed = JSON.parse((await h.ok(["cluster", "port-forward", "--list", "--json"])).stdout);
    assertOk(listed.running && listed.running.pid !== old, "the new supervisor is listed");
    const now = await until("every forward of the new one up", () => {
      const e = entries(h);
      return e.length === 3 && e.every((x) => x.status === "up" && alive(x.pid!)) && e;
    });
    const children = Deno.readTextFileSync(`${stateDir}/port-forward.firestream-local.children`);
    assertEquals(
      children.trim().split("\n").map(Number).sort(),
      [...new Set(now.map((e) => e.pid!))].sort(),
    );
    assertOk(
      !Deno.readTextFileSync(`${stateDir}/port-forward.firestream-local.log`).includes(
        `"stopped"`,
      ),
      "no stop of the old supervisor in the new one's log",
    );
    await h.ok(["cluster", "port-forward", "--stop"]);

    // in the foreground, the command ends saying why, not as if interrupted
    const fg = h.spawn(["cluster", "port-forward"], { stderr: "piped" });
    await until("foreground up", () => {
      const e = entries(h);
      return e.length === 3 && e.every((x) => x.status === "up" && alive(x.pid!)) && e;
    });
    await Deno.remove(stateDir, { recursive: true });
    const status = await fg.status;
    const stderr = new TextDecoder().decode(await new Response(fg.stderr).arrayBuffer());
    assertEquals(status.code, 1, stderr);
    assertMatch(stderr, "was removed or names another process");
  });
});

Deno.test("port-forward: a cluster stopped outside Firestream: forwards wait for its API server without starting kubectl again, and answer once it is started", async () => {
  const offset = freeOffset();
  await withSimHost({ config: offsetConfig(offset) }, async (h) => {
    await withServices(h);
    await h.ok(["cluster", "port-forward", "--detach"]);
    await until("forwards up", () => {
      const e = entries(h);
      return e.length === 3 && e.every((x) => x.status === "up");
    });
    const supervisor =
      JSON.parse((await h.ok(["cluster", "port-forward", "--list", "--json"])).stdout).running.pid;
    const forwards = () =>
      h.calls().filter((c) => c.tool === "kubectl" && c.argv.includes("port-forward")).length;
    const looks = () =>
      h.calls().filter((c) => c.tool === "kubectl" && c.argv.includes("get") && c.supervisor)
        .length;

    // `k3d cluster stop` run by hand: every kubectl loses the API server
    assertEquals((await h.tool("k3d", ["cluster", "stop", "firestream-local"])).code, 0);
    await until("every forward waiting", () => {
      const e = entries(h);
      return e.length === 3 && e.every((x) => x.status === "waiting");
    });
    // three more failed looks at the cluster, and no kubectl port-forward started meanwhile
    const started = forwards();
    const seen = looks();
    await until("three more looks at the stopped cluster", () => looks() >= seen + 3);
    assertEquals(forwards(), started, "no kubectl port-forward while the API server is down");
    const events = Deno.readTextFileSync(
      `${h.projectDir}/.firestream/port-forward.firestream-local.log`,
    );
    assertEquals(events.match(/"event":"discovery-failed"/g)?.length, 1, "one event per outage");

    assertEquals((await h.tool("k3d", ["cluster", "start", "firestream-local"])).code, 0);
    await until(
      "web answers again",
      async () => (await answer(8080 + offset)) === "default/web:8080",
    );
    await until("every forward up", () => entries(h).every((x) => x.status === "up"));
    assertEquals(
      JSON.parse((await h.ok(["cluster", "port-forward", "--list", "--json"])).stdout).running.pid,
      supervisor,
      "the same supervisor",
    );
    await h.ok(["cluster", "port-forward", "--stop"]);
  });
});
