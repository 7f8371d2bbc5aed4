/** `ip -j route` output as the real tool printed it (test/sim/fixtures/README.md). */
import { assertEquals } from "../../test/assert.ts";
import { routeFor } from "./routes.ts";

const FIXTURES = new URL("../../test/sim/fixtures/", import.meta.url).pathname;

// deno-lint-ignore no-explicit-any
function fixture(path: string): any {
  return JSON.parse(Deno.readTextFileSync(`${FIXTURES}${path}`));
}

Deno.test("ip JSON: the route for exactly one CIDR", () => {
  const real = fixture("ip/route.json");
  assertEquals(routeFor(real["show-cidr"].stdout, "10.42.0.0/16"), {
    dst: "10.42.0.0/16",
    gateway: "172.30.0.2",
    dev: "fsbr0",
    flags: [],
  } as unknown as ReturnType<typeof routeFor>);
  assertEquals(routeFor(real["show-none"].stdout, "10.99.0.0/16"), undefined);
  assertEquals(routeFor(real.show.stdout, "172.30.0.0/16")?.gateway, undefined);
});
