import { assertEquals } from "../../test/assert.ts";
import { readyPods, selectPorts } from "./discovery.ts";

const svc = (ns: string, name: string, ports: number[], selector: boolean | undefined = true) => ({
  kind: "Service",
  metadata: { namespace: ns, name },
  spec: {
    ...(selector ? { selector: { app: name } } : {}),
    ports: ports.map((port) => ({ port, protocol: "TCP" })),
  },
});
const slice = (
  ns: string,
  service: string,
  ready: (boolean | undefined)[] | null,
  ports: { name: string; port: number }[] = [],
) => ({
  kind: "EndpointSlice",
  metadata: { namespace: ns, labels: { "kubernetes.io/service-name": service } },
  endpoints: ready?.map((r, i) => ({
    addresses: ["10.42.0.9"],
    conditions: r === undefined ? {} : { ready: r },
    targetRef: { kind: "Pod", name: `${service}-${i}` },
  })) ?? null,
  ports,
});

Deno.test("discovery: a service's ready pods are the endpoints not marked unready, each port to its pod port", () => {
  const named = {
    kind: "Service",
    metadata: { namespace: "d", name: "named" },
    spec: {
      selector: { app: "named" },
      ports: [{ name: "http", port: 80, targetPort: "web" }, {
        name: "m",
        port: 9090,
        targetPort: 9,
      }],
    },
  };
  const found = readyPods([
    slice("d", "up", [false, true]),
    slice("d", "unset", [undefined]),
    slice("d", "down", [false]),
    slice("d", "empty", null),
    svc("d", "up", [80]),
    named,
    slice("d", "named", [true], [{ name: "http", port: 8080 }]),
  ]);
  assertEquals([...found.keys()].sort(), ["d/named", "d/unset", "d/up"]);
  assertEquals(found.get("d/up")!.map((t) => t.pod), ["up-1"]);
  // a named targetPort resolved by the slice; a number kept when the slice does not name the port
  assertEquals([...found.get("d/named")![0].targets], [[80, 8080], [9090, 9]]);
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
  assertEquals([...found.pods.keys()], ["default/web"]);
  assertEquals(found.ignored.map((i) => i.service), ["kubernetes", "ext"]);
});
