/**
 * End-to-end: recovery that must not make things worse. A run killed inside the dev-mode step leaves
 * no process after `rollback`; symlinked host files stay links; a delete that fails once the cluster
 * is gone is finished by the next delete or `rollback`, never undone into a half cluster.
 */
import { assertEquals, assertMatch, assertNotMatch, assertOk } from "../assert.ts";
import { freeOffset, type SimHost, testConfig, withSimHost } from "../sim/harness.ts";
import { listRuns } from "../../src/state/journal.ts";
import { until } from "../wait.ts";
import { alive, routesOf } from "./runs.ts";

/**
 * Live processes started (directly or not) by firestream on this simulated host: they carry its
 * environment. The simulated machine's own servers (a registry container's stand-in) are not.
 */
function processesOf(h: SimHost): number[] {
  const mark = `FIRESTREAM_SIM_DIR=${h.simDir}\0`;
  const machine = new Set(
    (() => {
      try {
        return Deno.readTextFileSync(`${h.simDir}/pids`).split("\n").map(Number);
      } catch {
        return [];
      }
    })(),
  );
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const env = new TextDecoder().decode(Deno.readFileSync(`/proc/${e.name}/environ`));
      const pid = Number(e.name);
      if (env.includes(mark) && alive(pid) && !machine.has(pid)) pids.push(pid);
    } catch { /* gone, or not ours to read */ }
  }
  return pids;
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch {
    return undefined;
  }
}

function devMode(config: string, on: boolean, offset: number): string {
  return config.replace(
    /port_forward_all = (true|false)\n(port_offset = \d+\n)?/,
    `port_forward_all = ${on}\nport_offset = ${offset}\n`,
  );
}

Deno.test("kill -9 inside the dev-mode step, then rollback: no process of the run is left", async () => {
  const offset = freeOffset();
  const config = testConfig();
  await withSimHost({ config: devMode(config, false, offset) }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    h.kube("firestream-local", (k, { addService, addDeployment }) => {
      addDeployment(k, { namespace: "default", name: "web" });
      addService(k, { namespace: "default", name: "web", ports: [8080] });
      // two services with ready pods: two kubectl children (one per service)
      addDeployment(k, { namespace: "apps", name: "api" });
      addService(k, { namespace: "apps", name: "api", ports: [80] });
    });
    h.writeConfig(devMode(config, true, offset));
    // the supervisor's first look at the services is held: the step waits for it to be ready
    const discovery = "kubectl get services,endpointslices.discovery.k8s.io";
    h.hold(discovery);
    const base = `${h.projectDir}/.firestream/port-forward.firestream-local`;
    const child = h.spawn(["cluster", "create", "--yes"]);
    await until(
      "the supervisor started and looking at the services",
      () =>
        readJson<{ pid: number }>(`${base}.pid`) &&
        h.calls().some((c) =>
          c.supervisor && c.argv.includes("services,endpointslices.discovery.k8s.io")
        ),
    );
    child.kill("SIGKILL");
    await child.status;
    h.release(discovery);
    // the detached supervisor goes on and starts its kubectl children (one per service)
    const children = await until("the supervisor's kubectl children", () => {
      const pids = (() => {
        try {
          return Deno.readTextFileSync(`${base}.children`).split("\n").map(Number).filter(
            (n) => n > 0,
          );
        } catch {
          return [];
        }
      })();
      return pids.length >= 2 && pids;
    });
    const supervisor = readJson<{ pid: number }>(`${base}.pid`)!.pid;
    assertOk(alive(supervisor), "the supervisor outlives the killed run");
    const run = (await listRuns(`${h.projectDir}/.firestream`)).at(-1)!;
    assertEquals(run.interrupted, ["port-forward"], "killed inside the dev-mode step");
    assertOk(processesOf(h).length > 0);

    const r = await h.ok(["rollback", "--yes"]);
    assertMatch(r.stderr, "stop and undo what it left half-done: Dev-mode port forwarding");
    assertMatch(r.stderr, "undid Dev-mode port forwarding");
    // the watchdog polls once a second and the simulated calls finish; nothing else may be left
    const left = await until("every process of the run to end", () => {
      const pids = processesOf(h);
      return pids.length === 0 ? "none" : undefined;
    }).catch(() =>
      processesOf(h).map((p) => {
        const cmd = Deno.readTextFileSync(`/proc/${p}/cmdline`).replaceAll("\0", " ");
        const stat = Deno.readTextFileSync(`/proc/${p}/stat`);
        return `${p}: ${cmd} [${stat.slice(0, 60)}]`;
      }).join("\n")
    );
    assertEquals(left, "none", "processes left");
    for (const pid of [supervisor, ...children]) assertOk(!alive(pid), `pid ${pid} left`);
    // the cluster came from an earlier, successful run and stays
    assertEquals(Object.keys(h.world().clusters), ["firestream-local"]);
    const rec = JSON.parse(h.stateBytes()!).clusters["firestream-local"];
    assertEquals(rec.resources.port_forwards, undefined);
  });
});

