/**
 * The simulator refuses what it does not model: every option the real k3d, docker and kubectl
 * accept (reference/cli-flags.json) that `modelled.ts` does not list ends the call with exit 98
 * naming it, and so does every k3d config key it does not model.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { cliFlags, parseArgs, SimExit } from "./core.ts";
import { withSimHost } from "./harness.ts";
import { MODELLED, refuseUnmodelled, refuseUnmodelledConfig } from "./modelled.ts";
import { docker, PS_FILTERS } from "./docker.ts";
import {
  ip,
  IP_GET_KEYWORDS,
  IP_MODELLED_OPTIONS,
  IP_MODELLED_VERBS,
  IP_OBJECTS,
  IP_OPTIONS,
  IP_ROUTE_KEYWORDS,
  IP_ROUTE_VERBS,
  IP_SHOW_SELECTORS,
} from "./ip.ts";
import { parseSelector, selectorMatches } from "./kubectl.ts";
import {
  resolvectl,
  RESOLVECTL_MODELLED_VERBS,
  RESOLVECTL_OPTIONS,
  RESOLVECTL_VERBS,
} from "./resolvectl.ts";
import { type KubeObject, newWorld } from "./world.ts";

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

Deno.test("sim: every value the real tools take and the simulator does not model fails with exit 98 naming it; the rest is modelled", async () => {
  const world = newWorld();
  const refusedWith = (fn: () => unknown, what: string) => {
    const err = refusal(() => void fn());
    assertEquals(err?.code, 98, what);
    assertMatch(
      err!.stderr,
      new RegExp(`${escape(what)} is accepted by the real \\w+ but not simulated`),
    );
  };
  // ip: every global option, object, route command and route keyword the sim does not model
  for (const [opt] of IP_OPTIONS) {
    if (IP_MODELLED_OPTIONS.includes(opt)) continue;
    refusedWith(() => ip(world, [opt, "route"], false), `ip ${opt}`);
  }
  refusedWith(() => ip(world, ["-s", "-j", "route"], false), "ip -s");
  for (const [obj] of IP_OBJECTS) {
    if (obj !== "route") refusedWith(() => ip(world, [obj], false), `ip ${obj}`);
  }
  for (const [verb] of IP_ROUTE_VERBS) {
    if (!IP_MODELLED_VERBS.includes(verb)) {
      refusedWith(() => ip(world, ["route", verb], true), `ip route ${verb}`);
    }
  }
  for (const [k] of IP_SHOW_SELECTORS) {
    const what = k === "table" ? "table all" : k;
    refusedWith(() => ip(world, ["route", "show", k, "all"], false), `ip route show ${what}`);
  }
  for (const [k] of IP_GET_KEYWORDS) {
    refusedWith(() => ip(world, ["route", "get", "10.0.0.1", k, "1"], false), `ip route get ${k}`);
  }
  for (const [k] of IP_ROUTE_KEYWORDS) {
    if (["via", "dev", "oif"].includes(k)) continue;
    refusedWith(
      () => ip(world, ["route", "replace", "10.42.0.0/16", k, "1"], true),
      `ip route replace ${k}`,
    );
  }
  // what ip refuses itself keeps ip's words
  assertEquals(
    refusal(() => ip(world, ["-zz", "route"], false))?.stderr,
    'Option "-zz" is unknown, try "ip -help".\n',
  );
  assertEquals(refusal(() => ip(world, ["nosuch"], false))?.code, 1);
  // the main table is the only one, and `table main` shows it
  assertEquals(
    ip(world, ["-j", "route", "show", "table", "main"], false),
    ip(world, ["-j", "route", "show"], false),
  );

  // resolvectl: every option and every verb it does not model
  for (const opt of RESOLVECTL_OPTIONS) {
    refusedWith(() => resolvectl(world, [opt, "status"], false), `resolvectl ${opt}`);
  }
  for (const verb of RESOLVECTL_VERBS) {
    if (!RESOLVECTL_MODELLED_VERBS.includes(verb)) {
      refusedWith(() => resolvectl(world, [verb], false), `resolvectl ${verb}`);
    }
  }
  assertEquals(
    refusal(() => resolvectl(world, ["nosuch"], false))?.stderr,
    "Unknown command verb 'nosuch'.\n",
  );

  await withSimHost({}, async (h) => {
    // docker ps: every real filter key the sim does not model, and what docker itself refuses
    for (const key of PS_FILTERS.unmodelled) {
      const r = await h.tool("docker", ["ps", "--format", "{{.Names}}", "--filter", `${key}=x`]);
      assertEquals(r.code, 98, key);
      assertMatch(r.stderr, new RegExp(`docker ps --filter ${key} is accepted by the real docker`));
    }
    const bad = await h.tool("docker", ["ps", "--format", "{{.Names}}", "--filter", "nosuch=x"]);
    assertEquals([bad.code, bad.stderr], [
      1,
      "Error response from daemon: invalid filter 'nosuch'\n",
    ]);
    const state = await h.tool("docker", ["ps", "--format", "{{.Names}}", "--filter", "status=up"]);
    assertEquals(state.code, 1);
    assertMatch(
      state.stderr,
      /invalid filter 'status=up': invalid value for state \(up\): must be one of created, running/,
    );
    const noEq = await h.tool("docker", ["ps", "--format", "{{.Names}}", "--filter", "name"]);
    assertEquals(noEq.code, 125);
    assertMatch(noEq.stderr, /bad format of filter \(expected name=value\)/);
    const fs = await h.tool("kubectl", ["get", "pods", "--field-selector", "status.phase=Running"]);
    assertEquals([fs.code, /--field-selector/.test(fs.stderr)], [98, true]);
  });
});

Deno.test("sim: docker ps filters match as the engine's (name a regexp, status lists stopped ones, values of a key or'ed)", () => {
  const world = newWorld();
  const add = (name: string, running: boolean, labels: Record<string, string>) => {
    world.containers[name] = {
      id: `${name}0000000000000000`,
      name,
      image: "x",
      imageId: "sha256:x",
      created: `2026-01-0${Object.keys(world.containers).length + 1}T00:00:00Z`,
      started: "2026-01-01T00:00:00Z",
      cmd: null,
      env: null,
      running,
      labels,
      networks: { bridge: { ip: "172.17.0.9" } },
      ports: {},
    };
  };
  add("k3d-a-server-0", true, { app: "k3d", role: "server" });
  add("k3d-a-agent-0", false, { app: "k3d", role: "agent" });
  add("other", true, {});
  const ps = (...filters: string[]) =>
    docker(
      world,
      parseArgs("docker", [
        "ps",
        "--format",
        "{{.Names}}",
        ...filters.flatMap((f) => ["--filter", f]),
      ]),
    );
  const names = async (...f: string[]) =>
    (await ps(...f)).trim().split("\n").filter(Boolean).sort();
  return (async () => {
    assertEquals(await names("name=^k3d-a-"), ["k3d-a-server-0"]);
    assertEquals(await names("name=^/other$"), ["other"]);
    assertEquals(await names("name=server", "name=other"), ["k3d-a-server-0", "other"]);
    assertEquals(await names("status=exited"), ["k3d-a-agent-0"]);
    assertEquals(await names("status=exited", "status=running", "label=app=k3d"), [
      "k3d-a-agent-0",
      "k3d-a-server-0",
    ]);
    assertEquals(await names("label=app", "label=role=server"), ["k3d-a-server-0"]);
    assertEquals(await names("network=bridge", "name=other"), ["other"]);
  })();
});

Deno.test("sim: kubectl label selectors follow the API server's grammar", () => {
  const pod = (labels: Record<string, string>) =>
    ({ metadata: { name: "p", labels } }) as KubeObject;
  const web = pod({ app: "web", tier: "front", n: "5" });
  const cases: [string, boolean][] = [
    ["app=web", true],
    ["app==web", true],
    ["app!=web", false],
    ["app!=db", true],
    ["missing!=x", true],
    ["app in (web, db)", true],
    ["app in (db)", false],
    ["app notin (db)", true],
    ["missing notin (db)", true],
    ["app", true],
    ["missing", false],
    ["!missing", true],
    ["!app", false],
    ["app=web,tier!=db", true],
    ["app=web,tier=back", false],
    ["n>4", true],
    ["n<5", false],
    ["app=", false],
  ];
  for (const [sel, want] of cases) assertEquals(selectorMatches(web, sel), want, sel);
  for (const bad of ["app in", "app in (a b)", "=x", "app=web,", "!app=x", "a b"]) {
    assertEquals(refusal(() => parseSelector(bad))?.code, 98, bad);
  }
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
