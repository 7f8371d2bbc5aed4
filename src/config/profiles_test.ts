import { assertEquals, assertRejects } from "../../test/assert.ts";
import { ConfigError } from "../errors.ts";
import { loadConfig } from "./load.ts";

async function project(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "firestream-profiles-" });
  for (const [name, text] of Object.entries(files)) {
    const path = `${dir}/${name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, text);
  }
  return dir;
}

const LAPTOP = `[cluster.k3d]
name = "team"
agents = 2

[cluster.k3d.network]
configure_routes = true

[profiles.ci.cluster.k3d]
agents = 0

[profiles.ci.cluster.k3d.network]
configure_routes = false
configure_dns = false

[profiles.big.cluster.k3d]
agents = 5
`;

async function refused(dir: string, profile: string | undefined, message: RegExp) {
  const err = await assertRejects(
    () => loadConfig({ cwd: dir, profile }),
    ConfigError,
  );
  if (!message.test(err.message)) {
    throw new Error(`message ${JSON.stringify(err.message)} does not match ${message}`);
  }
}

Deno.test("profiles: the base stands without one; a profile overlays only its own keys", async () => {
  const dir = await project({ "firestream.toml": LAPTOP });
  const base = await loadConfig({ cwd: dir });
  assertEquals(base.profile, undefined);
  assertEquals(base.config.cluster.k3d.agents, 2);
  assertEquals(Object.keys(base.profiles), ["ci", "big"]);
  const ci = await loadConfig({ cwd: dir, profile: "ci" });
  assertEquals(ci.profile, "ci");
  const k = ci.config.cluster.k3d;
  assertEquals(
    [
      k.name,
      k.agents,
      k.network.configure_routes,
      k.network.configure_dns,
      k.network.patch_etc_hosts,
    ],
    ["team", 0, false, false, true],
  );
  // the validated base is kept beside it, and the saved-plan fingerprint tells the two apart
  assertEquals(ci.base.cluster.k3d.agents, 2);
  assertEquals(ci.fingerprint === base.fingerprint, false);
});

Deno.test("profiles: FIRESTREAM_PROFILE selects one; --profile wins over it", async () => {
  const dir = await project({ "firestream.toml": LAPTOP });
  // the variable's value is passed in: tests in parallel share one process environment
  assertEquals((await loadConfig({ cwd: dir, envProfile: "big" })).config.cluster.k3d.agents, 5);
  assertEquals(
    (await loadConfig({ cwd: dir, profile: "ci", envProfile: "big" })).config.cluster.k3d.agents,
    0,
  );
  const err = await assertRejects(() => loadConfig({ cwd: dir, envProfile: "nope" }), ConfigError);
  assertEquals(
    err.message,
    "FIRESTREAM_PROFILE: unknown profile `nope`; firestream.toml defines `ci`, `big`",
  );
});

Deno.test("profiles: an unknown profile names the ones that exist; a file without any says so", async () => {
  const dir = await project({ "firestream.toml": LAPTOP });
  await refused(
    dir,
    "cj",
    /^--profile: unknown profile `cj`; firestream\.toml defines `ci`, `big`$/,
  );
  const plain = await project({ "firestream.toml": "[cluster.k3d]\nagents = 1\n" });
  await refused(
    plain,
    "ci",
    /^--profile: unknown profile `ci`; firestream\.toml defines no profiles$/,
  );
});

Deno.test("profiles: a bad key or value in any profile is refused with its full key, selected or not", async () => {
  const typo = await project({
    "firestream.toml": `${LAPTOP}\n[profiles.ci.cluster.k3d.dev_mode]\nport_ofset = 1\n`,
  });
  await refused(
    typo,
    undefined,
    /^firestream\.toml: unknown key `profiles\.ci\.cluster\.k3d\.dev_mode\.port_ofset`; did you mean `port_offset`\?$/,
  );
  const value = await project({
    "firestream.toml": `${LAPTOP}\n[profiles.x.cluster.k3d]\nservers = 0\n`,
  });
  await refused(
    value,
    "ci",
    /^firestream\.toml: `profiles\.x\.cluster\.k3d\.servers` = 0: must be at least 1$/,
  );
  const shape = await project({ "firestream.toml": `profiles = 3\n` });
  await refused(shape, undefined, /`profiles` must be a table of profiles/);
  const nested = await project({ "firestream.toml": `[profiles.ci]\nextends = "x.toml"\n` });
  await refused(nested, undefined, /unknown key `profiles\.ci\.extends`/);
  const top = await project({ "firestream.toml": `[profile.ci.cluster.k3d]\nagents = 0\n` });
  await refused(top, undefined, /unknown key `profile`; did you mean `profiles`\?$/);
});

Deno.test("extends: a base in another folder is merged first, relative to the file that names it", async () => {
  const dir = await project({
    "team/base.toml":
      `[cluster.k3d]\nagents = 3\nk3s_version = "v1.30.6-k3s1"\n[cluster.k3d.tls]\nenabled = false\n[profiles.ci.cluster.k3d]\nagents = 0\n`,
    "app/firestream.toml":
      `extends = "../team/base.toml"\n[cluster.k3d]\nname = "app"\nagents = 1\n`,
  });
  const loaded = await loadConfig({ cwd: `${dir}/app` });
  const k = loaded.config.cluster.k3d;
  assertEquals([k.name, k.agents, k.k3s_version, k.tls.enabled], ["app", 1, "v1.30.6-k3s1", false]);
  assertEquals(loaded.bases, [`${dir}/team/base.toml`]);
  // a profile of the base applies to the file that extends it
  assertEquals(
    (await loadConfig({ cwd: `${dir}/app`, profile: "ci" })).config.cluster.k3d.agents,
    0,
  );
  // the base's text is part of what a saved plan checks
  const before = loaded.fingerprint;
  await Deno.writeTextFile(`${dir}/team/base.toml`, `[cluster.k3d]\nagents = 4\n`);
  assertEquals((await loadConfig({ cwd: `${dir}/app` })).fingerprint === before, false);
});

Deno.test("extends: a chain of two is followed; a key in the base is named with the base's file", async () => {
  const dir = await project({
    "org.toml": `[cluster.k3d.registry]\nport = 5055\n`,
    "team/base.toml": `extends = "../org.toml"\n[cluster.k3d]\nagents = 0\n`,
    "app/firestream.toml": `extends = "../team/base.toml"\n[project]\nname = "app"\n`,
  });
  const loaded = await loadConfig({ cwd: `${dir}/app` });
  assertEquals(loaded.config.cluster.k3d.registry.port, 5055);
  assertEquals(loaded.config.cluster.k3d.agents, 0);
  assertEquals(loaded.bases, [`${dir}/team/base.toml`, `${dir}/org.toml`]);
  await Deno.writeTextFile(`${dir}/org.toml`, `[cluster.k3d.registry]\nprot = 5055\n`);
  await refused(
    `${dir}/app`,
    undefined,
    /^\/.*\/org\.toml: unknown key `cluster\.k3d\.registry\.prot`; did you mean `port`\?$/,
  );
});

Deno.test("extends: a cycle is refused naming both files; a missing base names the path", async () => {
  const dir = await project({
    "a/firestream.toml": `extends = "../b/firestream.toml"\n`,
    "b/firestream.toml": `extends = "../a/firestream.toml"\n`,
  });
  await refused(
    `${dir}/a`,
    undefined,
    /b\/firestream\.toml: `extends` = "\.\.\/a\/firestream\.toml" leads back to firestream\.toml: a cycle of extends$/,
  );
  const self = await project({ "firestream.toml": `extends = "./firestream.toml"\n` });
  await refused(self, undefined, /leads back to firestream\.toml: a cycle of extends$/);
  const missing = await project({ "firestream.toml": `extends = "base.toml"\n` });
  await refused(
    missing,
    undefined,
    /^firestream\.toml: `extends` = "base\.toml": .*\/base\.toml does not exist$/,
  );
  const wrong = await project({ "firestream.toml": `extends = 3\n` });
  await refused(
    wrong,
    undefined,
    /^firestream\.toml: `extends` = 3: must be the path of another firestream\.toml/,
  );
});