Deno.test("a delete that fails before the cluster goes restarts the port-forward supervisor it stopped", async () => {
  const offset = freeOffset();
  await withSimHost({ config: devMode(testConfig(), true, offset) }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const pidFile = `${h.projectDir}/.firestream/port-forward.firestream-local.pid`;
    const before = readJson<{ pid: number }>(pidFile)!.pid;
    h.fault("k3d cluster delete", "FATA[0000] simulated: docker went away");
    const r = await h.run(["cluster", "delete", "--yes"]);
    assertEquals(r.code, 1);
    assertMatch(r.stderr, "undid Stop port forwarding");
    const after = readJson<{ pid: number; offset: number }>(pidFile)!;
    assertOk(after.pid !== before && alive(after.pid), "a new supervisor runs");
    assertEquals(after.offset, offset);
    assertOk(!alive(before));
    const rec = JSON.parse(h.stateBytes()!).clusters["firestream-local"];
    assertEquals(rec.resources.port_forwards.offset, offset);
    await h.ok(["cluster", "delete", "--yes"]);
    assertOk(!alive(after.pid));
  });
});

Deno.test("symlinked /etc/hosts and resolv.conf stay links through create and delete; their targets end byte-identical", async () => {
  await withSimHost({ config: testConfig({ network: true }) }, async (h) => {
    // NixOS-style relative link for hosts, resolvconf-style absolute link for resolv.conf
    const hostsTarget = `${h.root}/etc/static/hosts`;
    const resolvTarget = `${h.root}/run/resolvconf/resolv.conf`;
    Deno.mkdirSync(`${h.root}/etc/static`, { recursive: true });
    Deno.mkdirSync(`${h.root}/run/resolvconf`, { recursive: true });
    Deno.renameSync(h.hostsFile, hostsTarget);
    Deno.renameSync(h.resolvConf, resolvTarget);
    Deno.symlinkSync("static/hosts", h.hostsFile);
    Deno.symlinkSync(resolvTarget, h.resolvConf);
    const hosts = Deno.readTextFileSync(hostsTarget);
    const resolv = Deno.readTextFileSync(resolvTarget);
    const links = () => [Deno.readLinkSync(h.hostsFile), Deno.readLinkSync(h.resolvConf)];

    await h.ok(["cluster", "create", "--yes"]);
    assertEquals(links(), ["static/hosts", resolvTarget]);
    assertMatch(Deno.readTextFileSync(hostsTarget), "# BEGIN firestream firestream-local");
    assertMatch(Deno.readTextFileSync(resolvTarget), "# BEGIN firestream firestream-local");
    const rec = JSON.parse(h.stateBytes()!).clusters["firestream-local"].resources;
    assertEquals(rec.hosts_block.link, "static/hosts");
    assertEquals(rec.dns.link, resolvTarget);
    assertEquals(
      [...Deno.readDirSync(`${h.root}/etc/static`)].map((e) => e.name),
      ["hosts"],
      "no temp file left beside the target",
    );
    await h.ok(["cluster", "delete", "--yes"]);
    assertEquals(links(), ["static/hosts", resolvTarget]);
    assertEquals(Deno.readTextFileSync(hostsTarget), hosts);
    assertEquals(Deno.readTextFileSync(resolvTarget), resolv);

    // a link that something replaced by a plain copy (with our block) comes back as the link it was
    await h.ok(["cluster", "create", "--yes"]);
    const copy = Deno.readTextFileSync(h.hostsFile);
    Deno.removeSync(h.hostsFile);
    Deno.writeTextFileSync(h.hostsFile, copy);
    Deno.writeTextFileSync(hostsTarget, hosts);
    await h.ok(["cluster", "delete", "--yes"]);
    assertEquals(links(), ["static/hosts", resolvTarget]);
    assertEquals(Deno.readTextFileSync(hostsTarget), hosts);
    assertEquals(Deno.readTextFileSync(resolvTarget), resolv);
  });
});

