/**
 * A forward past its start deadline: a kubectl that is merely slow keeps starting and is reported
 * as still starting, never restarted; a connection made meanwhile is held and answered once it
 * answers.
 */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { freeOffset, type SimHost, withSimHost } from "../sim/harness.ts";
import { until } from "../wait.ts";
import { entries, offsetConfig } from "./forwards.ts";

function forwardCalls(h: SimHost, service: string): number {
  return h.calls().filter((c) =>
    c.tool === "kubectl" && c.argv.includes("port-forward") &&
    c.argv.some((a) => a.startsWith(`pod/${service}-`))
  ).length;
}

Deno.test("port-forward: past its deadline a slow forward is reported and left to start; a connection made meanwhile is held and answered", async () => {
  const offset = freeOffset();
  await withSimHost({ config: offsetConfig(offset) }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    h.kube("firestream-local", (k, { addService, addDeployment }) => {
      addDeployment(k, { namespace: "default", name: "web" });
      addService(k, { namespace: "default", name: "web", ports: [8080] });
      addDeployment(k, { namespace: "apps", name: "api" });
      addService(k, { namespace: "apps", name: "api", ports: [80, 9090] });
    });
    // api's kubectl is held before it binds, past the 1s deadline, until the test lets it go
    h.hold("kubectl port-forward pod/api-");
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
    try {
      const api = await until(
        "api starting",
        () =>
          entries(h).find((e) => e.service === "api" && e.pid !== null && e.status === "starting"),
      );
      await until(
        "api reported as still starting",
        () => /"event":"waiting","key":"apps\/api".*still starting/.test(events()),
      );
      // the supervisor holds the local port from the start: a connection made now waits for kubectl
      const held = await Deno.connect({ hostname: "127.0.0.1", port: 80 + offset });
      await held.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
      h.release("kubectl port-forward pod/api-");
      const reply = await new Response(held.readable).text();
      assertMatch(reply, new RegExp(`\r\n\r\napps/${api.pod}:80\n$`));
      const up = await until("every forward up", () => {
        const e = entries(h);
        return e.length === 3 && e.every((x) => x.status === "up") && e;
      });
      // api was slow, not broken: reported, never restarted
      assertOk(!/"event":"(restarting|exited)","key":"apps\/api"/.test(events()), events());
      assertEquals(forwardCalls(h, "api"), 1);
      assertEquals(forwardCalls(h, "web"), 1);
      assertEquals(new Set(up.filter((e) => e.service === "api").map((e) => e.pid)).size, 1);
    } finally {
      await h.run(["cluster", "port-forward", "--stop"]);
      await supervisor.status;
    }
  });
});
