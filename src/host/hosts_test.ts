import { assertEquals } from "../../test/assert.ts";
import { configSchema } from "../config/schema.ts";
import { hostsLines } from "./hosts.ts";

const k3d = (cluster: Record<string, unknown>) =>
  configSchema.parse({ cluster: { k3d: cluster } }).cluster.k3d;

Deno.test("hosts block: the registry line names its container as read, never one derived from its name", () => {
  const tls = { tls: { enabled: true }, network: { hosts: ["api.test"] } };
  // a registry k3d made with its cluster is named exactly NAME
  assertEquals(hostsLines(k3d({ ...tls, registry: { name: "myreg" } }), "myreg"), [
    "127.0.0.1\tmyreg",
    "127.0.0.1\tfirestream.local",
    "127.0.0.1\tapi.test",
  ]);
  // one `k3d registry create NAME` made is k3d-NAME
  const plain = { tls: { enabled: false } };
  assertEquals(hostsLines(k3d({ ...plain, registry: { name: "myreg" } }), "k3d-myreg"), [
    "127.0.0.1\tk3d-myreg",
  ]);
  // no registry in the config: no line, whatever is passed
  assertEquals(hostsLines(k3d({ ...plain, registry: { enabled: false } }), "k3d-myreg"), []);
});
