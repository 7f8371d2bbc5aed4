import fc from "fast-check";
import { assertEquals, assertOk } from "../../test/assert.ts";
import { byServicePort, keyOf, mapPorts, type ServicePort } from "./mapping.ts";

const all = () => true;

Deno.test("mapping: the seed's example, 8080 → 18080; shared ports get the next free one, reported deterministically", () => {
  const ports: ServicePort[] = [
    { namespace: "default", service: "web", port: 8080 },
    { namespace: "default", service: "api", port: 8080 },
    { namespace: "apps", service: "db", port: 5432 },
  ];
  const { mappings } = mapPorts(ports, { offset: 10000, isFree: all });
  assertEquals(mappings.map((m) => `${keyOf(m)}→${m.local_port}`), [
    "apps/db:5432→15432",
    "default/api:8080→18080",
    "default/web:8080→18081",
  ]);
  const busy = mapPorts(ports, { offset: 10000, isFree: (p) => p !== 18080 });
  assertEquals(busy.mappings.find((m) => m.service === "api")!.local_port, 18081);
});

Deno.test("mapping: above 65535 is skipped with a reason; earlier mappings are kept while valid", () => {
  const r = mapPorts([{ namespace: "d", service: "s", port: 60000 }], {
    offset: 10000,
    isFree: all,
  });
  assertEquals(r.mappings, []);
  assertOk(r.skipped[0].reason.includes("70000"));
  const ports = [{ namespace: "d", service: "a", port: 80 }, {
    namespace: "d",
    service: "b",
    port: 80,
  }];
  const previous = [{ namespace: "d", service: "b", port: 80, local_port: 10080 }];
  const kept = mapPorts(ports, { offset: 10000, previous, isFree: all });
  assertEquals(kept.mappings.map((m) => [m.service, m.local_port]), [["a", 10081], ["b", 10080]]);
});

Deno.test("mapping: local ports are unique, ≥ port+offset, free, and the result does not depend on input order", () => {
  const port = fc.record({
    namespace: fc.constantFrom("a", "b", "c"),
    service: fc.constantFrom("x", "y", "z", "w"),
    port: fc.integer({ min: 1, max: 200 }),
  });
  fc.assert(
    fc.property(
      fc.uniqueArray(port, { selector: keyOf, maxLength: 30 }),
      fc.integer({ min: 1, max: 300 }),
      fc.array(fc.integer({ min: 1, max: 600 })),
      (ports, offset, taken) => {
        const isFree = (p: number) => !taken.includes(p);
        const a = mapPorts(ports, { offset, isFree });
        const b = mapPorts([...ports].reverse(), { offset, isFree });
        assertEquals(a, b);
        const locals = a.mappings.map((m) => m.local_port);
        assertEquals(new Set(locals).size, locals.length);
        for (const m of a.mappings) {
          assertOk(m.local_port >= m.port + offset && isFree(m.local_port));
        }
        assertEquals(a.mappings.length + a.skipped.length, ports.length);
      },
    ),
  );
});

Deno.test("mapping: rows come by namespace, service and port number", () => {
  const ports: ServicePort[] = [
    { namespace: "default", service: "web", port: 8443 },
    { namespace: "default", service: "web-2", port: 80 },
    { namespace: "default", service: "web", port: 80 },
    { namespace: "apps", service: "api", port: 9090 },
  ];
  const { mappings } = mapPorts(ports, { offset: 10000, isFree: all });
  assertEquals(mappings.map(keyOf), [
    "apps/api:9090",
    "default/web:80",
    "default/web:8443",
    "default/web-2:80",
  ]);
  assertEquals([...ports].sort(byServicePort), mappings.map(({ local_port: _, ...p }) => p));
});
