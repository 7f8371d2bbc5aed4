/** End-to-end: one firestream.toml for the laptop and for CI (profiles), shared bases (extends), init's templates. */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import type { K3dConfig } from "../../src/config/schema.ts";
import { freePort, testConfig, withSimHost } from "../sim/harness.ts";

// the laptop's cluster: host network on, 2 agents; the `ci` profile: no hosts block, no agents
const CI_PROFILE = `
[profiles.ci.cluster.k3d]
agents = 0

[profiles.ci.cluster.k3d.network]
patch_etc_hosts = false
`;

function planChanges(stdout: string, hostsFile = ""): string[] {
  const plan = JSON.parse(stdout.replaceAll(hostsFile || "\0", "HOSTS"));
  return plan.changes
    .filter((c: { action: string }) => c.action !== "no-op")
    .map((c: { address: string; action: string; diffs: { key: string }[] }) =>
      `${c.action} ${c.address}${c.diffs.length ? ` ${c.diffs.map((d) => d.key).join(",")}` : ""}`
    );
}

Deno.test("profiles: plan --profile ci shows exactly what the profile changes; apply records it; plan converges", async () => {
  await withSimHost({ config: testConfig({ network: true, extra: CI_PROFILE }) }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    assertEquals((await h.state()).clusters["firestream-local"].profile, undefined);
    // the base is converged; the profile changes the agents and the hosts block, nothing else
    await h.ok(["plan", "--detailed-exitcode"]);
    const ci = await h.ok(["plan", "--profile", "ci", "--json", "--detailed-exitcode"], 2);
    assertEquals(planChanges(ci.stdout, h.hostsFile), [
      "update cluster.firestream-local agents,network.patch_etc_hosts",
      "update cluster.firestream-local.hosts hosts block in HOSTS",
    ]);
    assertEquals(JSON.parse(ci.stdout).profile, "ci");
    const text = await h.ok(["plan", "--profile", "ci"], 0);
    assertMatch(text.stdout, "Firestream will perform the following actions (profile ci):");
    assertMatch(text.stdout, "agents = 2 -> 0");

    await h.ok(["apply", "--profile", "ci", "--yes"]);
    const rec = (await h.state()).clusters["firestream-local"];
    assertEquals([rec.profile, rec.k3d_config.agents, rec.resources.hosts_block], [
      "ci",
      0,
      undefined,
    ]);
    await h.ok(["plan", "--profile", "ci", "--detailed-exitcode"]);
    const converged = await h.ok(["plan", "--profile", "ci"]);
    assertMatch(
      converged.stdout,
      "No changes. The machine matches the configuration (profile ci).",
    );
    const info = JSON.parse((await h.ok(["cluster", "info", "--json"])).stdout);
    assertEquals(info.profile, "ci");
    assertMatch((await h.ok(["cluster", "info"])).stdout, /profile: +ci/);

    // FIRESTREAM_PROFILE does the same as --profile; without either the base is wanted back
    assertEquals(
      (await h.run(["plan", "--detailed-exitcode"], { env: { FIRESTREAM_PROFILE: "ci" } })).code,
      0,
    );
    const back = await h.ok(["plan", "--json", "--detailed-exitcode"], 2);
    assertEquals(planChanges(back.stdout, h.hostsFile), [
      "update cluster.firestream-local agents,network.patch_etc_hosts",
      "update cluster.firestream-local.hosts hosts block in HOSTS",
    ]);
    // a saved plan made with one profile is stale under another
    await h.ok(["plan", "--profile", "ci", "--out", "ci.plan"]);
    const stale = await h.run(["apply", "ci.plan", "--yes"]);
    assertEquals(stale.code, 1, stale.stdout);
    await h.ok(["apply", "--yes"]);
    assertEquals((await h.state()).clusters["firestream-local"].profile, undefined);
  });
});

Deno.test("profiles: an unknown profile or a bad key inside one is refused with exit 1 before any tool runs", async () => {
  await withSimHost({ config: testConfig({ extra: CI_PROFILE }) }, async (h) => {
    for (
      const [args, env, line] of [
        [
          ["plan", "--profile", "cj"],
          {},
          /^error: --profile: unknown profile `cj`; firestream\.toml defines `ci`/m,
        ],
        [
          ["cluster", "create", "--yes"],
          { FIRESTREAM_PROFILE: "lean" },
          /FIRESTREAM_PROFILE: unknown profile `lean`/,
        ],
      ] as [string[], Record<string, string>, RegExp][]
    ) {
      h.clearCalls();
      const r = await h.run(args, { env });
      assertEquals(r.code, 1, r.stderr);
      assertMatch(r.stderr, line);
      assertEquals(h.calls().length, 0, JSON.stringify(h.calls()));
    }
    h.writeConfig(`${testConfig()}\n[profiles.ci.cluster.k3d]\nagnets = 0\n`);
    h.clearCalls();
    const typo = await h.run(["plan"]);
    assertEquals(typo.code, 1);
    assertMatch(
      typo.stderr,
      "unknown key `profiles.ci.cluster.k3d.agnets`; did you mean `agents`?",
    );
    assertEquals(h.calls().length, 0);
    const list = await h.run(["profiles"]);
    assertEquals(list.code, 1);
  });
});

