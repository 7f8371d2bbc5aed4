/** Two state folders, one machine: a second run on the same cluster refuses and destroys nothing. */
import { assertEquals, assertMatch } from "../assert.ts";
import { type SimHost, testConfig, withSimHost } from "../sim/harness.ts";
import { until } from "../wait.ts";

const NAME = "firestream-local";

/** A second project folder with the same config. */
function secondFolder(h: SimHost): string {
  const dir = `${h.root}/project-b`;
  Deno.mkdirSync(dir, { recursive: true });
  Deno.copyFileSync(`${h.projectDir}/firestream.toml`, `${dir}/firestream.toml`);
  return dir;
}

Deno.test("two folders, one cluster name at once: the second refuses before any change; the first finishes", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    const b = secondFolder(h);
    // the first run holds the cluster's lock while its k3d call is held
    // held before its first step is recorded: no ownership mark yet, only the host-wide lock
    h.hold("k3d registry create");
    const first = h.spawn(["cluster", "create", "--yes"], { stderr: "piped" });
    await until(
      "the first run's k3d registry create",
      () => h.calls().some((c) => c.argv[0] === "registry" && c.argv[1] === "create"),
    );
    const second = await h.run(["cluster", "create", "--yes"], { cwd: b });
    assertEquals(second.code, 1, second.stderr);
    assertMatch(second.stderr, `cluster ${NAME} is being changed by another firestream run: pid`);
    assertMatch(second.stderr, `(state ${h.projectDir}/.firestream)`);
    h.release("k3d registry create");
    const out = await first.output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    const w = h.world();
    assertEquals(Boolean(w.clusters[NAME]), true, "the first run's cluster stands");
    assertEquals(Boolean(w.containers["k3d-registry.localhost"]), true);
    const bState = (() => {
      try {
        return JSON.parse(Deno.readTextFileSync(`${b}/.firestream/state.json`));
      } catch {
        return undefined;
      }
    })();
    assertEquals(bState?.clusters?.[NAME], undefined);

    // afterwards, the second folder is refused by ownership, still destroying nothing
    h.clearCalls();
    const again = await h.run(["cluster", "create", "--yes"], { cwd: b });
    assertEquals(again.code, 1);
    assertMatch(again.stderr, `k3d cluster ${NAME} is managed from ${h.projectDir}\n`);
    assertEquals(again.stderr.includes("import"), false, "never suggests importing it");
    assertEquals(h.mutatingCalls(), []);
    const plan = await h.run(["plan", "--detailed-exitcode"]);
    assertEquals(plan.code, 0, plan.stdout + plan.stderr);
  });
});

Deno.test("a registry shared by clusters of two folders stays, attached and unchanged, when one cluster is deleted", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const b = `${h.root}/project-b`;
    Deno.mkdirSync(b, { recursive: true });
    const text = Deno.readTextFileSync(`${h.projectDir}/firestream.toml`);
    const port = /\[cluster\.k3d\.registry\]\nenabled = true\nport = (\d+)/.exec(text)![1];
    Deno.writeTextFileSync(
      `${b}/firestream.toml`,
      testConfig({ name: "other" }).replace(
        /port = \d+\n\n\[cluster\.k3d\.tls\]/,
        `port = ${port}\n\n[cluster.k3d.tls]`,
      ),
    );
    const created = await h.run(["cluster", "create", "--yes"], { cwd: b });
    assertEquals(created.code, 0, created.stderr);
    const registry = () => h.world().containers["k3d-registry.localhost"];
    assertEquals(Object.keys(registry().networks).filter((n) => n.startsWith("k3d-")).sort(), [
      "k3d-firestream-local",
      "k3d-other",
    ]);
    const before = registry();
    const r = await h.run(["cluster", "delete", "--yes"]);
    assertEquals(r.code, 0, r.stderr);
    // the preview says so before it asks, as the step then does
    assertMatch(
      r.stdout,
      "# cluster.firestream-local.registry is kept\n    cluster.firestream-local.registry {\n      # k3d-registry.localhost (127.0.0.1:",
    );
    assertMatch(r.stdout, `) kept: also used by ${b} (cluster other)\n`);
    assertMatch(
      r.stderr + r.stdout,
      `keeping registry k3d-registry.localhost: also used by ${b} (cluster other)`,
    );
    assertEquals(registry()?.id, before.id, "the registry is the same container");
    assertEquals("k3d-other" in registry().networks, true, "still attached to the other cluster");
    const plan = await h.run(["plan", "--detailed-exitcode"], { cwd: b });
    assertEquals(plan.code, 0, plan.stdout + plan.stderr);
  });
});
