import fc from "fast-check";
import { assertEquals, assertMatch, assertRejects } from "../../test/assert.ts";
import { ConfigError } from "../errors.ts";
import { keysAt, loadConfig, validate } from "./load.ts";
import { nearest } from "./suggest.ts";

const seed = new URL("../../test/fixtures/seed.toml", import.meta.url).pathname;

Deno.test("config: the seed's example file loads unchanged, with every value as written", async () => {
  const { config } = await loadConfig({ file: seed });
  assertEquals(config.project, { name: "my-firestream-project", environment: "development" });
  const k = config.cluster.k3d;
  assertEquals(
    [k.name, k.api_port, k.http_port, k.https_port, k.servers, k.agents, k.k3s_version],
    ["firestream-local", 6550, 80, 443, 1, 2, "v1.31.2-k3s1"],
  );
  assertEquals(k.registry, { enabled: true, name: "registry.localhost", port: 5000 });
  assertEquals(k.tls.secret_name, "firestream-tls");
  assertEquals(k.tls.certificate, {
    country: "US",
    state: "New Mexico",
    locality: "Roswell",
    organization: "ACME Co, LLC.",
    organizational_unit: "ACME Department",
    common_name: "*.firestream.local",
    email: "admin@firestream.local",
  });
  assertEquals(
    [
      k.network.configure_routes,
      k.network.configure_dns,
      k.network.patch_etc_hosts,
      k.network.pod_cidr,
      k.network.service_cidr,
    ],
    [true, true, true, "10.42.0.0/16", "10.43.0.0/16"],
  );
  assertEquals([k.dev_mode.port_forward_all, k.dev_mode.port_offset], [true, 10000]);
});

Deno.test("config: an empty file gives the seed's values as defaults", () => {
  const fromSeedDefaults = validate({}, "t");
  assertEquals(fromSeedDefaults.cluster.k3d.name, "firestream-local");
  assertEquals(fromSeedDefaults.cluster.k3d.dev_mode.port_offset, 10000);
});

Deno.test("config: flags override the file and errors name the flag", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/firestream.toml`, "[cluster.k3d]\nagents = 1\n");
  const { config, file, projectDir } = await loadConfig({
    cwd: dir,
    overrides: [{ path: "cluster.k3d.agents", value: 4, flag: "--agents" }],
  });
  assertEquals(config.cluster.k3d.agents, 4);
  assertEquals([file, projectDir], [`${dir}/firestream.toml`, dir]);
  await assertRejects(
    () =>
      loadConfig({
        cwd: dir,
        overrides: [{ path: "cluster.k3d.servers", value: 0, flag: "--servers" }],
      }),
    ConfigError,
    "--servers = 0: must be at least 1",
  );
  await assertRejects(
    () => loadConfig({ cwd: dir, file: "missing.toml" }),
    ConfigError,
    "does not exist",
  );
});

Deno.test("config: without a file, defaults are used; keys are listed from the schema", async () => {
  const dir = await Deno.makeTempDir();
  const { file, config } = await loadConfig({ cwd: dir });
  assertEquals(file, undefined);
  assertEquals(config.cluster.k3d.servers, 1);
  assertEquals(keysAt(["cluster", "k3d", "registry"]), ["enabled", "name", "port"]);
  assertEquals(keysAt([]), ["project", "cluster"]);
});

Deno.test("config: every port in 1..65535 is accepted and every other integer refused, naming the key", () => {
  fc.assert(
    fc.property(fc.integer({ min: -100000, max: 200000 }), (port) => {
      const raw = { cluster: { k3d: { registry: { port } } } };
      const clash = [6550, 80, 443].includes(port);
      try {
        validate(raw, "t");
        return port >= 1 && port <= 65535 && !clash;
      } catch (err) {
        const message = (err as Error).message;
        if (port >= 1 && port <= 65535 && !clash) return false;
        return message.includes("`cluster.k3d.registry.port`");
      }
    }),
  );
});

Deno.test("config: nearest suggests close keys only", () => {
  assertEquals(nearest("agnets", ["agents", "servers"]), "agents");
  assertEquals(nearest("k3s_verison", ["k3s_version", "name"]), "k3s_version");
  assertEquals(nearest("zzzzzz", ["agents", "servers"]), undefined);
});

Deno.test("config: a TOML syntax error names line and column", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/firestream.toml`, '[cluster.k3d]\nname = "ok"\nagents = = 2\n');
  const err = await assertRejects(() => loadConfig({ cwd: dir }), ConfigError);
  assertMatch(err.message, /^firestream\.toml:3:\d+: invalid TOML/);
  // a header missing its `]` is pointed at where the `]` belongs
  await Deno.writeTextFile(`${dir}/firestream.toml`, '[project\nname = "x"\n');
  const header = await assertRejects(() => loadConfig({ cwd: dir }), ConfigError);
  assertEquals(
    header.message,
    "firestream.toml:1:9: invalid TOML: table header `[project` has no closing `]`",
  );
});

