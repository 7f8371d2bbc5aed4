import fc from "fast-check";
import { assertEquals } from "../../test/assert.ts";
import {
  dnsStanding,
  mergeSearch,
  readResolvConf,
  resolvConfClusters,
  resolvConfWith,
  SEARCH_DOMAINS,
  withoutResolvConfBlocks,
} from "./dns.ts";

Deno.test("resolv.conf as glibc reads it: the last search or domain line wins, keywords only at line start", () => {
  const read = (text: string) => readResolvConf(text, "box");
  assertEquals(read("search a b\ndomain c\n").search, ["c"]);
  assertEquals(read("domain c d\nsearch a\tb\n").search, ["a", "b"]);
  assertEquals(read("search a\n  search b\n#search c\n;search d\nsearchx e\n").search, ["a"]);
  assertEquals(read("search a\r\nnameserver 192.0.2.1\r\n"), {
    nameservers: ["192.0.2.1"],
    search: ["a"],
  });
  assertEquals(readResolvConf("nameserver 192.0.2.1", "box.corp.example").search, [
    "corp.example",
  ]);
  assertEquals(readResolvConf("", "box").search, []);
});

Deno.test("resolv.conf search list: the cluster's domains first, at most 6 domains in 255 characters", () => {
  assertEquals(mergeSearch(["corp.example", "svc.cluster.local"]), {
    search: [...SEARCH_DOMAINS, "corp.example"],
    dropped: [],
  });
  assertEquals(mergeSearch(["a", "b", "c", "d", "e"]), {
    search: [...SEARCH_DOMAINS, "a", "b", "c"],
    dropped: ["d", "e"],
  });
  const long = "x".repeat(195);
  const r = mergeSearch([long, "short"]);
  assertEquals(r, { search: [...SEARCH_DOMAINS, long], dropped: ["short"] });
  assertEquals(r.search.join(" ").length <= 255, true);
  assertEquals(mergeSearch(["y".repeat(220)]).dropped.length, 1);
});

Deno.test("resolv.conf: kube-dns first, the merged search line last, the file's lines untouched", () => {
  const before = "# by hand\nnameserver 192.0.2.53\nsearch corp.example\noptions ndots:2\n";
  const out = resolvConfWith(before, { cluster: "c1", server: "10.43.0.10", hostname: "box" });
  assertEquals(
    out.text,
    "# BEGIN firestream c1\nnameserver 10.43.0.10\noptions timeout:1 attempts:1\n# END firestream c1\n" +
      before +
      "# BEGIN firestream c1 search\n# the cluster's search domains, then this file's own: glibc reads only the last search line\n" +
      "search default.svc.cluster.local svc.cluster.local cluster.local corp.example\n# END firestream c1 search\n",
  );
  assertEquals(readResolvConf(out.text, "box"), {
    nameservers: ["10.43.0.10", "192.0.2.53"],
    search: [...SEARCH_DOMAINS, "corp.example"],
  });
  assertEquals(withoutResolvConfBlocks(out.text, "c1"), before);
  const three = "nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\ndomain d\n";
  assertEquals(
    resolvConfWith(three, { cluster: "c1", server: "10.43.0.10", hostname: "box" }).unused,
    ["192.0.2.3"],
  );
});

const line = fc.oneof(
  fc.constantFrom(
    "nameserver 192.0.2.53",
    "search corp.example lab.example",
    "domain corp.example",
    "options ndots:2",
    "# comment",
    "",
    " search indented.example",
  ),
  fc.string({ unit: fc.constantFrom("a", " ", "\t", "#", ".", "\r"), maxLength: 10 }),
);
const file = fc.tuple(fc.array(line, { maxLength: 8 }), fc.constantFrom("\n", "\r\n"), fc.boolean())
  .map(([lines, eol, final]) => lines.join(eol) + (final && lines.length ? eol : ""));

Deno.test("resolv.conf: any file gets its exact bytes back; a second write changes nothing; the cluster's search wins", () => {
  fc.assert(
    fc.property(file, (text) => {
      const out =
        resolvConfWith(text, { cluster: "c1", server: "10.43.0.10", hostname: "box" }).text;
      assertEquals(withoutResolvConfBlocks(out, "c1"), text);
      assertEquals(
        resolvConfWith(out, { cluster: "c1", server: "10.43.0.10", hostname: "box" }).text,
        out,
      );
      if (!text.includes("\r")) {
        const read = readResolvConf(out, "box");
        assertEquals(read.nameservers[0], "10.43.0.10");
        assertEquals(read.search.slice(0, 3), SEARCH_DOMAINS);
      }
      const other =
        resolvConfWith(out, { cluster: "c2", server: "10.53.0.10", hostname: "box" }).text;
      assertEquals(withoutResolvConfBlocks(withoutResolvConfBlocks(other, "c2"), "c1"), text);
    }),
    { numRuns: 500 },
  );
});

Deno.test("dns standing: kube-dns first while the cluster is down is a failure with the fix; split DNS never slows the host", () => {
  const rec = { mode: "resolv.conf" as const, server: "10.43.0.10", file: "/etc/resolv.conf" };
  const standing = (liveness: "running" | "stopped" | "missing" | "docker-down", blocks: boolean) =>
    dnsStanding(rec, { cluster: "c1", liveness, blocks });
  assertEquals(standing("running", true).status, "pass");
  assertEquals(standing("running", false).status, "warn");
  assertEquals(standing("stopped", false).status, "pass");
  assertEquals(standing("missing", false).status, "warn");
  for (const liveness of ["stopped", "docker-down", "missing"] as const) {
    const s = standing(liveness, true);
    assertEquals(s.status, "fail");
    assertEquals(/every lookup on this host waits/.test(s.detail), true);
    assertEquals(
      /firestream cluster (stop|delete c1)/.test(s.fix!),
      true,
      `${liveness}: ${s.fix}`,
    );
  }
  const split = dnsStanding({ mode: "resolved", server: "10.43.0.10" }, {
    cluster: "c1",
    liveness: "docker-down",
    blocks: false,
  });
  assertEquals(split.status, "pass");
});

Deno.test("resolv.conf: the clusters whose nameserver is in the file", () => {
  const one =
    resolvConfWith("nameserver 192.0.2.53\n", { cluster: "c1", server: "10.43.0.10" }).text;
  const two = resolvConfWith(one, { cluster: "c-2", server: "10.53.0.10" }).text;
  assertEquals(resolvConfClusters(two).sort(), ["c-2", "c1"]);
  assertEquals(resolvConfClusters("# BEGIN firestream c1\n# END firestream c1\n"), []);
});
