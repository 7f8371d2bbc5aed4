/**
 * The config and state validators against zod (the library they replaced), on fast-check's
 * mutations of the seed's firestream.toml and of a state file: the same verdict, and for a refused
 * value the same first problem — its key path, its kind, and its message (zod words a wrong type
 * its own way; firestream words it from the kind, so that message is not compared).
 */
import fc from "fast-check";
import { parse as parseToml } from "smol-toml";
import { assertEquals, assertOk } from "../../test/assert.ts";
import { applyMutations, type Json, mutations } from "../../test/mutate.ts";
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
        const doc = applyMutations(base, list);
        const a = ours(shape, doc);
        assertEquals(a, theirs(oracle, doc), JSON.stringify(list));
        if (!a.ok) refused++;
      }),
      { numRuns: 3000, seed: 26 },
    );
    assertOk(refused > 1000, `only ${refused} refused`);
  });
}
