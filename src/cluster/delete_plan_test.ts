import { assertEquals } from "../../test/assert.ts";
import { keepRegistry } from "../../tasks/cluster_delete/07_registry.ts";
import { newRecord } from "../../tasks/context.ts";
import { configDefaults } from "../config/schema.ts";
import type { ClusterRecord, StateDocument } from "../state/document.ts";
import type { K3dCluster, K3dNode } from "../tools/k3d.ts";
import { deletePlan } from "./delete_plan.ts";

function record(name: string, certsDir = "/certs"): ClusterRecord {
  const k3d = { ...configDefaults().cluster.k3d, name };
  k3d.tls = { ...k3d.tls, certs_dir: certsDir };
  const rec = newRecord(k3d, "/project");
  rec.resources = {
    cluster: {
      config_file: "",
      context: `k3d-${name}`,
      created: true,
      created_at: "2025-01-01T00:00:00Z",
    },
    registry: {
      name: "registry.localhost",
      container: "k3d-registry.localhost",
      host: "127.0.0.1",
      port: 5000,
      created: true,
    },
    tls: {
      ca_cert: `${certsDir}/firestream-ca.crt`,
      cert: `${certsDir}/${name}/tls.crt`,
      key: `${certsDir}/${name}/tls.key`,
      fingerprint: "ab",
      not_after: "2026-01-01T00:00:00Z",
      subject: "CN=*.firestream.local",
      sans: ["firestream.local"],
      secret: { name: "firestream-tls", namespaces: ["default", "kube-system"] },
    },
    routes: [
      { cidr: "10.42.0.0/16", via: "172.18.0.3" },
      { cidr: "10.43.0.0/16", via: "172.18.0.3", replaced_via: "192.168.1.1" },
    ],
    dns: {
      mode: "resolved",
      interface: "br-1",
      server: "10.43.0.10",
      domains: ["~cluster.local"],
    },
    hosts_block: { file: "/etc/hosts", lines: ["127.0.0.1\tk3d-registry.localhost"] },
    port_forwards: { pid_file: "/project/.firestream/port-forward.pid", offset: 10000 },
  };
  return rec;
}

function state(...records: ClusterRecord[]): StateDocument {
  return {
    version: 1,
    lineage: "l",
    serial: 1,
    last_modified: "",
    last_modified_by: "",
    clusters: Object.fromEntries(records.map((r) => [r.name, r])),
  };
}

const node = (name: string, role: string) => ({ name, role }) as K3dNode;

Deno.test("delete plan: every recorded resource is destroyed, its recorded values going to null", () => {
  const rec = record("c1");
  const live: K3dCluster = {
    name: "c1",
    network: { name: "k3d-c1" },
    nodes: [
      node("k3d-c1-serverlb", "loadbalancer"),
      node("k3d-c1-agent-1", "agent"),
      node("k3d-c1-server-0", "server"),
      node("k3d-c1-agent-0", "agent"),
    ],
  };
  // another cluster shares the CA (not the registry): purging removes this cluster's certificates only
  const other = record("c2");
  delete other.resources.registry;
  const plan = deletePlan(rec, state(rec, other), { purgeCerts: true }, live, keepRegistry);
  assertEquals(plan.summary, { create: 0, update: 1, replace: 0, delete: 7 });
  const change = (a: string) => plan.changes.find((c) => c.address === a)!;
  assertEquals(plan.changes.map((c) => [c.address, c.action]), [
    ["cluster.c1", "delete"],
    ["cluster.c1.registry", "delete"],
    ["cluster.c1.tls-secret", "delete"],
    ["cluster.c1.routes", "update"],
    ["cluster.c1.dns", "delete"],
    ["cluster.c1.hosts", "delete"],
    ["cluster.c1.port-forward", "delete"],
    ["cluster.c1.tls-cert", "delete"],
  ]);
  assertEquals(change("cluster.c1").destructive, true);
  assertEquals(change("cluster.c1").diffs, [
    {
      key: "containers",
      from: ["k3d-c1-server-0", "k3d-c1-agent-0", "k3d-c1-agent-1", "k3d-c1-serverlb"],
      to: null,
    },
    { key: "kube context", from: "k3d-c1", to: null },
  ]);
  assertEquals(change("cluster.c1.registry").diffs, [
    { key: "container", from: "k3d-registry.localhost", to: null },
    { key: "address", from: "127.0.0.1:5000", to: null },
  ]);
  assertEquals(change("cluster.c1.tls-secret").diffs.map((d) => d.key), [
    "secret default/firestream-tls",
    "secret kube-system/firestream-tls",
  ]);
  // a replaced route gets its previous gateway back
  assertEquals(change("cluster.c1.routes").diffs, [
    { key: "route 10.42.0.0/16", from: "172.18.0.3", to: null },
    { key: "route 10.43.0.0/16", from: "172.18.0.3", to: "192.168.1.1" },
  ]);
  assertEquals(change("cluster.c1.dns").diffs, [
    { key: "dns resolvectl br-1", from: "10.43.0.10 for ~cluster.local", to: null },
  ]);
  assertEquals(change("cluster.c1.dns").note, "resolvectl revert br-1");
  assertEquals(change("cluster.c1.hosts").diffs, [
    { key: "hosts block in /etc/hosts", from: ["127.0.0.1 k3d-registry.localhost"], to: null },
  ]);
  assertEquals(change("cluster.c1.port-forward").diffs, [
    { key: "port-forward supervisor", from: "port offset 10000", to: null },
  ]);
  assertEquals(change("cluster.c1.tls-cert").diffs, [
    { key: "certificates", from: "/certs/c1", to: null },
  ]);
  assertEquals(
    change("cluster.c1.tls-cert").note,
    "the CA /certs/firestream-ca.crt is kept: cluster c2 still uses it",
  );
  // alone, the CA goes too
  const alone = deletePlan(rec, state(rec), { purgeCerts: true }, live, keepRegistry);
  assertEquals(alone.changes.at(-1)!.diffs, [
    { key: "certificates", from: "/certs/c1", to: null },
    { key: "CA", from: "/certs/firestream-ca.crt", to: null },
  ]);
});

