/** The registry as a real container in a real Docker engine: created, healthy, pushed to, listed, deleted. */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { freePort, testConfig, withSimHost } from "../sim/harness.ts";
import { findProgram, requireReal, run } from "./require.ts";

const docker = findProgram("docker");
let engine = false;
let image = false;
if (docker) {
  engine = (await run(docker, ["info", "--format", "{{.ServerVersion}}"])).code === 0;
  image = engine && (await run(docker, ["image", "inspect", "registry:2"])).code === 0;
}
const available = requireReal(
  "a Docker engine with the registry:2 image",
  engine && image,
  !docker
    ? "no docker client"
    : !engine
    ? "the Docker engine does not answer (start dockerd)"
    : "no registry:2 image (.ci/registry_image.sh builds it)",
);

Deno.test({
  name: "registry: a real registry:2 container, healthy, takes a push and lists it in its catalog",
  ignore: !available,
}, async () => {
  const tag = crypto.randomUUID().slice(0, 8);
  const port = freePort();
  const config = testConfig()
    .replace(
      /\[cluster\.k3d\.registry\]\nenabled = true\nport = \d+/,
      `[cluster.k3d.registry]\nenabled = true\nname = "fs-${tag}.localhost"\nport = ${port}`,
    );
  await withSimHost({ config, realDocker: true }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const container = `k3d-fs-${tag}.localhost`;
    const inspect = await run(docker!, ["container", "inspect", container]);
    assertEquals(inspect.code, 0, "a real container exists");
    const info = JSON.parse(inspect.stdout)[0];
    assertEquals(info.State.Running, true);
    assertEquals(info.Config.Labels["app"], "k3d");
    assertEquals(info.Config.Labels["k3d.role"], "registry");
    assertEquals(info.HostConfig.PortBindings["5000/tcp"][0], {
      HostIp: "127.0.0.1",
      HostPort: String(port),
    });

    const view = JSON.parse((await h.ok(["cluster", "info", "--json"])).stdout);
    assertEquals(view.registry.healthy, true);
    assertEquals(view.registry.url, `http://127.0.0.1:${port}`);

    const ref = `127.0.0.1:${port}/firestream/probe:${tag}`;
    try {
      assertEquals((await run(docker!, ["tag", "registry:2", ref])).code, 0);
      const push = await run(docker!, ["push", ref]);
      assertEquals(push.code, 0, push.stderr);
      const catalog = await (await fetch(`http://127.0.0.1:${port}/v2/_catalog`)).json();
      assertOk(catalog.repositories.includes("firestream/probe"), JSON.stringify(catalog));
      const tags = await (await fetch(`http://127.0.0.1:${port}/v2/firestream/probe/tags/list`))
        .json();
      assertEquals(tags.tags, [tag]);
    } finally {
      await run(docker!, ["image", "rm", ref]);
    }

    const second = await h.ok(["cluster", "create", "--yes"]);
    assertMatch(second.stdout, "already up to date");
    await h.ok(["cluster", "delete", "--yes"]);
    assertEquals(
      (await run(docker!, ["container", "inspect", container])).code,
      1,
      "deleted for real",
    );
  });
});
