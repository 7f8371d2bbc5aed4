/**
 * The JSON Schema of firestream.toml, checked with ajv (a JSON Schema validator, loaded by this
 * test only): the committed file is the generated one, it accepts the seed's config, and it refuses
 * every mutated config the validator refuses wherever JSON Schema can state the rule, and nothing
 * the validator accepts.
 */
import { Ajv } from "ajv";
import fc from "fast-check";
import { parse as parseToml, stringify as toToml } from "smol-toml";
import { assertEquals, assertMatch, assertOk } from "../../test/assert.ts";
import { applyMutations, mutations } from "../../test/mutate.ts";
import { configJsonSchema, configJsonSchemaText, SCHEMA_FILE } from "./json_schema.ts";
import { ConfigError } from "../errors.ts";
import { loadConfig } from "./load.ts";
import { configSchema } from "./schema.ts";
import { number, oneOf, record, strictObject, string } from "./shape.ts";

const ROOT = new URL("../../", import.meta.url);
const SEED = parseToml(Deno.readTextFileSync(new URL("test/fixtures/seed.toml", ROOT)));

function validator() {
  const ajv = new Ajv({ strict: true, allErrors: false });
  return ajv.compile(configJsonSchema());
}

/**
 * The rules JSON Schema cannot state: a network's range (private, /8 to /28, clear of reserved
 * ranges and of the other network), an ingress domain that is no public suffix nor the cluster's
 * own, and distinct ports. The schema states a CIDR's and a domain's form only.
 */
function beyondSchema(issue: { code: string; path: (string | number)[]; message: string }) {
  const key = issue.path[issue.path.length - 1];
  return issue.code === "custom" &&
    (key === "pod_cidr" || key === "service_cidr" || key === "domain" ||
      /is already used by/.test(issue.message));
}

Deno.test("json schema: the committed file is the one the validator's declarations make", () => {
  const committed = Deno.readTextFileSync(new URL(SCHEMA_FILE, ROOT));
  assertEquals(
    committed,
    configJsonSchemaText(),
    `${SCHEMA_FILE} is stale: deno run -A main.ts schema > ${SCHEMA_FILE}`,
  );
});

Deno.test("json schema: ajv compiles it strictly and accepts the seed's firestream.toml and an empty one", () => {
  const valid = validator();
  assertOk(valid(SEED), JSON.stringify(valid.errors));
  assertOk(valid({}), JSON.stringify(valid.errors));
  // the defaults are the validator's
  const k3d = configJsonSchema() as {
    properties: { cluster: { properties: { k3d: { properties: Record<string, unknown> } } } };
  };
  const ports = k3d.properties.cluster.properties.k3d.properties.api_port as { default: number };
  assertEquals(ports.default, configSchema.parse({}).cluster.k3d.api_port);
});

Deno.test("json schema: a mutated config is refused by the schema exactly when the validator refuses it, but for the rules JSON Schema cannot state", () => {
  const valid = validator();
  let refused = 0;
  let beyond = 0;
  fc.assert(
    fc.property(mutations(SEED), (list) => {
      const doc = applyMutations(SEED, list);
      const ours = configSchema.check(doc);
      const theirs = valid(doc);
      const where = `${JSON.stringify(list)}: ajv ${JSON.stringify(valid.errors)}`;
      if (ours.ok) {
        return assertOk(theirs, `the schema refuses what the validator accepts: ${where}`);
      }
      refused++;
      if (theirs) {
        assertOk(beyondSchema(ours.issue), `the schema accepts ${ours.issue.message}: ${where}`);
        beyond++;
      }
    }),
    { numRuns: 3000, seed: 26 },
  );
  assertOk(refused > 1000 && beyond < refused / 10, `${refused} refused, ${beyond} beyond`);
});

/** The seed with a base to extend and a `ci` profile, as issue-free as the seed. */
const WITH_PROFILES = {
  extends: "base.toml",
  ...structuredClone(SEED),
  profiles: {
    ci: {
      cluster: {
        k3d: {
          agents: 0,
          network: { configure_routes: false, configure_dns: false, patch_etc_hosts: false },
          tls: { namespaces: ["default", "shop"] },
        },
      },
    },
    "multi-node": { cluster: { k3d: { servers: 3 } } },
  },
};

Deno.test("json schema: profiles and extends are the loader's: a mutated file with profiles gets the loader's verdict, but for the rules JSON Schema cannot state", async () => {
  const valid = validator();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/base.toml`, '[project]\nenvironment = "shared"\n');
    /**
     * `doc` written as firestream.toml, as an editor reads it back, and the loader's verdict on it;
     * undefined when TOML cannot hold it.
     */
    const loads = async (doc: unknown) => {
      let text: string;
      let read: unknown;
      try {
        text = toToml(doc as Record<string, unknown>);
        read = parseToml(text);
      } catch {
        return undefined;
      }
      await Deno.writeTextFile(`${dir}/firestream.toml`, text);
      try {
        await loadConfig({ cwd: dir, file: "firestream.toml" });
        return { read, verdict: true as const };
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return { read, verdict: err.message };
      }
    };
    assertEquals((await loads(WITH_PROFILES))?.verdict, true);
    assertOk(valid(WITH_PROFILES), JSON.stringify(valid.errors));
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(mutations(WITH_PROFILES), async (list) => {
        const loaded = await loads(applyMutations(WITH_PROFILES, list));
        if (loaded === undefined) return;
        const ours = loaded.verdict;
        const theirs = valid(loaded.read);
        const where = `${JSON.stringify(list)}: ajv ${JSON.stringify(valid.errors)}`;
        if (ours === true) return assertOk(theirs, `the schema refuses what loads: ${where}`);
        refused++;
        // beyond JSON Schema: the networks' ranges, distinct ports, and a base file that is not there
        const beyond =
          /(pod_cidr|service_cidr|ingress\.domain)`|is already used by|`extends` = .*does not exist/;
        if (theirs) assertMatch(ours, beyond, `the schema accepts: ${where}`);
      }),
      { numRuns: 400, seed: 26 },
    );
    assertOk(refused > 100, `only ${refused} refused`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("json schema: a table declared with the shapes is in the schema without more work", () => {
  // as a `[profiles.NAME]` table with an `extends` key would be declared
  const profile = strictObject({
    extends: string().optional().describe("the profile this one starts from"),
    agents: number().int().min(0).max(99).default(2),
    mode: oneOf(["fast", "safe"]).default("safe"),
  });
  const schema = strictObject({ profiles: record(profile).prefault({}) }).jsonSchema();
  assertEquals(schema, {
    type: "object",
    properties: {
      profiles: {
        type: "object",
        additionalProperties: {
          type: "object",
          properties: {
            extends: { description: "the profile this one starts from", type: "string" },
            agents: {
              type: "integer",
              minimum: 0,
              maximum: 99,
              default: 2,
            },
            mode: { enum: ["fast", "safe"], default: "safe" },
          },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  });
  const valid = new Ajv({ strict: true }).compile(schema);
  assertOk(valid({ profiles: { ci: { extends: "base", agents: 0 } } }));
  assertEquals(valid({ profiles: { ci: { agent: 1 } } }), false);
});
