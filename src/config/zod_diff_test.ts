/**
 * The config and state validators against zod (the library they replaced), on fast-check's
 * mutations of the seed's firestream.toml and of a state file: the same verdict, and for a refused
 * value the same first problem — its key path, its kind, and its message (zod words a wrong type
 * its own way; firestream words it from the kind, so that message is not compared).
 */
import fc from "fast-check";
import { parse as parseToml } from "smol-toml";
import { assertEquals, assertOk } from "../../test/assert.ts";
import { zodConfig, zodState } from "../../test/oracles/zod.ts";
import { stateDocument } from "../state/shape.ts";
import { configSchema } from "./schema.ts";
import type { Shape } from "./shape.ts";

const SEED = parseToml(
  Deno.readTextFileSync(new URL("../../test/fixtures/seed.toml", import.meta.url)),
) as Record<string, unknown>;

const STATE = {
  version: 1,
  lineage: "6f1c",
  serial: 7,
  clusters: {
    dev: {
      name: "dev",
      cluster_type: "k3d",
      managed: true,
      k3d_config: {
        name: "dev",
        servers: 1,
        agents: 2,
        k3s_version: "v1.31.2-k3s1",
        registry: { enabled: true, name: "registry.localhost", port: 5000 },
        tls: { enabled: true, secret_name: "firestream-tls", namespaces: ["default"] },
        network: { pod_cidr: "10.42.0.0/16", service_cidr: "10.43.0.0/16" },
      },
      resources: {
        registry: {
          name: "registry.localhost",
          container: "k3d-registry.localhost",
          host: "127.0.0.1",
          port: 5000,
          created: true,
        },
        cluster: { config_file: "/p/.firestream/dev.yaml", context: "k3d-dev", created: true },
        tls: {
          cert: "/c/dev.crt",
          key: "/c/dev.key",
          secret: { name: "firestream-tls", namespaces: ["default"] },
        },
        routes: [{ cidr: "10.42.0.0/16", via: "172.18.0.3" }],
        dns: { mode: "resolved", interface: "br-1", server: "172.18.0.3", domains: ["local"] },
        hosts_block: { file: "/etc/hosts", lines: ["127.0.0.1 a.local"] },
        port_forwards: { pid_file: "/p/pf.pid", offset: 10000 },
      },
    },
  },
};

type Json = unknown;

/** Every path in `value` (the root too). */
function paths(value: Json, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...at, k]));
  }
  return out;
}

/** A value a hand or a tool might leave: edge strings, numbers, the wrong types. */
const replacement: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "A",
    "x".repeat(64),
    "a-",
    "*.x.local",
    "a\tb",
    "10.42.0.0/16",
    "10.43.0.0/16",
    "10.42.0.0/15",
    "8.8.8.0/24",
    "v1.2.3-k3s1",
    "u@x.y",
    "registry.localhost",
    "resolved",
    "k3d",
    "kind",
  ),
  fc.string({ maxLength: 8 }),
  fc.constantFrom(
    0,
    1,
    -1,
    2,
    9,
    10,
    99,
    100,
    80,
    443,
    5000,
    6550,
    65535,
    65536,
    1.5,
    2 ** 53,
    NaN,
  ),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.constantFrom("default", "a", "a", "Bad_NS"), { maxLength: 3 }),
  fc.constant({ unknown_key: 1 }),
);

type Mutation = { path: (string | number)[]; how: "set" | "delete" | "add"; value: Json };

function mutations(base: Json): fc.Arbitrary<Mutation[]> {
  const all = paths(base);
  return fc.array(
    fc.record({
      path: fc.constantFrom(...all),
      how: fc.constantFrom("set", "set", "set", "delete", "add") as fc.Arbitrary<Mutation["how"]>,
      value: replacement,
    }),
    { minLength: 1, maxLength: 3 },
  );
}

function apply(base: Json, list: Mutation[]): Json {
  let doc = structuredClone(base);
  for (const { path, how, value } of list) {
    // a fresh copy each time: fast-check hands out the same object again
    const m = { path, how, value: structuredClone(value) };
    if (m.path.length === 0) {
      if (m.how === "set") doc = m.value;
      continue;
    }
    let parent = doc as Record<string | number, Json>;
    for (const k of m.path.slice(0, -1)) {
      if (!parent || typeof parent !== "object") break;
      parent = parent[k] as Record<string | number, Json>;
    }
    if (!parent || typeof parent !== "object") continue;
    const key = m.path[m.path.length - 1];
    if (m.how === "set") parent[key] = m.value;
    else if (m.how === "delete") {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else if (Array.isArray(parent)) parent.push(parent[Number(key)]);
    else parent[`${key}_x`] = m.value;
  }
  return doc;
}

interface Verdict {
  ok: boolean;
  path?: (string | number)[];
  code?: string;
  expected?: string;
  message?: string;
}

function ours(shape: Shape<unknown>, input: Json): Verdict {
  const r = shape.check(input);
  if (r.ok) return { ok: true };
  const i = r.issue;
  return {
    ok: false,
    path: i.path,
    code: i.code,
    ...(i.code === "invalid_type" ? { expected: i.expected } : { message: i.message }),
  };
}

function theirs(schema: { safeParse: (v: unknown) => unknown }, input: Json): Verdict {
  const r = schema.safeParse(input) as {
    success: boolean;
    error?: {
      issues: { path: PropertyKey[]; code: string; expected?: string; message: string }[];
    };
  };
  if (r.success) return { ok: true };
  const i = r.error!.issues[0];
  return {
    ok: false,
    path: i.path as (string | number)[],
    code: i.code,
    ...(i.code === "invalid_type" ? { expected: i.expected } : { message: i.message }),
  };
}

for (
  const [what, base, shape, oracle] of [
    ["config", SEED, configSchema, zodConfig],
    ["state", STATE, stateDocument, zodState],
  ] as const
) {
  Deno.test(`shape: mutated ${what} files get zod's verdict and zod's first problem`, () => {
    assertEquals(ours(shape, base), { ok: true });
    assertEquals(theirs(oracle, base), { ok: true });
    let refused = 0;
    fc.assert(
      fc.property(mutations(base), (list) => {
        const doc = apply(base, list);
        const a = ours(shape, doc);
        assertEquals(a, theirs(oracle, doc), JSON.stringify(list));
        if (!a.ok) refused++;
      }),
      { numRuns: 3000, seed: 26 },
    );
    assertOk(refused > 1000, `only ${refused} refused`);
  });
}
