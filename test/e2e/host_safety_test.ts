/** Networks the host already uses are refused at preflight: exit 1, one line naming the key, nothing changed. */
import { assertEquals, assertMatch } from "../assert.ts";
import { runProgram } from "../run.ts";
import { type CliResult, type SimHost, testConfig, withSimHost } from "../sim/harness.ts";

/** The real iproute2 (the simulated one is first on the CLI's PATH). */
const IP = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
}) ?? "ip";
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A test config with `line` in its `[cluster.k3d.network]` table. */
function withNetwork(line: string, options: Parameters<typeof testConfig>[0] = {}): string {
  return testConfig(options).replace("[cluster.k3d.network]\n", `[cluster.k3d.network]\n${line}\n`);
}

function assertRefused(h: SimHost, r: CliResult, expected: string, before: string | undefined) {
  assertEquals(r.code, 1, r.stdout + r.stderr);
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("error"));
  assertEquals(errors.length, 1, r.stderr);
  assertMatch(errors[0], expected);
  assertEquals(h.mutatingCalls(), []);
  assertEquals(h.stateBytes(), before, "state changed");
}

Deno.test("preflight: a pod network overlapping a Docker network is refused before any change", async () => {
  await withSimHost({
    config: withNetwork("pod_cidr = '172.17.0.0/16'"),
  }, async (h) => {
    const r = await h.run(["cluster", "create", "--yes"]);
    assertRefused(
      h,
      r,
      '`cluster.k3d.network.pod_cidr` = "172.17.0.0/16" overlaps Docker network bridge (172.17.0.0/16)',
      undefined,
    );
    assertEquals(h.world().containers, {});
  });
});

Deno.test("preflight: a network of an existing cluster is refused for a second cluster, which changes nothing", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const before = h.stateBytes();
    const subnet = h.world().networks["k3d-firestream-local"].subnet;
    h.writeConfig(withNetwork(`service_cidr = '${subnet}'`, { name: "second", registry: false }));
    h.clearCalls();
    const r = await h.run(["cluster", "create", "--yes"]);
    assertRefused(
      h,
      r,
      `\`cluster.k3d.network.service_cidr\` = "${subnet}" overlaps Docker network k3d-firestream-local`,
      before,
    );
  });
});

Deno.test("plan and preflight: a service network holding an address of a host interface is refused", async () => {
  await withSimHost({
    config: withNetwork("service_cidr = '10.99.0.0/16'"),
  }, async (h) => {
    for (const args of [["plan"], ["cluster", "create", "--yes"]]) {
      // the CLI runs in a network namespace of its own where lo also has 10.99.0.1/16
      const r = await runProgram("unshare", [
        "-n",
        "--",
        "sh",
        "-c",
        `${IP} link set lo up && ${IP} addr add 10.99.0.1/16 dev lo && exec "$0" "$@"`,
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        MAIN,
        ...args,
      ], { cwd: h.projectDir, env: h.env, clearEnv: true });
      assertRefused(
        h,
        r,
        '`cluster.k3d.network.service_cidr` = "10.99.0.0/16" overlaps interface lo (10.99.0.1/16)',
        undefined,
      );
    }
  });
});

Deno.test("a state file with the wrong structure is named as such; nothing runs, the file stays", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const path = `${h.projectDir}/.firestream/state.json`;
    const good = JSON.parse(h.stateBytes()!);
    const broken = JSON.stringify({ ...good, clusters: Object.values(good.clusters) }, null, 2);
    Deno.writeTextFileSync(path, broken);
    h.clearCalls();
    for (const args of [["cluster", "create", "--yes"], ["plan"], ["cluster", "delete", "--yes"]]) {
      const r = await h.run(args);
      assertEquals(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assertMatch(r.stderr, `state file ${path} is corrupt: \`clusters\` must be an object`);
      assertEquals(r.stderr.includes("does not manage it"), false, r.stderr);
    }
    assertEquals(h.mutatingCalls(), []);
    assertEquals(h.stateBytes(), broken);
  });
});
