/** resolvectl as systemd 260 prints it (test/sim/fixtures/resolvectl/, written from its source). */
import { assertEquals } from "../../test/assert.ts";
import { parseResolvectlStatus, resolvedAbsent } from "./dns.ts";

const FIXTURES = new URL("../../test/sim/fixtures/resolvectl/", import.meta.url).pathname;

// deno-lint-ignore no-explicit-any
function fixture(path: string): any {
  return JSON.parse(Deno.readTextFileSync(`${FIXTURES}${path}`));
}

Deno.test("resolvectl status: a Delegate section belongs to no link, not to the one before it", () => {
  const links = parseResolvectlStatus(fixture("status-260.json").stdout);
  assertEquals(links, { eth0: { dns: ["192.0.2.53"], domains: ["example.internal"] } });
});

Deno.test("resolvectl without systemd-resolved: the varlink (260) and D-Bus wordings both mean resolv.conf", () => {
  for (const c of fixture("resolved-absent-260.json")) {
    assertEquals(resolvedAbsent(c.stderr), true, c.stderr);
  }
  assertEquals(resolvedAbsent("Failed to set DNS configuration: Access denied"), false);
  assertEquals(
    resolvedAbsent(
      "Failed to connect to service /run/systemd/resolve/io.systemd.Resolve: Permission denied",
    ),
    false,
  );
});