Deno.test("delete plan: what is kept is said, not counted; a cluster gone from k3d only drops its record", () => {
  const rec = record("c1");
  const plan = deletePlan(rec, state(rec, record("c2")), {}, undefined, keepRegistry);
  const change = (a: string) => plan.changes.find((c) => c.address === a)!;
  assertEquals(change("cluster.c1"), {
    address: "cluster.c1",
    cluster: "c1",
    action: "delete",
    cause: "drift",
    destructive: true,
    diffs: [{ key: "kube context", from: "k3d-c1", to: null }],
    note: "already gone from k3d; its record is dropped",
  });
  assertEquals(
    [change("cluster.c1.registry").action, change("cluster.c1.registry").note],
    ["no-op", "k3d-registry.localhost (127.0.0.1:5000) kept: cluster c2 still uses it"],
  );
  assertEquals(
    [change("cluster.c1.tls-cert").action, change("cluster.c1.tls-cert").note],
    ["no-op", "certificates in /certs/c1 kept (--purge-certs removes them)"],
  );
  assertEquals(plan.summary, { create: 0, update: 1, replace: 0, delete: 5 });
});

Deno.test("delete plan: a registry and CA another folder's cluster uses are kept, naming that folder", () => {
  const rec = record("c1");
  const theirs = record("b");
  const machine = [{
    mark: {
      cluster: "b",
      lineage: "other",
      state_dir: "/home/me/b/.firestream",
      project_dir: "/home/me/b",
      since: "",
    },
    record: theirs,
  }];
  const plan = deletePlan(rec, state(rec), { purgeCerts: true }, undefined, keepRegistry, machine);
  const change = (a: string) => plan.changes.find((c) => c.address === a)!;
  assertEquals(
    change("cluster.c1.registry").note,
    "k3d-registry.localhost (127.0.0.1:5000) kept: also used by /home/me/b (cluster b)",
  );
  assertEquals(change("cluster.c1.tls-cert").diffs, [
    { key: "certificates", from: "/certs/c1", to: null },
  ]);
  assertEquals(
    change("cluster.c1.tls-cert").note,
    "the CA /certs/firestream-ca.crt is kept: also used by /home/me/b (cluster b)",
  );
  // the mark of this very state is no other user
  const own = [{ ...machine[0], mark: { ...machine[0].mark, lineage: "l" } }];
  const alone = deletePlan(rec, state(rec), { purgeCerts: true }, undefined, keepRegistry, own);
  assertEquals(alone.changes.find((c) => c.address === "cluster.c1.registry")!.action, "delete");
});
