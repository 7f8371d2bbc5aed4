/**
 * Host DNS through the real glibc resolver: `cluster create` in resolv.conf mode (and with
 * systemd-resolved's routing domains), then `getent hosts` in a private network + mount namespace
 * with dnsmasq as kube-dns (answering the ingress domain as the server block Firestream wrote for
 * CoreDNS does) and as the upstream, for each shape of starting resolv.conf; `cluster delete` gives
 * back each starting file byte for byte.
 */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import type { DnsCase, DnsOutcome } from "./dns_helper.ts";
import { findProgram, requireReal, run } from "./require.ts";

const tools = ["unshare", "mount", "umount", "ip", "getent", "dnsmasq"];
const missing = tools.filter((t) => !findProgram(t));
let canNs = false;
if (!missing.length && Deno.build.os === "linux" && Deno.uid() === 0) {
  canNs = (await run(findProgram("unshare")!, ["-n", "-m", "--", "true"])).code === 0;
}
const available = requireReal(
  "dnsmasq (Debian dnsmasq-base), getent and a private network + mount namespace (root)",
  canNs,
  missing.length
    ? `missing ${missing.join(", ")}`
    : Deno.uid() !== 0
    ? "needs root for `unshare -n -m` and bind mounts"
    : "`unshare -n -m` failed",
);

const HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n";
const SHAPES: Record<string, string> = {
  "a search line": "nameserver 10.99.0.53\nsearch corp.example\n",
  "a domain line": "# by hand\ndomain corp.example\nnameserver 10.99.0.53\noptions edns0\n",
  "no final newline, five search domains":
    "nameserver 10.99.0.53\nsearch a.example b.example c.example d.example e.example",
  "no search line": "nameserver 10.99.0.53\n",
};

async function inNamespace(c: DnsCase): Promise<DnsOutcome> {
  const helper = new URL("./dns_helper.ts", import.meta.url).pathname;
  const r = await run(findProgram("unshare")!, [
    "-n",
    "-m",
    "--",
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    helper,
    JSON.stringify(c),
  ]);
  assertEquals(r.code, 0, `${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

function printTable(shape: string, label: string, rows: { name: string; answer: string }[]): void {
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`\n${shape}, ${label}:`);
  for (const r of rows) console.log(`  ${r.name.padEnd(width)}  ${r.answer || "<no answer>"}`);
}

Deno.test({
  name:
    "dns: glibc resolves cluster, short, public, hosts-file and any ingress-domain names through what create wrote, for each starting resolv.conf; delete restores the bytes",
  ignore: !available,
}, async () => {
  const entries = Object.entries(SHAPES);
  const outcomes = await Promise.all(
    entries.map(([shape, resolv], i) =>
      inNamespace({ resolv, hosts: HOSTS, lookup: true, stop: i === 0 }).then((o) =>
        [shape, resolv, o] as const
      )
    ),
  );
  for (const [shape, resolv, o] of outcomes) {
    for (const t of o.tables) printTable(`starting resolv.conf with ${shape}`, t.label, t.rows);
    for (const t of o.tables) {
      for (const row of t.rows) {
        assertEquals(
          row.answer,
          row.want,
          `${shape}, ${t.label}: ${row.name}\n${o.written.resolv}`,
        );
      }
    }
    assertMatch(o.create, "DNS test: kubernetes.default.svc.cluster.local → 10.43.0.1");
    assertEquals(o.ingress.zone, "firestream.local");
    assertMatch(o.ingress.address, /^10\.43\./);
    assertEquals(o.restored.resolv, resolv, `${shape}: resolv.conf restored byte for byte`);
    assertEquals(o.restored.hosts, HOSTS, `${shape}: hosts restored byte for byte`);
    assertOk(o.written.resolv.startsWith(resolv.length ? "# BEGIN firestream" : ""));
  }
  const many = outcomes.find(([s]) => s.startsWith("no final newline"))![2];
  assertMatch(many.create, "left out d.example, e.example");
  const stopped = outcomes[0][2];
  assertEquals(stopped.stoppedQueries, [], "while stopped, no lookup asks kube-dns");
});

Deno.test({
  name:
    "dns: with systemd-resolved, the ingress domain is a routing domain of the cluster's link beside ~cluster.local: glibc resolves any name under it, public names still go upstream; delete reverts the link",
  ignore: !available,
}, async () => {
  const resolv = "nameserver 127.0.0.54\n";
  const o = await inNamespace({
    resolv,
    hosts: HOSTS,
    lookup: true,
    stop: false,
    mode: "resolved",
  });
  for (const t of o.tables) printTable("systemd-resolved", t.label, t.rows);
  assertEquals(o.link?.domains, ["~cluster.local", "~firestream.local"]);
  assertEquals(o.link?.dns, ["10.43.0.10"]);
  for (const row of o.tables[0].rows) assertEquals(row.answer, row.want, row.name);
  assertOk(o.tables[0].rows.some((r) => r.name === "anything.firestream.local"));
  assertEquals(o.linkAfter, null, "after delete no link sends anything to kube-dns");
  assertEquals(o.written.resolv, resolv, "resolved's resolv.conf is not touched");
  assertEquals(o.restored.resolv, resolv);
  assertEquals(o.restored.hosts, HOSTS);
});

Deno.test({
  name: "dns: a CRLF resolv.conf and hosts file come back byte for byte (glibc cannot read CRLF)",
  ignore: !available,
}, async () => {
  const resolv = "nameserver 10.99.0.53\r\nsearch corp.example\r\n";
  const hosts = "127.0.0.1 localhost\r\n# kept\r\n10.0.0.5 build-server";
  const o = await inNamespace({ resolv, hosts, lookup: false, stop: false });
  assertMatch(
    o.written.resolv,
    "\r\nsearch default.svc.cluster.local svc.cluster.local cluster.local corp.example\r\n",
  );
  assertEquals(o.restored.resolv, resolv);
  assertEquals(o.restored.hosts, hosts);
});
