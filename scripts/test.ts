/**
 * Runs every test: unit and real-component tests on the host, then the simulated end-to-end suite
 * inside a loopback-only network namespace so that a stray packet fails fast instead of leaving.
 */
import $ from "dax";
import { stripAnsi } from "../src/ui/ansi.ts";
import { loopbackOnly } from "./loopback_only.ts";

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const ci = Boolean(Deno.env.get("CI"));
const filter = Deno.args.join(" ");

interface Phase {
  name: string;
  paths: string[];
  isolated: boolean;
}

const phases: Phase[] = [
  {
    name: "unit, real components and opt-in live tests",
    paths: ["src/", "tasks/", "test/real/", "test/live/"],
    isolated: false,
  },
  {
    name: "simulated host, end to end (loopback-only network namespace)",
    paths: ["test/sim/", "test/e2e/"],
    isolated: true,
  },
];

async function canIsolate(): Promise<boolean> {
  if (Deno.build.os !== "linux") return false;
  const r = await $`unshare -n -- true`.noThrow().quiet();
  return r.code === 0;
}

function summary(text: string): { passed: number; failed: number } {
  // deno test's last line: "ok | 12 passed | 0 failed (3s)" or "FAILED | 11 passed | 1 failed"
  const plain = stripAnsi(text);
  const m = [...plain.matchAll(/\| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/g)].at(-1);
  return m ? { passed: Number(m[1]), failed: Number(m[2]) } : { passed: 0, failed: 0 };
}

// cache every module first: the isolated phase has no network to fetch npm packages
await $`deno cache main.ts test/sim/main.ts scripts/bench.ts scripts/compile.ts`.cwd(ROOT);

const isolate = await canIsolate();
if (!isolate) {
  const why =
    "no network namespace available (needs Linux and `unshare -n`, i.e. root or user namespaces)";
  if (ci) {
    console.error(`error: ${why}; CI requires the isolated end-to-end suite`);
    Deno.exit(1);
  }
  console.error(`warning: ${why}; running the end-to-end suite without isolation`);
}

/** Test files under `paths` (relative to the root), as `deno test` finds them. */
function testFiles(paths: string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (
      const e of [...Deno.readDirSync(`${ROOT}/${dir}`)].sort((a, b) => a.name < b.name ? -1 : 1)
    ) {
      const path = `${dir}${e.name}`;
      if (e.isDirectory) walk(`${path}/`);
      else if (e.isFile && /(?:^|[_.])test\.[cm]?[jt]sx?$/.test(e.name)) found.push(path);
    }
  };
  for (const p of paths) walk(p);
  return found;
}

/**
 * The `deno test` runs of a phase. With filter words, a test runs when its name contains them (as
 * `deno test --filter`) or its file's path does (`deno task test port_forward`): the files named
 * run whole, the others filtered by test name.
 */
function runsOf(phase: Phase): string[][] {
  if (!filter) return [phase.paths];
  const files = testFiles(phase.paths);
  const named = files.filter((f) => f.includes(filter));
  const rest = files.filter((f) => !named.includes(f));
  return [
    ...(named.length ? [named] : []),
    ...(rest.length ? [["--filter", filter, ...rest]] : []),
  ];
}

const started = performance.now();
let passed = 0;
let failed = 0;
let exitCode = 0;
for (const phase of phases) {
  console.log(`\n=== ${phase.name}`);
  for (const selection of runsOf(phase)) {
    const args = ["test", "-A", "--parallel", ...selection];
    const argv = phase.isolated && isolate
      ? loopbackOnly([Deno.execPath(), ...args])
      : [Deno.execPath(), ...args];
    const child = $`${argv}`.cwd(ROOT).noThrow().stdout("inheritPiped").stderr("inherit")
      .env({ FIRESTREAM_TEST_ISOLATED: phase.isolated && isolate ? "1" : "0" });
    const r = await child;
    const s = summary(r.stdout);
    passed += s.passed;
    failed += s.failed;
    if (r.code !== 0) exitCode = r.code;
  }
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`\n${passed} passed, ${failed} failed (${seconds}s)`);
Deno.exit(exitCode);
