import { assertEquals } from "../../test/assert.ts";
import { configDefaults } from "../config/schema.ts";
import type { ClusterRecord, StateDocument } from "./document.ts";
import {
  claimCluster,
  describeUsers,
  machineClusters,
  managedElsewhere,
  readMark,
  releaseCluster,
  usersOf,
  useStateHome,
} from "./owners.ts";

function record(name: string, registry = "k3d-registry.localhost"): ClusterRecord {
  return {
    name,
    cluster_type: "k3d",
    managed: true,
    k3d_config: { ...configDefaults().cluster.k3d, name },
    resources: {
      registry: { name: "r", container: registry, host: "127.0.0.1", port: 5000, created: true },
    },
  };
}

function doc(lineage: string, ...records: ClusterRecord[]): StateDocument {
  return {
    version: 1,
    lineage,
    serial: 1,
    last_modified: "",
    last_modified_by: "",
    clusters: Object.fromEntries(records.map((r) => [r.name, r])),
  };
}

/** A machine in a temp dir: its own state home for the marks, and two project folders. */
async function withMachine(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir();
  useStateHome(`${root}/state`);
  try {
    await fn(root);
  } finally {
    useStateHome(undefined);
    await Deno.remove(root, { recursive: true });
  }
}

function writeState(dir: string, state: StateDocument): void {
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(`${dir}/state.json`, JSON.stringify(state));
}

Deno.test("owners: a mark names its state; another state's valid mark stays unless taken over", async () => {
  await withMachine(async (root) => {
    const a = { lineage: "la", state_dir: `${root}/a/.firestream`, project_dir: `${root}/a` };
    const b = { lineage: "lb", state_dir: `${root}/b/.firestream`, project_dir: `${root}/b` };
    writeState(a.state_dir, doc("la", record("dev")));
    writeState(b.state_dir, doc("lb", record("dev")));
    assertEquals(await claimCluster("dev", a), undefined);
    const refused = await claimCluster("dev", b);
    assertEquals(refused?.mark.project_dir, a.project_dir, "the other owner is returned");
    assertEquals((await readMark("dev"))?.lineage, "la");
    const machine = await machineClusters();
    assertEquals(managedElsewhere(machine, "dev", "lb")?.mark.state_dir, a.state_dir);
    assertEquals(managedElsewhere(machine, "dev", "la"), undefined, "not elsewhere for itself");
    // taken over: b's mark, naming where it came from; a may not remove it
    assertEquals(await claimCluster("dev", b, { takeOver: true }), undefined);
    assertEquals((await readMark("dev"))?.taken_from, a.project_dir);
    await releaseCluster("dev", "la");
    assertEquals((await readMark("dev"))?.lineage, "lb");
    await releaseCluster("dev", "lb");
    assertEquals(await readMark("dev"), undefined);
  });
});

Deno.test("owners: a mark whose state is gone, has another lineage or no record is stale and replaced", async () => {
  await withMachine(async (root) => {
    const a = { lineage: "la", state_dir: `${root}/a/.firestream`, project_dir: `${root}/a` };
    const b = { lineage: "lb", state_dir: `${root}/b/.firestream`, project_dir: `${root}/b` };
    writeState(a.state_dir, doc("la", record("dev")));
    await claimCluster("dev", a);
    for (
      const change of [
        () => writeState(a.state_dir, doc("la")), // no record of it
        () => writeState(a.state_dir, doc("new", record("dev"))), // another state in the folder
        () => Deno.removeSync(a.state_dir, { recursive: true }), // gone
      ]
    ) {
      change();
      assertEquals(await machineClusters(), []);
      writeState(a.state_dir, doc("la", record("dev")));
    }
    Deno.removeSync(a.state_dir, { recursive: true });
    assertEquals(await claimCluster("dev", b), undefined, "a stale mark is replaced");
    assertEquals((await readMark("dev"))?.lineage, "lb");
  });
});

Deno.test("owners: users of a shared thing are this state's other clusters and other states' clusters, each said once", () => {
  const mine = doc("la", record("a1"), record("a2"), record("a3", "k3d-other"));
  const machine = [
    { mark: mark("a1", "la", "/a"), record: record("a1") },
    { mark: mark("b1", "lb", "/b"), record: record("b1") },
    { mark: mark("c1", "lc", "/c"), record: record("c1", "k3d-other") },
  ];
  const users = usersOf(
    mine,
    machine,
    "a1",
    (r) => r.resources.registry?.container === "k3d-registry.localhost",
  );
  assertEquals(users.map((u) => [u.cluster, u.folder]), [["a2", undefined], ["b1", "/b"]]);
  assertEquals(describeUsers(users), "cluster a2 still uses it; also used by /b (cluster b1)");
});

function mark(cluster: string, lineage: string, project: string) {
  return { cluster, lineage, state_dir: `${project}/.firestream`, project_dir: project, since: "" };
}
