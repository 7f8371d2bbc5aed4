import { assertEquals } from "../../test/assert.ts";
import { configDefaults } from "../config/schema.ts";
import { newRecord } from "../../tasks/context.ts";
import { chooseDefaults, type TakenCluster } from "./defaults.ts";

function taken(name: string, edit: (k: ReturnType<typeof k3d>) => void = () => {}): TakenCluster {
  const k = k3d(name);
  edit(k);
  const record = newRecord(k, `/p/${name}`);
  record.resources.registry = {
    name: k.registry.name,
    container: `k3d-${k.registry.name}`,
    host: "127.0.0.1",
    port: k.registry.port,
    created: true,
  };
  return { record, folder: `/p/${name}` };
}

function k3d(name: string) {
  return { ...structuredClone(configDefaults().cluster.k3d), name };
}

const input = { isFree: () => true, hostNetworks: ["127.0.0.0/8"] };

Deno.test("defaults: the first project on a machine gets the documented defaults, named after its folder", () => {
  const d = chooseDefaults({ ...input, folder: "/home/me/My Shop", taken: [] });
  assertEquals(d, {
    name: "my-shop",
    dnsTakenBy: undefined,
    apiPort: 6550,
    httpPort: 80,
    httpsPort: 443,
    registryName: "registry.localhost",
    registryPort: 5000,
    registrySharedWith: undefined,
    podCidr: "10.42.0.0/16",
    serviceCidr: "10.43.0.0/16",
    offset: 10000,
  });
});

Deno.test("defaults: a second project avoids the first one's name, ports, networks, offset and DNS, and shares its registry", () => {
  const first = taken("shop", (k) => {
    k.registry.port = 5005;
  });
  const d = chooseDefaults({ ...input, folder: "/p/shop", taken: [first] });
  assertEquals(d.name, "shop-2");
  assertEquals([d.apiPort, d.httpPort, d.httpsPort], [6551, 8080, 8443]);
  assertEquals([d.registryName, d.registryPort, d.registrySharedWith], [
    "registry.localhost",
    5005,
    "/p/shop",
  ]);
  assertEquals([d.podCidr, d.serviceCidr, d.offset], ["10.44.0.0/16", "10.45.0.0/16", 11000]);
  assertEquals(d.dnsTakenBy, "/p/shop");
  // its own registry: a free port under a name of its own
  const own = chooseDefaults({ ...input, folder: "/p/blog", taken: [first], ownRegistry: true });
  assertEquals([own.registryName, own.registryPort], ["blog-registry.localhost", 5001]);
});

Deno.test("defaults: ports in use on the host and networks of its interfaces are skipped", () => {
  const d = chooseDefaults({
    folder: "/p/x",
    taken: [],
    isFree: (p) => ![6550, 80, 5000].includes(p),
    hostNetworks: ["10.42.7.0/24"],
  });
  assertEquals([d.apiPort, d.httpPort, d.registryPort], [6551, 8080, 5001]);
  assertEquals([d.podCidr, d.serviceCidr], ["10.44.0.0/16", "10.45.0.0/16"]);
});
