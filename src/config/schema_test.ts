import fc from "fast-check";
import { assertEquals, assertMatch, assertOk } from "../../test/assert.ts";
import { HOSTILE_FIELDS, rawWith } from "../../test/hostile.ts";
import { ConfigError } from "../errors.ts";
import { cidrsOverlap, clusterCidrProblem, parseCidr, PRIVATE_RANGES } from "./cidr.ts";
import { validate } from "./load.ts";
import { ingressDomain } from "./schema.ts";

function refusal(raw: unknown): string | undefined {
  try {
    validate(raw, "firestream.toml");
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.message;
  }
}

Deno.test("schema: every field that reaches a host file or a tool accepts its valid value", () => {
  for (const f of HOSTILE_FIELDS) {
    assertEquals(refusal(rawWith(f.key, f.valid)), undefined, f.key);
  }
});

Deno.test("schema: hostile values of every such field are refused in one line naming the key", () => {
  for (const f of HOSTILE_FIELDS) {
    fc.assert(
      fc.property(f.hostile, (value) => {
        const message = refusal(rawWith(f.key, value));
        assertOk(message, `${f.key} = ${JSON.stringify(value)} was accepted`);
        assertMatch(message, `\`${f.key}`, `${f.key}: ${message}`);
        assertEquals(message.includes("\n"), false, `more than one line: ${message}`);
      }),
      { numRuns: 150 },
    );
  }
});

const cidrArb = fc.tuple(fc.nat({ max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 })).map(
  ([addr, bits]) => {
    const base = bits === 0 ? 0 : addr - (addr % 2 ** (32 - bits));
    return `${[24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join(".")}/${bits}`;
  },
);

Deno.test("cidr: an accepted cluster network is private, /8 to /28, clear of every reserved range", () => {
  fc.assert(
    fc.property(cidrArb, (text) => {
      const c = parseCidr(text)!;
      const problem = clusterCidrProblem(text);
      const inPrivate = PRIVATE_RANGES.some((r) => {
        const p = parseCidr(r)!;
        return c.bits >= p.bits && cidrsOverlap(p, c);
      });
      const ok = inPrivate && c.bits >= 8 && c.bits <= 28;
      assertEquals(problem === undefined, ok, `${text}: ${problem}`);
      for (const reserved of ["0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4"]) {
        if (cidrsOverlap(c, parseCidr(reserved)!)) assertOk(problem, `${text} touches ${reserved}`);
      }
    }),
    { numRuns: 2000 },
  );
  assertMatch(clusterCidrProblem("128.0.0.0/1")!, "overlaps link-local");
  assertMatch(clusterCidrProblem("8.8.8.0/24")!, "not a private range");
  assertMatch(clusterCidrProblem("0.0.0.0/0")!, "default route");
  assertMatch(clusterCidrProblem("127.0.0.0/8")!, "loopback");
  assertMatch(clusterCidrProblem("169.254.0.0/16")!, "link-local");
  assertMatch(clusterCidrProblem("224.0.0.0/4")!, "multicast");
  assertMatch(clusterCidrProblem("10.42.0.0/29")!, "prefix /29");
  for (const ok of ["10.42.0.0/16", "172.16.0.0/12", "192.168.100.0/24", "100.64.0.0/10"]) {
    assertEquals(clusterCidrProblem(ok), undefined, ok);
  }
});

Deno.test("schema: the ingress domain defaults to the wildcard certificate's parent and refuses shared names", () => {
  const k3d = (raw: Record<string, unknown>) => validate(raw, "firestream.toml").cluster.k3d;
  assertEquals(ingressDomain(k3d({})), "firestream.local");
  assertEquals(k3d({}).ingress.wildcard_dns, true);
  const custom = {
    cluster: { k3d: { tls: { certificate: { common_name: "*.dev.example.test" } } } },
  };
  assertEquals(ingressDomain(k3d(custom)), "dev.example.test");
  const plain = { cluster: { k3d: { tls: { certificate: { common_name: "app.example.test" } } } } };
  assertEquals(ingressDomain(k3d(plain)), "firestream.local");
  assertEquals(
    ingressDomain(k3d({ cluster: { k3d: { ingress: { domain: "Apps.Example.Test" } } } })),
    "apps.example.test",
  );
  for (
    const [domain, words] of [
      ["local", "two labels"],
      ["cluster.local", "cluster.local"],
      ["svc.cluster.local", "cluster.local"],
      ["co.uk", "public suffix"],
      ["nip.io", "public suffix"],
      ["x.localhost", "localhost"],
    ]
  ) {
    const message = refusal({ cluster: { k3d: { ingress: { domain } } } });
    assertOk(message, domain);
    assertMatch(message, "`cluster.k3d.ingress.domain`");
    assertMatch(message, words);
  }
});
