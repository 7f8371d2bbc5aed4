import { assertEquals } from "../../test/assert.ts";
import { parseService } from "./port_forward.ts";

Deno.test("port-forward SERVICE: `name`, `name.namespace`, or `name` with -n", () => {
  assertEquals(parseService("web"), { namespace: "default", service: "web" });
  assertEquals(parseService("web.apps"), { namespace: "apps", service: "web" });
  assertEquals(parseService("web", "apps"), { namespace: "apps", service: "web" });
  assertEquals(parseService("web.apps", "other"), { namespace: "other", service: "web.apps" });
});
