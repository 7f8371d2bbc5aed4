import { assertEquals, assertMatch } from "../../test/assert.ts";

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("accepted");
}
import { answerFromServers, loadCustomServers, parseServerBlocks } from "../../test/sim/coredns.ts";
import { configSchema } from "../config/schema.ts";
import { hostsLines, ingressHostsFallback } from "./hosts.ts";
import {
  corednsServerBlock,
  INGRESS_DNS_KEY,
  ingressHosts,
  readServerBlock,
  traefikAddresses,
} from "./ingress_dns.ts";

for (const domain of ["firestream.local", "apps.dev.example.test"]) {
  Deno.test(`ingress dns: the server block for ${domain} parses as CoreDNS reads it and answers every name under it`, () => {
    const text = corednsServerBlock("dev", domain, { v4: ["10.43.7.9"], v6: [] });
    const blocks = parseServerBlocks(text);
    assertEquals(blocks.map((b) => [b.zones, b.port]), [[[`${domain}.`], 53]]);
    assertEquals(blocks[0].directives.map((d) => d.words[0].text), [
      "errors",
      "template",
      "template",
    ]);
    for (const name of [domain, `hello.${domain}`, `a.b.c.${domain}`]) {
      assertEquals(answerFromServers(blocks, name, "A"), {
        rcode: "NOERROR",
        answers: [{ type: "A", ttl: 30, data: "10.43.7.9" }],
      });
      // AAAA on an IPv4 cluster, and any other type: an empty answer at once, never NXDOMAIN
      assertEquals(answerFromServers(blocks, name, "AAAA"), { rcode: "NOERROR", answers: [] });
      assertEquals(answerFromServers(blocks, name, "MX"), { rcode: "NOERROR", answers: [] });
    }
    assertEquals(answerFromServers(blocks, "example.com", "A"), undefined);
    assertEquals(readServerBlock(text), { domain, addresses: ["10.43.7.9"] });
  });
}

Deno.test("ingress dns: a dual-stack Traefik answers A and AAAA", () => {
  const text = corednsServerBlock("dev", "firestream.local", {
    v4: ["10.43.0.5"],
    v6: ["fd00::5"],
  });
  const blocks = parseServerBlocks(text);
  assertEquals(answerFromServers(blocks, "x.firestream.local", "AAAA")?.answers, [
    { type: "AAAA", ttl: 30, data: "fd00::5" },
  ]);
  assertEquals(readServerBlock(text)?.addresses, ["10.43.0.5", "fd00::5"]);
});

Deno.test("ingress dns: the checker refuses what CoreDNS refuses", () => {
  const bad = [
    'firestream.local:53 {\n    template IN A example.com {\n        answer "{{ .Name }} 30 IN A 10.0.0.1"\n    }\n}\n',
    'firestream.local:53 {\n    template IN A {\n        answer "{{ .Name }} IN A 10.0.0.1"\n    }\n}\n',
    'firestream.local:53 {\n    template IN A {\n        answer "{{ .Name }} 30 IN A 10.0.0.300"\n    }\n}\n',
    "firestream.local:53 {\n    template IN A {\n        rcode MAYBE\n    }\n}\n",
    "firestream.local:53 {\n    wildcard 10.0.0.1\n}\n",
    "firestream.local:53 {\n    errors\n",
  ];
  for (const text of bad) assertMatch(refusal(() => parseServerBlocks(text)), /line \d+/);
  // a user's block for the same zone makes CoreDNS refuse both
  const ours = corednsServerBlock("dev", "firestream.local", { v4: ["10.43.0.5"], v6: [] });
  assertMatch(
    refusal(() =>
      loadCustomServers({
        [INGRESS_DNS_KEY]: ours,
        "mine.server": "firestream.local:53 {\n    forward . 10.0.0.1\n}\n",
      })
    ),
    "multiple times",
  );
});

Deno.test("ingress dns: Traefik's addresses and the Ingress hosts under the domain", () => {
  const svc = (name: string, spec: Record<string, unknown>) => ({
    metadata: { name, namespace: "kube-system" },
    spec,
  });
  assertEquals(traefikAddresses([svc("traefik", { clusterIP: "10.43.1.2" })]), {
    v4: ["10.43.1.2"],
    v6: [],
  });
  assertEquals(traefikAddresses([svc("traefik", { clusterIPs: ["10.43.1.2", "fd00::2"] })]), {
    v4: ["10.43.1.2"],
    v6: ["fd00::2"],
  });
  assertEquals(traefikAddresses([svc("other", { clusterIP: "10.43.1.2" })]), undefined);
  const ing = (hosts: string[], tls: string[] = []) => ({
    spec: { rules: hosts.map((host) => ({ host })), tls: [{ hosts: tls }] },
  });
  assertEquals(
    ingressHosts([
      ing(["b.firestream.local", "example.com", "*.firestream.local"]),
      ing(["A.firestream.local"], ["c.firestream.local", "x.other.local"]),
      { spec: {} },
    ], "firestream.local"),
    ["a.firestream.local", "b.firestream.local", "c.firestream.local"],
  );
});

Deno.test("ingress dns: Ingress hosts go into the hosts block only where Traefik's address is out of reach", () => {
  const k3d = (network: Record<string, unknown>, ingress: Record<string, unknown> = {}) =>
    configSchema.parse({ cluster: { k3d: { network, ingress } } }).cluster.k3d;
  assertEquals(ingressHostsFallback(k3d({}), "linux"), false);
  assertEquals(ingressHostsFallback(k3d({}), "darwin"), true);
  assertEquals(ingressHostsFallback(k3d({ configure_routes: false }), "linux"), true);
  assertEquals(ingressHostsFallback(k3d({ configure_dns: false }), "linux"), true);
  assertEquals(
    ingressHostsFallback(k3d({ configure_routes: false, patch_etc_hosts: false }), "linux"),
    false,
  );
  assertEquals(
    ingressHostsFallback(k3d({ configure_routes: false }, { wildcard_dns: false }), "linux"),
    false,
  );
  const lines = hostsLines(k3d({}), "k3d-registry.localhost", ["hello.firestream.local"]);
  assertEquals(lines.includes("127.0.0.1\thello.firestream.local"), true);
});
