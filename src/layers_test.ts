/**
 * Layers point one way: a file may import from its own layer or a lower one, never a higher one.
 *
 * | rank | layer                                                                     |
 * | ---- | ------------------------------------------------------------------------- |
 * | 6    | cli: `src/cli/` (main.ts, outside src/, is not checked)                   |
 * | 5    | cluster, observe: `src/cluster/`, `src/observe/`                          |
 * | 4    | engine, tasks: `src/engine/`, `tasks/`                                    |
 * | 3    | host, tls, portforward: `src/host/`, `src/tls/`, `src/portforward/`       |
 * | 2    | tools, config, state: `src/tools/`, `src/config/`, `src/state/`           |
 * | 1    | ui, and every file directly in `src/`: `src/ui/`, errors.ts, version.ts   |
 *
 * Every .ts file under src/ and tasks/ counts, tests included; its relative `import … from`,
 * `export … from`, `import "…"` and `import("…")` specifiers are its edges, type-only imports
 * too. Imports of files outside src/ and tasks/ (test helpers, scripts, deno.json) are not checked.
 * A folder of src/ that is not in the table fails the check, so a new one gets a rank.
 */
import { assertEquals } from "../test/assert.ts";

const RANKS: [prefix: string, rank: number][] = [
  ["src/cli/", 6],
  ["src/cluster/", 5],
  ["src/observe/", 5],
  ["src/engine/", 4],
  ["tasks/", 4],
  ["src/host/", 3],
  ["src/tls/", 3],
  ["src/portforward/", 3],
  ["src/tools/", 2],
  ["src/config/", 2],
  ["src/state/", 2],
  ["src/ui/", 1],
];

/** The rank of a repository path; undefined outside src/ and tasks/; "unknown" for an unranked folder of src/. */
export function rankOf(path: string): number | "unknown" | undefined {
  for (const [prefix, rank] of RANKS) if (path.startsWith(prefix)) return rank;
  if (/^src\/[^/]+\.ts$/.test(path)) return 1;
  return path.startsWith("src/") ? "unknown" : undefined;
}

/** The relative specifiers a module's text imports or re-exports, statically or dynamically. */
export function specifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) {
    for (const m of text.matchAll(re)) if (m[1].startsWith(".")) found.push(m[1]);
  }
  return [...new Set(found)];
}

/** `spec` as seen from the file `from`, as a repository path. */
export function resolve(from: string, spec: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const p of spec.split("/")) {
    if (p === "..") parts.pop();
    else if (p !== ".") parts.push(p);
  }
  return parts.join("/");
}

/** Every edge that points up a layer, and every file of src/ without a layer, as lines. */
export function violations(files: Map<string, string>): string[] {
  const found: string[] = [];
  for (const [path, text] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const from = rankOf(path);
    if (from === undefined) continue;
    if (from === "unknown") {
      found.push(`${path}: not in any layer`);
      continue;
    }
    for (const spec of specifiers(text)) {
      const target = resolve(path, spec);
      const to = rankOf(target);
      if (typeof to === "number" && to > from) {
        found.push(`${path} (${from}) → ${target} (${to})`);
      }
    }
  }
  return found;
}

/** Import circles among `files` (each as its files, from the first in path order), none when acyclic. */
export function circles(files: Map<string, string>): string[][] {
  const edges = new Map<string, string[]>();
  for (const [path, text] of files) {
    edges.set(path, specifiers(text).map((s) => resolve(path, s)).filter((t) => files.has(t)));
  }
  const found: string[][] = [];
  const done = new Set<string>();
  const visit = (path: string, trail: string[]) => {
    const at = trail.indexOf(path);
    if (at >= 0) return void found.push(trail.slice(at));
    if (done.has(path)) return;
    for (const next of edges.get(path) ?? []) visit(next, [...trail, path]);
    done.add(path);
  };
  for (const path of [...files.keys()].sort()) visit(path, []);
  return found;
}

/** Every .ts file under `dir` (a repository path), by path. */
async function readTree(root: string, dir: string, into: Map<string, string>): Promise<void> {
  for await (const e of Deno.readDir(`${root}/${dir}`)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) await readTree(root, path, into);
    else if (e.isFile && e.name.endsWith(".ts")) {
      into.set(path, await Deno.readTextFile(`${root}/${path}`));
    }
  }
}

Deno.test("layers: no file imports from a higher layer, and no import circle", async () => {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const files = new Map<string, string>();
  await readTree(root, "src", files);
  await readTree(root, "tasks", files);
  assertEquals(files.has("src/cli/program.ts") && files.has("tasks/cluster_create/mod.ts"), true);
  assertEquals(violations(files), []);
  // one way also within a layer: a module is read knowing only what it imports
  assertEquals(circles(files), []);
});

Deno.test("layers: an import circle is found, type-only and dynamic imports too", () => {
  const files = new Map([
    ["src/portforward/control.ts", 'const s = await import("./supervisor.ts");\n'],
    ["src/portforward/supervisor.ts", 'import type { Spec } from "./control.ts";\n'],
    ["src/portforward/files.ts", 'import { x } from "../state/fs.ts";\n'],
  ]);
  assertEquals(circles(files), [["src/portforward/control.ts", "src/portforward/supervisor.ts"]]);
});

Deno.test("layers: a tool importing the CLI is caught, whatever the import's form", () => {
  const files = new Map([
    ["src/tools/x.ts", 'import type { Y } from "../cli/y.ts";\nexport const x = 1;\n'],
    ["src/tools/z.ts", 'const m = await import("../cluster/m.ts");\n'],
    ["src/tools/w.ts", 'export {\n  a,\n  b,\n} from "../host/a.ts";\nimport "../tools/x.ts";\n'],
    ["src/cli/y.ts", 'import { x } from "../tools/x.ts";\nexport type Y = typeof x;\n'],
    ["src/newdir/q.ts", ""],
    ["test/t.ts", 'import "../src/cli/y.ts";\n'],
  ]);
  assertEquals(violations(files), [
    "src/newdir/q.ts: not in any layer",
    "src/tools/w.ts (2) → src/host/a.ts (3)",
    "src/tools/x.ts (2) → src/cli/y.ts (6)",
    "src/tools/z.ts (2) → src/cluster/m.ts (5)",
  ]);
});