Deno.test("config: the first problem is found depth first in the schema's order, a table's unknown keys after its known ones", () => {
  const k3d = (t: Record<string, unknown>) => ({ cluster: { k3d: t } });
  const cases: [unknown, string][] = [
    [k3d({ agent: 3, servers: 0 }), "`cluster.k3d.servers` = 0: must be at least 1"],
    [
      k3d({ agent: 3, registry: { port: 0 } }),
      "`cluster.k3d.registry.port` = 0: must be at least 1",
    ],
    [{ zz: 1, cluster: { k3d: { servers: 0 } } }, "`cluster.k3d.servers` = 0: must be at least 1"],
    [
      { cluster: { k3d: { servers: 0 } }, project: { name: "" } },
      '`project.name` = "": must have at least 1 characters',
    ],
    [
      k3d({ tls: { enabled: 1 }, registry: { enabled: 1 } }),
      "`cluster.k3d.registry.enabled` = 1: must be a boolean, found a number",
    ],
    [
      k3d({ registry: { enabled: 1 }, k3s_version: "x" }),
      '`cluster.k3d.k3s_version` = "x": must look like v1.31.2-k3s1',
    ],
    [
      { project: { x: 1 }, cluster: { k3d: { servers: 0 } } },
      "unknown key `project.x`; valid keys here: `name`, `environment`",
    ],
    [k3d({ zzz: 1, agent: 2 }), "unknown key `cluster.k3d.zzz`; valid keys here: `name`, "],
    [k3d({ agent: 2, zzz: 1 }), "unknown key `cluster.k3d.agent`; did you mean `agents`?"],
    [
      k3d({ tls: { namespaces: ["a", "a", "B"] } }),
      '`cluster.k3d.tls.namespaces.2` = "B": must be a namespace name',
    ],
    [
      k3d({ tls: { namespaces: ["a", "a"] } }),
      '`cluster.k3d.tls.namespaces` = ["a","a"]: lists an entry twice; each must appear once',
    ],
    [
      k3d({ tls: { certificate: { country: "USA" } } }),
      '`cluster.k3d.tls.certificate.country` = "USA": must have at most 2 characters',
    ],
    [
      k3d({ servers: 1.5 }),
      "`cluster.k3d.servers` = 1.5: must be a whole number, found a fraction",
    ],
    [k3d({ name: ["a"] }), '`cluster.k3d.name` = ["a"]: must be a string, found an array'],
    [k3d({ name: { a: 1 } }), '`cluster.k3d.name` = {"a":1}: must be a string, found a table'],
    // ports and networks are compared only once every value is valid on its own
    [
      k3d({ http_port: 6550, network: { pod_cidr: "8.8.8.0/24" } }),
      '`cluster.k3d.network.pod_cidr` = "8.8.8.0/24": is not a private range',
    ],
    [
      k3d({ http_port: 6550, network: { service_cidr: "10.42.0.0/16" } }),
      "`cluster.k3d.http_port` = 6550: port 6550 is already used by cluster.k3d.api_port",
    ],
    [
      k3d({ network: { service_cidr: "10.42.0.0/16" } }),
      '`cluster.k3d.network.service_cidr` = "10.42.0.0/16": overlaps pod_cidr 10.42.0.0/16',
    ],
  ];
  for (const [raw, expected] of cases) {
    let message = "accepted";
    try {
      validate(raw, "firestream.toml");
    } catch (err) {
      message = (err as Error).message;
    }
    assertEquals(message.startsWith(`firestream.toml: ${expected}`), true, message);
  }
});
