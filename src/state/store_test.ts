import { assertEquals, assertMatch, assertOk, assertRejects } from "../../test/assert.ts";
import { FirestreamError } from "../errors.ts";
import { emptyState } from "./document.ts";
import { MAX_BACKUPS, StateStore } from "./store.ts";

const k3d = { name: "a" } as never;

Deno.test("state: first write sets serial 1 and keeps lineage; later writes bump serial and back up", async () => {
  const dir = await Deno.makeTempDir();
  const store = new StateStore(dir, { writer: "test" });
  const first = await store.write(emptyState());
  assertEquals(first.serial, 1);
  assertEquals(first.last_modified_by, "test");
  // the next command backs up the version it replaces
  const second = await new StateStore(dir, { writer: "test" }).write({
    ...first,
    clusters: {
      a: { name: "a", cluster_type: "k3d", managed: true, k3d_config: k3d, resources: {} },
    },
  });
  assertEquals(second.serial, 2);
  assertEquals(second.lineage, first.lineage);
  const backups = await store.backups();
  assertEquals(backups.map((b) => b.serial), [1]);
});

Deno.test("state: a crash between write and rename leaves the old file intact and no temp file", async () => {
  const dir = await Deno.makeTempDir();
  const good = await new StateStore(dir).write(emptyState());
  const before = await Deno.readTextFile(`${dir}/state.json`);
  const crashing = new StateStore(dir, {
    beforeRename: () => {
      throw new Error("simulated crash before rename");
    },
  });
  await assertRejects(() => crashing.write({ ...good, clusters: {} }), Error, "simulated crash");
  assertEquals(await Deno.readTextFile(`${dir}/state.json`), before);
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.includes(".tmp-"));
  assertEquals(names, []);
  assertEquals((await new StateStore(dir).read()).serial, 1);
});

Deno.test("state: a corrupt file is refused and never overwritten", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/state.json`, '{"version": 1, "lineage": "x", "ser');
  const store = new StateStore(dir);
  const err = await assertRejects(() => store.read(), FirestreamError, "is corrupt");
  assertMatch((err as FirestreamError).hint ?? "", "state restore");
  await assertRejects(() => store.write(emptyState()), FirestreamError, "is corrupt");
  assertEquals(await Deno.readTextFile(`${dir}/state.json`), '{"version": 1, "lineage": "x", "ser');
});

Deno.test("state: a newer version is refused", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/state.json`,
    JSON.stringify({ ...emptyState(), lineage: "l", version: 99, serial: 3 }),
  );
  await assertRejects(() => new StateStore(dir).read(), FirestreamError, "version 99");
});

Deno.test("state: backups are bounded and restore brings one back as a new serial", async () => {
  const dir = await Deno.makeTempDir();
  const store = new StateStore(dir);
  let doc = await store.write(emptyState());
  for (let i = 0; i < MAX_BACKUPS + 5; i++) {
    // one command each: a command backs up the version it started from
    doc = await new StateStore(dir).write({
      ...doc,
      clusters: {
        [`c${i}`]: {
          name: `c${i}`,
          cluster_type: "k3d",
          managed: true,
          k3d_config: k3d,
          resources: {},
        },
      },
    });
  }
  const backups = await store.backups();
  assertEquals(backups.length, MAX_BACKUPS);
  const target = backups[3];
  const restored = await store.restore(target.serial);
  assertEquals(Object.keys(restored.clusters), target.clusters);
  assertOk(restored.serial > doc.serial);
  assertEquals(restored.lineage, doc.lineage);
  await assertRejects(() => store.restore(99999), FirestreamError, "no backup with serial");
});

Deno.test("state: a command's many writes keep one backup, of the version it started from, naming the command that wrote it", async () => {
  const dir = await Deno.makeTempDir();
  const before = await new StateStore(dir, { command: "firestream init-ish" }).write(emptyState());
  const store = new StateStore(dir, { command: "firestream cluster create" });
  let doc = before;
  for (let i = 0; i < 8; i++) doc = await store.write(doc);
  assertEquals(doc.last_command, "firestream cluster create");
  const backups = await store.backups();
  assertEquals(backups.map((b) => [b.serial, b.command]), [[1, "firestream init-ish"]]);
});

Deno.test("state: a write from a stale reader is refused", async () => {
  const dir = await Deno.makeTempDir();
  const store = new StateStore(dir);
  const a = await store.write(emptyState());
  await store.write(a);
  await assertRejects(() => store.write(a), FirestreamError, "newer than");
});
