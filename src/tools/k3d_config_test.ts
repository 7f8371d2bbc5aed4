import { parse } from "yaml";
import { assertEquals, assertOk } from "../../test/assert.ts";
import { validate } from "../config/load.ts";
import { validateSchema } from "../../test/sim/schema.ts";
import { k3dConfigDocument, k3dConfigYaml } from "./k3d_config.ts";

const schema = JSON.parse(
  await Deno.readTextFile(
    new URL("../../test/sim/reference/k3d-v1alpha5-schema.json", import.meta.url),
  ),
);

Deno.test("k3d config: the seed's cluster turns into a schema-valid Simple config", async () => {
  const k = validate({}, "defaults").cluster.k3d;
  const doc = parse(await k3dConfigYaml(k, "k3d-registry.localhost"));
  assertEquals(validateSchema(doc, schema), []);
  assertEquals(doc.apiVersion, "k3d.io/v1alpha5");
  assertEquals(doc.kind, "Simple");
  assertEquals(doc.metadata.name, "firestream-local");
  assertEquals([doc.servers, doc.agents], [1, 2]);
  assertEquals(doc.image, "rancher/k3s:v1.31.2-k3s1");
  assertEquals(doc.kubeAPI, { hostIP: "127.0.0.1", hostPort: "6550" });
  assertEquals(doc.ports, [
    { port: "127.0.0.1:80:80", nodeFilters: ["loadbalancer"] },
    { port: "127.0.0.1:443:443", nodeFilters: ["loadbalancer"] },
  ]);
  assertEquals(doc.registries.use, ["k3d-registry.localhost:5000"]);
  // the registry's container as read: one k3d made with a cluster keeps its exact name
  assertEquals(k3dConfigDocument(k, "registry.localhost").registries?.use, [
    "registry.localhost:5000",
  ]);
  assertEquals(doc.options.k3s, undefined, "default CIDRs need no k3s args");
  assertEquals(doc.options.kubeconfig, {
    updateDefaultKubeconfig: true,
    switchCurrentContext: true,
  });
});

Deno.test("k3d config: non-default CIDRs become k3s args on every server, with the matching cluster DNS", () => {
  const k = validate({
    cluster: {
      k3d: {
        network: { pod_cidr: "10.52.0.0/16", service_cidr: "10.53.0.0/16" },
        registry: { enabled: false },
      },
    },
  }, "t").cluster.k3d;
  const doc = k3dConfigDocument(k, undefined);
  assertEquals(validateSchema(doc, schema), []);
  assertEquals(doc.options.k3s?.extraArgs.map((a) => a.arg), [
    "--cluster-cidr=10.52.0.0/16",
    "--service-cidr=10.53.0.0/16",
    "--cluster-dns=10.53.0.10",
  ]);
  assertOk(doc.options.k3s!.extraArgs.every((a) => a.nodeFilters[0] === "server:*"));
  assertEquals("registries" in doc, false);
});

Deno.test("k3d config: a registry made with the cluster is made by it under its exact name (registries.create), schema-valid", () => {
  const k = validate({ cluster: { k3d: { registry: { name: "myreg", port: 5055 } } } }, "t")
    .cluster.k3d;
  const doc = k3dConfigDocument(k, "myreg", { registryWithCluster: true });
  assertEquals(validateSchema(doc, schema), []);
  // pkg/config/transform.go:311-345: name as given, host and port as the exposure "HOST:PORT"
  assertEquals(doc.registries, {
    create: { name: "myreg", host: "127.0.0.1", hostPort: "5055" },
  });
});
