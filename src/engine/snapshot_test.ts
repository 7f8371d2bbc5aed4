import { assertEquals, assertRejects } from "../../test/assert.ts";
import { LiveCache, type Read } from "./snapshot.ts";

type Ctx = Record<string, never>;

function counted(key: string, value: () => Promise<number>) {
  const read = { key, calls: 0, fetch: () => (read.calls++, value()) };
  return read as Read<Ctx, number> & { calls: number };
}

Deno.test("snapshot: reads start together, each once, and are kept until cleared", async () => {
  const live = new LiveCache<Ctx>();
  let inFlight = 0;
  let most = 0;
  const slow = (n: number) => async () => {
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, 20));
    inFlight--;
    return n;
  };
  const a = counted("a", slow(1));
  const b = counted("b", slow(2));
  await live.refresh({}, [a, b, a]);
  assertEquals([live.now(a), live.now(b), a.calls, b.calls, most], [1, 2, 1, 1, 2]);
  await live.refresh({}, [a, b]);
  assertEquals([a.calls, b.calls], [1, 1]);
  live.clear();
  await live.refresh({}, [a]);
  assertEquals(a.calls, 2);
});

Deno.test("snapshot: a failed read throws its own error when used; a read never refreshed is an internal error", async () => {
  const live = new LiveCache<Ctx>();
  const bad = counted("bad", () => Promise.reject(new Error("docker went away")));
  await live.refresh({}, [bad]);
  await assertRejects(() => Promise.resolve().then(() => live.now(bad)), Error, "docker went away");
  const never = counted("never", () => Promise.resolve(1));
  await assertRejects(
    () => Promise.resolve().then(() => live.now(never)),
    Error,
    "before the refresh",
  );
});

Deno.test("snapshot: a read forgotten while it was being made (another step changed the machine) is made again", async () => {
  const live = new LiveCache<Ctx>();
  let n = 0;
  const a = counted("a", async () => {
    const mine = ++n;
    await new Promise((r) => setTimeout(r, 20));
    return mine;
  });
  const refreshing = live.refresh({}, [a]);
  await new Promise((r) => setTimeout(r, 5));
  live.clear();
  await refreshing;
  assertEquals([live.now(a), a.calls], [2, 2]);
});

Deno.test("snapshot: a step keeps the answer of its refresh when another step changes the machine meanwhile; the next refresh makes it again", async () => {
  const live = new LiveCache<Ctx>();
  let n = 0;
  const a = counted("a", () => Promise.resolve(++n));
  await live.refresh({}, [a]);
  // another step applied: the machine changed
  live.clear();
  assertEquals([live.now(a), a.calls], [1, 1]);
  await live.refresh({}, [a]);
  assertEquals([live.now(a), a.calls], [2, 2]);
  await live.refresh({}, [a]);
  assertEquals(a.calls, 2);
});
