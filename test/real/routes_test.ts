/** Routes added, replaced, restored and removed for real with `ip`, in a network namespace the test makes. */
import { assertEquals, assertMatch } from "../assert.ts";
import { findProgram, requireReal, run } from "./require.ts";

const ip = findProgram("ip");
const root = Deno.uid() === 0;
let canNetns = false;
if (ip && root && Deno.build.os === "linux") {
  const probe = `fs-probe-${Deno.pid}`;
  canNetns = (await run(ip, ["netns", "add", probe])).code === 0;
  if (canNetns) await run(ip, ["netns", "del", probe]);
}
const available = requireReal(
  "ip netns (iproute2, as root)",
  canNetns,
  ip ? (root ? "`ip netns add` failed" : "needs root") : "install iproute2",
);

async function inNs(ns: string, args: string[]) {
  return await run(ip!, ["netns", "exec", ns, ...args]);
}

Deno.test({
  name: "routes: real ip in a test namespace: add, refuse, force-replace, restore, remove",
  ignore: !available,
}, async () => {
  const ns = `fs-routes-${Deno.pid}`;
  assertEquals((await run(ip!, ["netns", "add", ns])).code, 0);
  try {
    for (
      const cmd of [
        ["ip", "link", "set", "lo", "up"],
        // a bridge stands in for the cluster's Docker bridge
        ["ip", "link", "add", "br-fscluster", "type", "bridge"],
        ["ip", "addr", "add", "172.31.0.1/16", "dev", "br-fscluster"],
        ["ip", "link", "set", "br-fscluster", "up"],
        ["ip", "route", "add", "10.43.0.0/16", "via", "172.31.0.9"],
      ]
    ) {
      const r = await inNs(ns, cmd);
      assertEquals(r.code, 0, `${cmd.join(" ")}: ${r.stderr}`);
    }
    const helper = new URL("./routes_helper.ts", import.meta.url).pathname;
    const step = async (ops: unknown[]) => {
      const r = await inNs(ns, [
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        helper,
        JSON.stringify(ops),
      ]);
      assertEquals(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    const table = async () => {
      const r = await inNs(ns, ["ip", "-j", "route", "show"]);
      return (JSON.parse(r.stdout) as { dst: string; gateway?: string }[]).filter((x) =>
        x.dst.startsWith("10.4")
      ).map((x) => `${x.dst} via ${x.gateway}`).sort();
    };

    const [added, refused] = await step([
      { op: "set", cidr: "10.42.0.0/16", via: "172.31.0.2" },
      { op: "set", cidr: "10.43.0.0/16", via: "172.31.0.2" },
    ]);
    assertEquals(added.ok, { cidr: "10.42.0.0/16", via: "172.31.0.2" });
    assertMatch(refused.error, "a route for 10.43.0.0/16 already exists via 172.31.0.9");
    assertEquals(await table(), ["10.42.0.0/16 via 172.31.0.2", "10.43.0.0/16 via 172.31.0.9"]);

    const [forced, again] = await step([
      { op: "set", cidr: "10.43.0.0/16", via: "172.31.0.2", force: true },
      { op: "set", cidr: "10.42.0.0/16", via: "172.31.0.2" },
    ]);
    assertEquals(forced.ok, {
      cidr: "10.43.0.0/16",
      via: "172.31.0.2",
      replaced_via: "172.31.0.9",
    });
    assertEquals(again.ok, { cidr: "10.42.0.0/16", via: "172.31.0.2" }, "already there: unchanged");
    assertEquals(await table(), ["10.42.0.0/16 via 172.31.0.2", "10.43.0.0/16 via 172.31.0.2"]);

    await step([{ op: "unset", route: forced.ok }, { op: "unset", route: added.ok }]);
    assertEquals(
      await table(),
      ["10.43.0.0/16 via 172.31.0.9"],
      "the replaced route is back, ours is gone",
    );
  } finally {
    await run(ip!, ["netns", "del", ns]);
  }
});
