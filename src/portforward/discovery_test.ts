import { assertEquals } from "../../test/assert.ts";
import { readyServices, selectPorts } from "./discovery.ts";

const svc = (ns: string, name: string, ports: number[], selector: boolean | undefined = true) => ({
  kind: "Service",
  metadata: { namespace: ns, name },
  spec: {
    ...(selector ? { selector: { app: name } } : {}),
    ports: ports.map((port) => ({ port, protocol: "TCP" })),
  },
});
const slice = (ns: string, service: string, ready: (boolean | undefined)[] | null) => ({
  kind: "EndpointSlice",
  metadata: { namespace: ns, labels: { "kubernetes.io/service-name": service } },
  endpoints: ready?.map((r) => ({
    addresses: ["10.42.0.9"],
    conditions: r === undefined ? {} : { ready: r },
  })) ?? null,
});

Deno.test("discovery: a service is ready when a slice has an endpoint not marked unready", () => {
  const ready = readyServices([
    slice("d", "up", [false, true]),
    slice("d", "unset", [undefined]),
    slice("d", "down", [false]),
    slice("d", "empty", null),
    svc("d", "up", [80]),
  ]);
  assertEquals([...ready].sort(), ["d/unset", "d/up"]);
});

Deno.test("discovery: one list of services and slices gives the ports, which are ready, and what is ignored", () => {
  const found = selectPorts([
    svc("default", "kubernetes", [443], false),
    svc("default", "web", [80, 81]),
    svc("default", "ext", [443], false),
    svc("kube-system", "kube-dns", [53]),
    svc("apps", "api", [9090]),
    slice("default", "web", [true]),
  ], { namespaces: [] });
  assertEquals(found.ports.map((p) => `${p.namespace}/${p.service}:${p.port}`), [
    "default/web:80",
    "default/web:81",
    "apps/api:9090",
  ]);
  assertEquals([...found.ready], ["default/web"]);
  assertEquals(found.ignored.map((i) => i.service), ["kubernetes", "ext"]);
});
