/**
 * The lifecycle against real k3d, Docker and kubectl. Opt-in: FIRESTREAM_LIVE=1 on a machine that can
 * pull rancher/k3s (it creates and deletes a cluster named fs-live-<random>).
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { run } from "../real/require.ts";

const live = Deno.env.get("FIRESTREAM_LIVE") === "1";
if (!live) console.error("SKIPPED (opt-in): live k3d tests run only with FIRESTREAM_LIVE=1");

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test({
  name: "live: create, converge, add an agent in place, delete, against real k3d",
  ignore: !live,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "firestream-live-" });
  const name = `fs-live-${crypto.randomUUID().slice(0, 6)}`;
  await Deno.writeTextFile(
    `${dir}/firestream.toml`,
    `[cluster.k3d]
name = "${name}"
api_port = ${freePort()}
http_port = ${freePort()}
https_port = ${freePort()}
servers = 1
agents = 0
[cluster.k3d.registry]
name = "${name}-registry.localhost"
port = ${freePort()}
[cluster.k3d.tls]
certs_dir = "${dir}/certs"
[cluster.k3d.network]
configure_routes = false
configure_dns = false
patch_etc_hosts = false
[cluster.k3d.dev_mode]
port_forward_all = false
`,
  );
  const fs = (...args: string[]) =>
    run(Deno.execPath(), [
      "run",
      "-A",
      "--quiet",
      `${ROOT}/main.ts`,
      "-c",
      `${dir}/firestream.toml`,
      ...args,
    ]);
  try {
    const created = await fs("cluster", "create", "--yes");
    assertEquals(created.code, 0, created.stderr);
    const info = JSON.parse((await fs("cluster", "info", "--json")).stdout);
    assertEquals([info.status, info.servers.running, info.registry.healthy], ["running", 1, true]);
    assertEquals((await fs("plan", "--detailed-exitcode")).code, 0);
    const toml = await Deno.readTextFile(`${dir}/firestream.toml`);
    await Deno.writeTextFile(`${dir}/firestream.toml`, toml.replace("agents = 0", "agents = 1"));
    const grown = await fs("apply", "--yes");
    assertEquals(grown.code, 0, grown.stderr);
    assertEquals(JSON.parse((await fs("cluster", "info", "--json")).stdout).agents.running, 1);
  } finally {
    const deleted = await fs("cluster", "delete", "--yes", "--purge-certs");
    assertEquals(deleted.code, 0, deleted.stderr);
    const list = await run("k3d", ["cluster", "list", "-o", "json"]);
    assertEquals(JSON.parse(list.stdout).some((c: { name: string }) => c.name === name), false);
    assertMatch(deleted.stdout, "deleted");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