Deno.test("a delete that fails after the cluster is gone is finished by the next delete or by rollback, never undone", async () => {
  for (const finish of [["cluster", "delete", "--yes"], ["rollback", "--yes"]]) {
    await withSimHost({ config: testConfig({ network: true }) }, async (h) => {
      const hosts = Deno.readTextFileSync(h.hostsFile);
      const resolv = Deno.readTextFileSync(h.resolvConf);
      await h.ok(["cluster", "create", "--yes"]);
      h.fault("k3d registry delete", "FATA[0000] simulated: docker went away");
      const r = await h.run(["cluster", "delete", "--yes"]);
      assertEquals(r.code, 1, r.stderr);
      assertMatch(r.stderr, "Delete local registry failed");
      assertMatch(r.stderr, /already done: .*Remove \/etc\/hosts entries.*Delete k3d cluster/);
      assertMatch(r.stderr, "left to do: Delete local registry");
      assertMatch(r.stderr, "to finish");
      assertNotMatch(r.stderr, "undid");
      assertNotMatch(r.stderr, "rolled back");
      // nothing of the deleted cluster came back
      assertEquals(Deno.readTextFileSync(h.hostsFile), hosts);
      assertEquals(Deno.readTextFileSync(h.resolvConf), resolv);
      assertEquals(routesOf(h), []);
      assertEquals(Object.keys(h.world().clusters), []);
      assertOk(h.world().containers["k3d-registry.localhost"], "the registry is what is left");
      const rec = JSON.parse(h.stateBytes()!).clusters["firestream-local"].resources;
      assertEquals(Object.keys(rec), ["registry"]);

      const done = await h.ok(finish);
      if (finish[0] === "rollback") {
        assertMatch(done.stderr, "is past its point of no return (the cluster is gone)");
        assertMatch(done.stderr, "finish Delete local registry");
        assertMatch(done.stdout, "Finished run");
      }
      assertEquals(Object.keys(h.world().containers), [], finish.join(" "));
      assertEquals(JSON.parse(h.stateBytes()!).clusters, {});
      assertEquals(Deno.readTextFileSync(h.hostsFile), hosts);
      assertEquals(routesOf(h), []);
      const again = await h.ok(["rollback", "--yes"]);
      assertMatch(again.stdout, "Nothing to undo");
    });
  }
});

Deno.test("kill -9 right after the cluster is deleted: rollback finishes the delete", async () => {
  await withSimHost({ config: testConfig({ network: true }) }, async (h) => {
    const hosts = Deno.readTextFileSync(h.hostsFile);
    await h.ok(["cluster", "create", "--yes"]);
    const r = await h.run(["cluster", "delete", "--yes"], {
      env: { FIRESTREAM_KILL_AFTER: "task-done:delete-cluster" },
    });
    assertEquals(r.code, 137);
    const back = await h.ok(["rollback", "--yes"]);
    assertMatch(back.stderr, "is past its point of no return");
    assertEquals(Object.keys(h.world().containers), []);
    assertEquals(JSON.parse(h.stateBytes()!).clusters, {});
    assertEquals(Deno.readTextFileSync(h.hostsFile), hosts);
    assertEquals(routesOf(h), []);
  });
});
