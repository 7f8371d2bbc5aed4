/**
 * End-to-end: a Docker engine that cannot be reached, in the words of docker clients ≤ 28 and 29
 * (src/tools/exec.ts DOCKER_UNREACHABLE): `doctor` and `cluster create` say why and how to fix it,
 * and nothing is changed.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { testConfig, withSimHost } from "../sim/harness.ts";

const CASES = [
  { client: "28.2.2", fault: "down", says: "Cannot connect to the Docker daemon" },
  { client: "29.7.2", fault: "down", says: "failed to connect to the docker API at" },
  { client: "28.2.2", fault: "denied", says: "connect to the Docker daemon socket" },
  {
    client: "29.7.2",
    fault: "denied",
    says: "permission denied while trying to connect to the docker API",
  },
] as const;

for (const c of CASES) {
  Deno.test(`docker client ${c.client}, engine ${c.fault}: doctor and create name it and its fix, and change nothing`, async () => {
    await withSimHost({ config: testConfig() }, async (h) => {
      h.updateWorld((w) => {
        w.docker.clientVersion = c.client;
        if (c.fault === "down") w.docker.running = false;
        else w.dockerDenied = true;
      });
      const raw = await h.tool("docker", ["version", "--format", "{{json .Server.Version}}"]);
      assertMatch(raw.stderr, c.says, "the simulated client words it as that version does");
      const title = c.fault === "down" ? "Docker is not running" : "Docker refused this user";
      const fix = c.fault === "down" ? "systemctl start docker" : "usermod -aG docker";

      const doctor = await h.run(["doctor", "--json"]);
      assertEquals(doctor.code, 1, doctor.stderr);
      const checks: { name: string; status: string; detail: string; fix?: string }[] =
        JSON.parse(doctor.stdout).checks;
      const docker = checks.find((k) => k.name === "docker")!;
      assertEquals(docker.status, "fail");
      assertMatch(docker.detail, title);
      assertMatch(docker.detail, c.says);
      assertMatch(docker.fix ?? "", fix);

      const create = await h.run(["cluster", "create", "--yes"]);
      assertEquals(create.code, 1, create.stdout);
      assertMatch(create.stderr, title);
      assertMatch(create.stderr, fix);
      assertEquals(h.mutatingCalls(), []);
      assertEquals(h.stateBytes(), undefined, "state untouched");
    });
  });
}

Deno.test("Docker Engine 29 stores k3d's API port key as 6443/tcp: create, info and a converged plan agree", async () => {
  await withSimHost({ config: testConfig({ registry: false }) }, async (h) => {
    h.updateWorld((w) => {
      w.docker.serverVersion = "29.0.0";
      w.docker.clientVersion = "29.7.2";
    });
    await h.ok(["cluster", "create", "--yes"]);
    const lb = JSON.parse(
      (await h.tool("docker", ["container", "inspect", "k3d-firestream-local-serverlb"])).stdout,
    )[0];
    assertEquals("6443/tcp" in lb.HostConfig.PortBindings, true);
    const api = lb.HostConfig.PortBindings["6443/tcp"][0].HostPort;
    const info = JSON.parse((await h.ok(["cluster", "info", "--json"])).stdout);
    assertEquals(info.api, `https://127.0.0.1:${api}`);
    const plan = await h.run(["plan", "--detailed-exitcode"]);
    assertEquals(plan.code, 0, plan.stdout + plan.stderr);
  });
});
