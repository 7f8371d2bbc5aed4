/** What each start-up path loads: the modules reached by static imports, from `deno info --json`. */
import { assertEquals } from "../../test/assert.ts";

const ROOT = new URL("../../", import.meta.url);

interface Dep {
  code?: { specifier: string };
  isDynamic?: boolean;
}
interface Info {
  roots: string[];
  modules: { specifier: string; dependencies?: (Dep & { specifier: string })[] }[];
  redirects: Record<string, string>;
}

/** Every module that loading `entries` loads before any dynamic import runs. */
async function staticClosure(...entries: string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const entry of entries) {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT,
      stderr: "null",
    }).output();
    const info: Info = JSON.parse(new TextDecoder().decode(r.stdout));
    const mods = new Map(info.modules.map((m) => [m.specifier, m]));
    const resolve = (s: string) => {
      while (info.redirects[s]) s = info.redirects[s];
      return s;
    };
    const stack = [resolve(info.roots[0])];
    while (stack.length) {
      const s = stack.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      for (const d of mods.get(s)?.dependencies ?? []) {
        // type-only imports have no `code`; dynamic imports load later, on the path that takes them
        if (d.code && !d.isDynamic) stack.push(resolve(d.code.specifier));
      }
    }
  }
  return seen;
}

const HEAVY = [/x509/, /@inquirer/, /dax/, /\/tasks\//, /yaml/];

function heavy(mods: Set<string>): string[] {
  return [...mods].filter((m) => HEAVY.some((h) => h.test(m))).sort();
}

function npm(mods: Set<string>): string[] {
  return [...mods].filter((m) => m.startsWith("npm:")).map((m) => m.replace(/@[\d.]+.*$/, ""))
    .sort();
}

Deno.test("start-up: --version, --help and completions load no npm package at all", async () => {
  assertEquals(npm(await staticClosure("main.ts")), []);
  const tree = await staticClosure("main.ts", "src/cli/main.ts", "src/cli/completions.ts");
  assertEquals(npm(tree), []);
  assertEquals([...tree].filter((m) => m.startsWith("node:")), [], "no Node compat layer");
  assertEquals(heavy(tree), []);
  assertEquals(
    [...tree].some((m) => m.endsWith("/src/cli/program.ts")),
    true,
    "the walk reaches the command tree",
  );
});

Deno.test("start-up: plan loads neither certificates, prompts, yaml nor the shell library", async () => {
  const mods = await staticClosure(
    "src/cli/main.ts",
    "src/cli/plan.ts",
    "tasks/cluster_create/mod.ts",
  );
  assertEquals(heavy(mods).filter((m) => !/\/tasks\//.test(m)), []);
  assertEquals(
    mods.has(new URL("src/config/schema.ts", ROOT).href),
    true,
    "the config schema is plan's own",
  );
  // the schema is checked by src/config/shape.ts: TOML parsing is the only npm package it adds
  assertEquals(npm(mods), ["npm:/smol-toml"]);
});

Deno.test("start-up: the detached supervisor loads no config schema, command tree or npm package", async () => {
  assertEquals(
    npm(await staticClosure("main.ts", "src/cli/main.ts", "src/portforward/control.ts")),
    [],
  );
});

Deno.test("start-up: deno.json keeps dynamic imports lazy, so `deno run` builds no graph of commands it does not run", async () => {
  // without it, `deno run main.ts --version` first resolves every module any command could load
  const meta = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  assertEquals(meta.unstable?.includes("lazy-dynamic-imports"), true);
});