Deno.test("profiles: `firestream profiles` lists each profile with the keys it changes", async () => {
  await withSimHost({ config: testConfig({ network: true, extra: CI_PROFILE }) }, async (h) => {
    const r = await h.ok(["profiles"]);
    assertEquals(r.stdout.trim().split("\n"), [
      "ci",
      "  cluster.k3d.agents = 2 -> 0",
      "  cluster.k3d.network.patch_etc_hosts = true -> false",
    ]);
    const json = JSON.parse((await h.ok(["profiles", "--json", "--profile", "ci"])).stdout);
    assertEquals(json.profile, "ci");
    assertEquals(json.profiles[0].active, true);
    assertEquals(json.profiles[0].changes[0], { key: "cluster.k3d.agents", from: 2, to: 0 });
  });
});

Deno.test("extends: a project in another folder extends a team base; plan and create use the merge", async () => {
  await withSimHost({}, async (h) => {
    const team = `${h.root}/team`;
    await Deno.mkdir(team, { recursive: true });
    // the base holds the ports and a profile; the project names its cluster and its agents
    await Deno.writeTextFile(
      `${team}/base.toml`,
      `${testConfig({ name: "team-base" })}${CI_PROFILE}`,
    );
    h.writeConfig(`extends = "../team/base.toml"\n\n[cluster.k3d]\nname = "app"\nagents = 1\n`);
    await h.ok(["cluster", "create", "--yes"]);
    const rec = (await h.state()).clusters["app"];
    assertEquals([rec.k3d_config.agents, rec.k3d_config.tls.enabled], [1, false]);
    await h.ok(["plan", "--detailed-exitcode"]);
    // the base's profile applies to the project too
    const ci = await h.ok(["plan", "--profile", "ci", "--json", "--detailed-exitcode"], 2);
    assertEquals(planChanges(ci.stdout), ["update cluster.app agents"]);
    // a change in the base is a change of the project's plan
    await Deno.writeTextFile(
      `${team}/base.toml`,
      (await Deno.readTextFile(`${team}/base.toml`)).replace(
        "[cluster.k3d]\n",
        '[cluster.k3d]\nservers = 1\nk3s_version = "v1.30.6-k3s1"\n',
      ),
    );
    const moved = await h.ok(["plan", "--json", "--detailed-exitcode"], 2);
    assertMatch(moved.stdout, "k3s_version");
    // a cycle is refused naming both files
    await Deno.writeTextFile(`${team}/base.toml`, `extends = "../project/firestream.toml"\n`);
    const cycle = await h.run(["plan"]);
    assertEquals(cycle.code, 1);
    assertMatch(
      cycle.stderr,
      /team\/base\.toml: `extends` = "\.\.\/project\/firestream\.toml" leads back to firestream\.toml/,
    );
  });
});

Deno.test("templates: init --list-templates names each; every template plans in an empty folder and creates", async () => {
  await withSimHost({}, async (h) => {
    const list = await h.ok(["init", "--list-templates"]);
    for (const name of ["minimal", "full", "ci", "multi-node"]) assertMatch(list.stdout, name);
    const bad = await h.run(["init", "--template", "tiny", "--yes"]);
    assertEquals(bad.code, 1);
    assertMatch(bad.stderr, /--template.*tiny/);
    const shape = (k: K3dConfig) => [
      k.servers,
      k.agents,
      k.registry.enabled,
      k.tls.enabled,
      k.network.configure_routes,
    ];
    const want: Record<string, unknown[]> = {
      minimal: [1, 0, false, false, false],
      full: [1, 2, true, true, true],
      ci: [1, 0, true, true, false],
      "multi-node": [3, 2, true, true, true],
    };
    for (const name of Object.keys(want)) {
      const cwd = `${h.root}/${name}`;
      await Deno.mkdir(cwd);
      const made = await h.run(["init", "--template", name, "--yes", "--name", `t-${name}`], {
        cwd,
      });
      assertEquals(made.code, 0, made.stderr);
      const written = await Deno.readTextFile(`${cwd}/firestream.toml`);
      // written for people: the template named, a comment above each key, no empty [cluster] table
      assertMatch(written, `made from the \`${name}\` template`);
      assertMatch(written, "# agent nodes (0-99), added or removed in place\nagents = ");
      assertOk(!/^\[cluster\]$/m.test(written), written);
      // the template's own host ports, made free ones so that tests running beside this one cannot clash
      await Deno.writeTextFile(
        `${cwd}/firestream.toml`,
        written.replace(
          /^(api_port|http_port|https_port|port) = \d+$/gm,
          (_, key) => `${key} = ${freePort()}`,
        ),
      );
      const plan = await h.run(["plan", "--detailed-exitcode"], { cwd });
      assertEquals(plan.code, 2, `${name}: ${plan.stderr}`);
      const create = await h.run(["cluster", "create", "--yes"], { cwd });
      assertEquals(create.code, 0, `${name}: ${create.stderr}`);
      const state = JSON.parse(await Deno.readTextFile(`${cwd}/.firestream/state.json`));
      assertEquals(shape(state.clusters[`t-${name}`].k3d_config), want[name], name);
      const again = await h.run(["plan", "--detailed-exitcode"], { cwd });
      assertEquals(again.code, 0, `${name}: ${again.stdout}${again.stderr}`);
      const gone = await h.run(["cluster", "delete", "--yes"], { cwd });
      assertEquals(gone.code, 0, `${name}: ${gone.stderr}`);
    }
  });
});
