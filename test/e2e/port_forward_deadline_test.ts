/**
 * A forward past its start deadline: restarted on the next free port only when another program
 * took its port meanwhile; a merely slow one keeps starting and is reported as still starting.
 */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { type SimHost, testConfig, withSimHost } from "../sim/harness.ts";
import { until } from "../wait.ts";
import { answer, entries } from "./forwards.ts";

function forwardCalls(h: SimHost, service: string): number {
  return h.calls().filter((c) =>
    c.tool === "kubectl" && c.argv.includes("port-forward") && c.argv.includes(`svc/${service}`)
  ).length;
}

Deno.test("port-forward: past its deadline a forward whose port was taken moves to the next free one; a slow one is reported and left to start", async () => {
  const offset = 20000 + Math.floor(Math.random() * 20000);
  const config = testConfig().replace(
    "port_forward_all = false\n",
    `port_forward_all = false\nport_offset = ${offset}\n`,
  );
  await withSimHost({ config }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    h.kube("firestream-local", (k, { addService, addDeployment }) => {
      addDeployment(k, { namespace: "default", name: "web" });
      addService(k, { namespace: "default", name: "web", ports: [8080] });
      addDeployment(k, { namespace: "apps", name: "api" });
      addService(k, { namespace: "apps", name: "api", ports: [80, 9090] });
    });
    // every kubectl is held before it binds, past the 1s deadline, until the supervisor has
    // looked at both forwards
    h.hold("kubectl port-forward");
    const stateDir = `${h.projectDir}/.firestream`;
    const base = `${stateDir}/port-forward.firestream-local`;
    const spec = {
      cluster: "firestream-local",
      context: "k3d-firestream-local",
      offset,
      namespaces: [],
      paths: {
        mappings: `${h.projectDir}/logs/port_forwards.json`,
        pid: `${base}.pid`,
        children: `${base}.children`,
        events: `${base}.log`,
      },
      pollMs: 500,
      startDeadlineMs: 1000,
    };
    const events = () => {
      try {
        return Deno.readTextFileSync(spec.paths.events);
      } catch {
        return "";
      }
    };
    const supervisor = h.spawn(["__supervise", JSON.stringify(spec)]);
    let held: Deno.Listener | undefined;
    try {
      // web's port is taken after kubectl was started on it, before kubectl binds
      const web = await until(
        "web starting",
        () =>
          entries(h).find((e) => e.service === "web" && e.pid !== null && e.status === "starting"),
      );
      assertEquals(web.local_port, 8080 + offset);
      held = Deno.listen({ hostname: "127.0.0.1", port: web.local_port });
      // past the deadline: web restarted on the next port, api reported as still starting
      await until("web's second kubectl", () => forwardCalls(h, "web") === 2);
      await until(
        "api reported as still starting",
        () => /"event":"waiting","key":"apps\/api".*still starting/.test(events()),
      );
      h.release("kubectl port-forward");

      const up = await until("every forward up", () => {
        const e = entries(h);
        return e.length === 3 && e.every((x) => x.status === "up") && e;
      });
      const moved = up.find((e) => e.service === "web")!;
      assertEquals(moved.local_port, 8081 + offset);
      assertEquals(await answer(8081 + offset), "svc/default/web:8080\n");
      assertEquals(await answer(80 + offset), "svc/apps/api:80\n");
      assertEquals(await answer(9090 + offset), "svc/apps/api:9090\n");

      assertMatch(
        events(),
        `127.0.0.1:${
          8080 + offset
        } was taken by another program while kubectl was starting; forwarding on ${
          8081 + offset
        } instead`,
      );
      // api was slow, not broken: reported, never restarted
      assertOk(!/"event":"restarting","key":"apps\/api"/.test(events()), events());
      assertEquals(forwardCalls(h, "api"), 1);
      assertEquals(forwardCalls(h, "web"), 2);
      assertEquals(new Set(up.filter((e) => e.service === "api").map((e) => e.pid)).size, 1);
    } finally {
      held?.close();
      await h.run(["cluster", "port-forward", "--stop"]);
      await supervisor.status;
    }
  });
});
