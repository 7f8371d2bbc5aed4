/**
 * The simulator refuses what it does not model: every option the real k3d, docker and kubectl
 * accept (reference/cli-flags.json) that `modelled.ts` does not list ends the call with exit 98
 * naming it, and so does every k3d config key it does not model.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { cliFlags, parseArgs, SimExit } from "./core.ts";
import { withSimHost } from "./harness.ts";
import { MODELLED, refuseUnmodelled, refuseUnmodelledConfig } from "./modelled.ts";

/** Where each tool's global options are tried. */
const GLOBAL_AT: Record<string, string> = { k3d: "cluster list", docker: "ps", kubectl: "get" };

function refusal(fn: () => void): SimExit | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SimExit) return err;
    throw err;
  }
  return undefined;
}

Deno.test("sim: every option the real tools accept and the simulator does not model fails with exit 98 naming it", () => {
  let refused = 0;
  let modelled = 0;
  for (const tool of ["k3d", "docker", "kubectl"] as const) {
    for (const [path, specs] of Object.entries(cliFlags()[tool])) {
      const at = path || GLOBAL_AT[tool];
      const known = new Set([...(MODELLED[tool][""] ?? []), ...(MODELLED[tool][at] ?? [])]);
      for (const [long, spec] of Object.entries(specs)) {
        const argv = [...at.split(" "), long, ...(spec.value ? ["1"] : [])];
        const parsed = parseArgs(tool, argv);
        assertEquals(parsed.path, at, argv.join(" "));
        const err = refusal(() => refuseUnmodelled(tool, parsed));
        if (known.has(long.slice(2))) {
          assertEquals(err, undefined, `${tool} ${at} ${long} is modelled`);
          modelled++;
          continue;
        }
        assertEquals(err?.code, 98, `${tool} ${at} ${long}`);
        assertMatch(err!.stderr, `${at} ${long} is accepted by the real ${tool} but not simulated`);
        refused++;
      }
    }
  }
  // every modelled option is one the real tool accepts there
  for (const [tool, paths] of Object.entries(MODELLED)) {
    for (const [path, names] of Object.entries(paths)) {
      const specs = { ...cliFlags()[tool][""], ...cliFlags()[tool][path] };
      for (const n of names) assertEquals(`--${n}` in specs, true, `${tool} ${path} --${n}`);
    }
  }
  assertEquals(refused > 500 && modelled > 50, true, `${refused} refused, ${modelled} modelled`);
});

Deno.test("sim: k3d config keys it does not model fail with exit 98 naming the key", () => {
  const config = (extra: Record<string, unknown>) => ({
    apiVersion: "k3d.io/v1alpha5",
    kind: "Simple",
    metadata: { name: "x" },
    servers: 1,
    ports: [{ port: "8080:80", nodeFilters: ["loadbalancer"] }],
    ...extra,
  });
  assertEquals(refusal(() => refuseUnmodelledConfig(config({}), "k.yaml")), undefined);
  const unmodelled: [Record<string, unknown>, string][] = [
    [{ subnet: "172.28.0.0/16" }, "subnet"],
    [{ network: "shared" }, "network"],
    [{ token: "secret" }, "token"],
    [{ volumes: [{ volume: "/a:/b" }] }, "volumes[].volume"],
    [{ options: { k3d: { disableLoadbalancer: true } } }, "options.k3d.disableLoadbalancer"],
    [
      { registries: { create: { name: "r", proxy: { remoteURL: "x" } } } },
      "registries.create.proxy.remoteURL",
    ],
    [{ registries: { config: "mirrors: {}" } }, "registries.config"],
  ];
  for (const [extra, key] of unmodelled) {
    const err = refusal(() => refuseUnmodelledConfig(config(extra), "k.yaml"));
    assertEquals(err?.code, 98, key);
    assertMatch(err!.stderr, `k3d config key ${key} (k.yaml) is not simulated`);
  }
});

Deno.test("sim: unmodelled options end the simulated call itself, changing nothing", async () => {
  await withSimHost({}, async (h) => {
    for (
      const argv of [
        ["cluster", "create", "a", "--no-lb"],
        ["cluster", "create", "a", "--subnet", "172.28.0.0/16"],
        ["cluster", "create", "a", "--network", "shared"],
        ["cluster", "create", "a", "--token", "t"],
        ["cluster", "create", "a", "--wait=false"],
      ]
    ) {
      const r = await h.tool("k3d", argv);
      assertEquals(r.code, 98, argv.join(" "));
      assertMatch(r.stderr, argv[3].split("=")[0]);
    }
    const file = `${h.projectDir}/k.yaml`;
    Deno.writeTextFileSync(
      file,
      "apiVersion: k3d.io/v1alpha5\nkind: Simple\nmetadata:\n  name: a\nsubnet: 172.28.0.0/16\n",
    );
    const cfg = await h.tool("k3d", ["cluster", "create", "--config", file]);
    assertEquals(cfg.code, 98);
    assertMatch(cfg.stderr, "k3d config key subnet");
    const d = await h.tool("docker", ["ps", "--no-trunc"]);
    assertEquals([d.code, /--no-trunc/.test(d.stderr)], [98, true]);
    const k = await h.tool("kubectl", ["get", "pods", "--sort-by", ".metadata.name"]);
    assertEquals([k.code, /--sort-by/.test(k.stderr)], [98, true]);
    assertEquals(Object.keys(h.world().containers), []);
    assertEquals([Object.keys(h.world().clusters), Object.keys(h.world().networks)], [[], [
      "bridge",
    ]]);
  });
});
