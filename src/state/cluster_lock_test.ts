import { assertEquals, assertMatch, assertRejects } from "../../test/assert.ts";
import { FirestreamError } from "../errors.ts";
import { acquireHostLocks, runtimeDir } from "./cluster_lock.ts";

Deno.test("host locks: a second holder of a cluster or registry name is refused; a refused run holds nothing", async () => {
  const dir = await Deno.makeTempDir();
  // the directory is passed, never set in the environment parallel test modules share
  const root = runtimeDir(dir);
  try {
    assertEquals(root, `${dir}/firestream`);
    const a = await acquireHostLocks(["cluster-dev", "registry-registry.localhost"], {
      command: "apply",
      stateDir: "/a/.firestream",
    }, root);
    const err = await assertRejects(
      () =>
        acquireHostLocks(["cluster-dev"], { command: "apply", stateDir: "/b/.firestream" }, root),
      FirestreamError,
      "cluster dev is being changed by another firestream run: pid",
    );
    assertMatch(err.message, "(state /a/.firestream)");
    await assertRejects(
      () =>
        acquireHostLocks(["cluster-other", "registry-registry.localhost"], {
          command: "apply",
          stateDir: "/b/.firestream",
        }, root),
      FirestreamError,
      "registry registry.localhost is being changed",
    );
    await a.release();
    // the refused run took "cluster-other" first and let it go again
    const b = await acquireHostLocks(["cluster-other", "cluster-dev"], {
      command: "apply",
      stateDir: "/b/.firestream",
    }, root);
    await b.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
