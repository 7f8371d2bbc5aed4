import { assertEquals, assertMatch, assertOk, assertRejects } from "../../test/assert.ts";
import { FirestreamError } from "../errors.ts";
import { acquireLock, forceUnlock, isHolderDead, LOCK_FILE } from "./lock.ts";

Deno.test("lock: two concurrent writers, one wins and the other is told who holds it", async () => {
  const dir = await Deno.makeTempDir();
  const results = await Promise.allSettled([
    acquireLock(dir, "firestream apply"),
    acquireLock(dir, "firestream apply"),
  ]);
  // same process: the second sees a live holder (this pid)
  const won = results.filter((r) => r.status === "fulfilled");
  const lost = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
  assertEquals(won.length, 1);
  assertEquals(lost.length, 1);
  assertMatch(lost[0].reason.message, `state is locked by pid ${Deno.pid}`);
  assertMatch(lost[0].reason.message, "firestream apply");
  await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
  const again = await acquireLock(dir, "x");
  await again.release();
});

Deno.test("lock: a writer in another process holds it against us", async () => {
  const dir = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { acquireLock } from "${new URL("./lock.ts", import.meta.url)}";
       await acquireLock(${JSON.stringify(dir)}, "firestream cluster create");
       console.log("held"); await new Promise((r) => setTimeout(r, 3_600_000));`,
    ],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  assertMatch(new TextDecoder().decode(value), "held");
  const err = await assertRejects(() => acquireLock(dir, "firestream apply"), FirestreamError);
  assertMatch(err.message, `pid ${child.pid}`);
  assertMatch(err.message, "firestream cluster create");
  assertMatch((err as FirestreamError).hint ?? "", "state unlock --force");
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel();
  // the holder is dead now: the lock is taken over and says from whom
  const lock = await acquireLock(dir, "firestream apply");
  assertEquals(lock.tookOverFrom?.pid, child.pid);
  await lock.release();
});

Deno.test("lock: dead-holder detection by pid and by reused pid", () => {
  const host = Deno.hostname();
  const base = { user: "u", host, command: "c", time: "t" };
  assertEquals(isHolderDead({ ...base, pid: Deno.pid }), false);
  assertEquals(isHolderDead({ ...base, pid: 2 ** 22 + 12345 }), true);
  assertEquals(isHolderDead({ ...base, pid: 2 ** 22 + 12345, host: "other-host" }), false);
  if (Deno.build.os === "linux") {
    assertEquals(isHolderDead({ ...base, pid: Deno.pid, start: 1 }), true);
  }
});

Deno.test("lock: force unlock removes any holder", async () => {
  const dir = await Deno.makeTempDir();
  await acquireLock(dir, "stuck");
  const removed = await forceUnlock(dir);
  assertEquals(removed?.command, "stuck");
  assertOk(!(await Deno.stat(`${dir}/${LOCK_FILE}`).catch(() => false)));
  assertEquals(await forceUnlock(dir), undefined);
});
