/**
 * `deno task bench`: every figure printed beside a reference measured in the same run, with the
 * ratio, the target where the project has one, and how it was measured. Nothing here asserts on
 * time; tests never do.
 *
 * Where `unshare -n` works, the bench re-runs itself in a private network namespace (loopback
 * only): the seed's ports 80/443/5000/6550 are free there and no other program can hold a port the
 * bench uses. Without it, the seed's host ports are swapped for free ones and the forwarding ports
 * are checked free first. Every forwarding port sits below Linux's ephemeral range (32768–60999).
 */
import $ from "dax";
import { POOL_SIZE } from "../src/portforward/supervisor.ts";
import { residentKiB } from "../src/tools/process.ts";
import { type SimHost, simHost } from "../test/sim/harness.ts";
import { Terminal } from "../test/e2e/tmux.ts";
import { TARGETS } from "./compile.ts";
import { loopbackOnly } from "./loopback_only.ts";

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const DENO = Deno.execPath();
const ISOLATED = Deno.env.get("FIRESTREAM_BENCH_NETNS") === "1";

if (!ISOLATED && Deno.build.os === "linux" && Deno.env.get("FIRESTREAM_BENCH_NETNS") !== "0") {
  const probe = await $`unshare -n true`.noThrow().quiet();
  if (probe.code === 0) {
    const [program, ...args] = loopbackOnly([
      DENO,
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      ...Deno.args,
    ]);
    const r = await new Deno.Command(program, {
      args,
      env: { FIRESTREAM_BENCH_NETNS: "1" },
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    Deno.exit(r.code);
  }
}

// ---------- measuring ----------

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Wall time of one run, and its CPU time (user + system, from the shell's `times`). */
async function timeOnce(argv: string[]): Promise<{ ms: number; cpu: number }> {
  const t0 = performance.now();
  const r = await new Deno.Command("sh", {
    args: ["-c", '"$@" >/dev/null 2>&1; times', "sh", ...argv],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).output();
  const ms = performance.now() - t0;
  // second line: the children's "XmY.YYYs XmY.YYYs"
  const child = new TextDecoder().decode(r.stdout).trim().split("\n").at(-1) ?? "";
  const cpu = [...child.matchAll(/(\d+)m([\d.]+)s/g)]
    .reduce((sum, m) => sum + Number(m[1]) * 60_000 + Number(m[2]) * 1000, 0);
  return { ms, cpu };
}

interface Sample {
  ms: number;
  cpu?: number;
}

/** Runs B then A, `pairs` times; medians of each and the medians of the per-pair ratios A/B. */
async function paired(
  a: () => Promise<Sample>,
  b: () => Promise<Sample>,
  pairs: number,
): Promise<{ a: number; b: number; ratio: number; cpuRatio?: number }> {
  const as: number[] = [];
  const bs: number[] = [];
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const y = await b();
    const x = await a();
    as.push(x.ms);
    bs.push(y.ms);
    ratios.push(x.ms / y.ms);
    if (x.cpu && y.cpu) cpuRatios.push(x.cpu / y.cpu);
  }
  return {
    a: median(as),
    b: median(bs),
    ratio: median(ratios),
    cpuRatio: cpuRatios.length ? median(cpuRatios) : undefined,
  };
}

function ms(v: number): string {
  return v >= 10_000 ? `${(v / 1000).toFixed(1)}s` : `${v.toFixed(0)}ms`;
}

function header(title: string, how: string): void {
  console.log(`\n## ${title}\n   ${how}`);
  row("", "firestream", "reference", "ratio", "target");
}

function row(
  label: string,
  value: string,
  reference: string,
  ratio = "",
  target = "",
  note = "",
): void {
  console.log(
    `${label.padEnd(50)} ${value.padStart(10)} ${reference.padStart(10)} ${ratio.padStart(6)} ${
      target.padStart(7)
    }  ${note}`,
  );
}

function verdict(ratio: number, limit: number): string {
  return `≤${limit} ${ratio <= limit ? "met" : "MISSED"}`;
}

// ---------- simulated host with the seed's config ----------

function seedConfig(): string {
  const seed = Deno.readTextFileSync(`${ROOT}/test/fixtures/seed.toml`);
  if (ISOLATED) return seed;
  // outside a private namespace the seed's well-known ports may be taken: same config, free ports
  const free = () => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const p = (l.addr as Deno.NetAddr).port;
    l.close();
    return p;
  };
  return seed.replace(
    /^(api_port|http_port|https_port|port) = \d+$/gm,
    (_m, k) => `${k} = ${free()}`,
  );
}

interface CallTiming {
  count: number;
  /** sum of call durations */
  ms: number;
  /** time during which at least one call was running */
  busy: number;
  /** when the first call started, in ms since the process started */
  first?: number;
  /** each call, [spawn, exit] in ms since the process started */
  spans: (readonly [number, number])[];
}

/** Parses firestream's debug log of external calls ("exec … → exit N in Xms at +Tms"). */
function callTimes(stderr: string): CallTiming {
  const spans = [...stderr.matchAll(/DEBUG exec .* → exit \d+ in (\d+)ms at \+(\d+)ms/g)]
    .map((m) => [Number(m[2]), Number(m[2]) + Number(m[1])] as const)
    .sort((a, b) => a[0] - b[0]);
  return {
    count: spans.length,
    ms: spans.reduce((a, [s, e]) => a + e - s, 0),
    busy: unionMs(spans),
    first: spans[0]?.[0],
    spans,
  };
}

/** Most spans in progress at once, and whether every one started before the first ended. */
function concurrency(spans: readonly (readonly [number, number])[]) {
  let maxInFlight = spans.length ? 1 : 0;
  for (const [s] of spans) {
    maxInFlight = Math.max(maxInFlight, spans.filter(([a, b]) => a <= s && s < b).length);
  }
  const firstEnd = Math.min(...spans.map(([, e]) => e));
  return { maxInFlight, allBeforeFirstEnd: spans.every(([s]) => s < firstEnd) };
}

// ---------- start-up ----------

const PAIRS = Number(Deno.env.get("BENCH_PAIRS") ?? 15);

/**
 * The command `deno task install` puts on PATH, installed into a temporary root: the wrapper runs
 * `deno run --allow-all --config <copy of deno.json> main.ts`. Undefined when it cannot be made.
 */
async function installedWrapper(root: string): Promise<string | undefined> {
  const r = await new Deno.Command(DENO, {
    args: ["install", "-g", "-A", "-f", "-n", "firestream", "--config", "deno.json", "main.ts"],
    cwd: ROOT,
    env: { DENO_INSTALL_ROOT: root },
    stdout: "null",
    stderr: "null",
  }).output();
  return r.code === 0 ? `${root}/bin/firestream` : undefined;
}

/**
 * deno.json without its `unstable` list, beside a copy of the lock file: `deno run` then builds the
 * graph of every statically named dynamic import before the first line runs.
 */
async function eagerConfig(dir: string): Promise<string> {
  const meta = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  delete meta.unstable;
  await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify(meta));
  await Deno.copyFile(`${ROOT}/deno.lock`, `${dir}/deno.lock`);
  return `${dir}/deno.json`;
}

/** This machine's binary from `deno task compile`, when one was built into dist/. */
async function compiledBinary(): Promise<{ path: string; found: boolean }> {
  const file = TARGETS.find((t) => t.target === Deno.build.target)?.file ?? "firestream";
  const path = `${ROOT}/dist/${file}`;
  const found = await Deno.stat(path).then((s) => s.isFile, () => false);
  return { path, found };
}

async function startup(kubectl: string): Promise<void> {
  header(
    "start-up",
    `each firestream run beside a \`kubectl version --client\`, ${PAIRS} pairs: wall-time medians and the median of per-pair ratios; CPU time (user+system, less sensitive to a busy machine) as a cross-check. \`deno run -A main.ts\` is what \`deno task\` and the README's "without installing" run; the installed command is the wrapper \`deno task install\` writes`,
  );
  const ref = () => timeOnce([kubectl, "version", "--client"]);
  const tmp = await Deno.makeTempDir();
  const empty = `${tmp}/empty.ts`;
  await Deno.writeTextFile(empty, "");
  const installed = await installedWrapper(`${tmp}/install`);
  const compiled = await compiledBinary();
  const eager = await eagerConfig(tmp);
  const rows: [string, string[], number | undefined][] = [
    ["--version", [DENO, "run", "-A", "main.ts", "--version"], 0.6],
    ["--help", [DENO, "run", "-A", "main.ts", "--help"], 1.0],
    ...(installed
      ? [
        ["--version (installed)", [installed, "--version"], 0.6],
        ["--help (installed)", [installed, "--help"], 1.0],
      ] as [string, string[], number][]
      : []),
    ...(compiled.found
      ? [
        ["--version (binary)", [compiled.path, "--version"], 0.6],
        ["--help (binary)", [compiled.path, "--help"], 1.0],
      ] as [string, string[], number][]
      : []),
    ["completions bash (the command tree)", [
      DENO,
      "run",
      "-A",
      "main.ts",
      "completions",
      "bash",
    ], undefined],
    ["(floor: deno run of an empty file)", [DENO, "run", "-A", empty], undefined],
    [
      "(--version without lazy dynamic imports)",
      [DENO, "run", "-A", "--config", eager, "main.ts", "--version"],
      undefined,
    ],
  ];
  for (const [label, argv, limit] of rows) {
    const r = await paired(() => timeOnce([...argv]), ref, PAIRS);
    row(
      limit ? `${label} vs kubectl version --client` : label,
      ms(r.a),
      ms(r.b),
      r.ratio.toFixed(2),
      limit ? verdict(r.ratio, limit) : "",
      `CPU time ratio ${r.cpuRatio?.toFixed(2) ?? "n/a"}`,
    );
  }
  if (!installed) row("installed command", "n/a", "", "", "", "`deno install` failed here");
  if (!compiled.found) {
    row(
      "compiled binary",
      "n/a",
      "",
      "",
      "",
      `no ${
        compiled.path.slice(ROOT.length + 1)
      }: \`deno task compile\` builds it where Deno's runtime download is allowed (the release workflow runs this bench after it)`,
    );
  }
  await Deno.remove(tmp, { recursive: true });

  // plan in an empty folder on the simulated host: firestream's own time, the tools' time taken out
  const h = await simHost({});
  try {
    const dir = `${h.root}/empty`;
    await Deno.mkdir(dir);
    const firsts: number[] = [];
    let calls = 0;
    const plan = await paired(
      async () => {
        h.clearCalls();
        const t0 = performance.now();
        const r = await h.run(["plan", "-v"], { cwd: dir });
        const wall = performance.now() - t0;
        if (r.code !== 0) throw new Error(`plan exited ${r.code}: ${r.stderr}`);
        const t = callTimes(r.stderr);
        if (t.first !== undefined) firsts.push(t.first);
        calls = h.ownCalls().length;
        return { ms: wall - t.busy };
      },
      ref,
      9,
    );
    row(
      "plan in an empty folder (own time) vs kubectl",
      ms(plan.a),
      ms(plan.b),
      plan.ratio.toFixed(2),
      verdict(plan.ratio, 1.5),
      `own time = wall − time inside simulated tools (${calls} calls${
        firsts.length ? `, the first at +${ms(median(firsts))} of its run` : ""
      })`,
    );
  } finally {
    await h.cleanup();
  }
}

/** Imports timed in a fresh process, in the order `plan` loads them; medians of `runs`. */
async function whereTimeGoes(): Promise<void> {
  const steps: [string, string[]][] = [
    ["src/cli/main.ts (errors, log, output, the command tree and its parser)", [
      "./src/cli/main.ts",
    ]],
    ["config: smol-toml, the schema and its validator", ["./src/config/load.ts"]],
    ["state store, tools, session", ["./src/cli/session.ts"]],
    ["plan/apply code (cluster plan, runner, journal)", ["./src/cli/plan.ts"]],
    ["the task graph (create tasks)", ["./tasks/cluster_create/mod.ts"]],
    ["-- not loaded by plan: yaml (manifests)", ["yaml"]],
    ["-- not loaded by plan: @peculiar/x509 (certificates)", ["@peculiar/x509"]],
    ["-- not loaded by plan: dax", ["dax"]],
    ["-- not loaded by plan: @inquirer/prompts (init)", ["@inquirer/prompts"]],
  ];
  const script = `const out = [];
for (const ms of ${JSON.stringify(steps.map((s) => s[1]))}) {
  const t0 = performance.now();
  for (const m of ms) await import(m);
  out.push(performance.now() - t0);
}
console.log(JSON.stringify(out));`;
  const file = `${ROOT}/.bench-imports.ts`;
  Deno.writeTextFileSync(file, script);
  const runs: number[][] = [];
  try {
    for (let i = 0; i < 7; i++) {
      const r = await new Deno.Command(DENO, {
        args: ["run", "-A", file],
        cwd: ROOT,
        stderr: "null",
      })
        .output();
      runs.push(JSON.parse(new TextDecoder().decode(r.stdout)));
    }
  } finally {
    Deno.removeSync(file);
  }
  console.log(
    "\n## where start-up time goes\n   each import timed with performance.now() in one fresh process, in the order `plan` loads them (later rows include only what earlier rows did not load); medians of 7.\n   --version loads main.ts and the version only; --help and `completions` add the first row (no npm package, no node: module); plan adds the config, state and plan code.",
  );
  steps.forEach(([label], i) => row(label, ms(median(runs.map((r) => r[i]))), ""));
}

// ---------- converged cluster ----------

/** What the simulator's call log tells of one command run: how many calls, and their time. */
interface OwnCalls {
  count: number;
  readOnly: number;
  /** time during which at least one call ran, by the simulated tools' own clocks */
  union: number;
}

/** Time covered by at least one of `spans` ([start, end] in ms). */
function unionMs(spans: (readonly [number, number])[]): number {
  let busy = 0;
  let end = -Infinity;
  for (const [s, e] of [...spans].sort((a, b) => a[0] - b[0])) {
    if (s > end) {
      busy += e - s;
      end = e;
    } else if (e > end) {
      busy += e - end;
      end = e;
    }
  }
  return busy;
}

/** The command's own calls (not its detached supervisor's), from the simulator's call log. */
function ownCalls(h: SimHost): OwnCalls {
  const calls = h.ownCalls();
  const spans = calls.map((c) => {
    const s = Date.parse(c.time);
    return [s, c.end ? Date.parse(c.end) : s] as const;
  });
  return {
    count: calls.length,
    readOnly: calls.filter((c) => !c.mutating).length,
    union: unionMs(spans),
  };
}

async function converged(kubectl: string | undefined): Promise<void> {
  console.log(
    "\n## converged cluster: the seed's firestream.toml (everything on), simulated host\n" +
      "   calls: the command's own external calls (SimHost.ownCalls(): not those of the dev-mode supervisor); in flight: most\n" +
      "   calls running at once, and whether all started before the first finished; wall: the whole command; in calls: time\n" +
      "   during which at least one of its calls ran; both as the command saw its calls (spawn to exit, from `-v`'s exec log;\n" +
      "   the simulator's own start-up, ~100ms of Deno per call, counts as call time, as a real tool's start-up would);\n" +
      "   own = wall − in calls.\n" +
      "   One untimed warm-up run, then medians of 7 runs, each beside a `kubectl version --client` of the same run.\n" +
      "   Targets: ≤5 read-only calls, issued concurrently; own time of a no-op plan ≤150ms.",
  );
  console.log(
    `${"".padEnd(24)} ${"calls".padStart(9)} ${"in flight".padStart(14)} ${"wall".padStart(7)} ${
      "in calls".padStart(8)
    } ${"own".padStart(7)} ${"kubectl".padStart(7)}  targets`,
  );
  const h = await simHost({ config: seedConfig() });
  try {
    await h.ok(["cluster", "create", "--yes"]);
    for (
      const [label, args] of [
        ["no-op plan", ["plan", "-v"]],
        ["no-op apply --yes", ["apply", "--yes", "-v"]],
        ["no-op cluster create", ["cluster", "create", "--yes", "-v"]],
        ["cluster info", ["cluster", "info", "-v"]],
      ] as const
    ) {
      const walls: number[] = [];
      const inCalls: number[] = [];
      const simUnions: number[] = [];
      const refs: number[] = [];
      let calls: OwnCalls | undefined;
      let seen: ReturnType<typeof concurrency> | undefined;
      let failed = "";
      // the first run after another command loads modules that one did not (code cache)
      await h.run([...args]);
      for (let i = 0; i < 7; i++) {
        if (kubectl) refs.push((await timeOnce([kubectl, "version", "--client"])).ms);
        h.clearCalls();
        const t0 = performance.now();
        const r = await h.run([...args]);
        const wall = performance.now() - t0;
        if (r.code !== 0) {
          failed = `exit ${r.code}: ${
            r.stderr.split("\n").find((l) => l.startsWith("error")) ?? ""
          }`;
          break;
        }
        calls = ownCalls(h);
        const timing = callTimes(r.stderr);
        // how concurrent, as the command saw its calls (spawn to exit): the simulator's own clocks
        // start after each tool's Deno start-up, so they cannot tell
        seen = concurrency(timing.spans);
        walls.push(wall);
        inCalls.push(timing.busy);
        simUnions.push(calls.union);
      }
      if (failed || !calls || !seen) {
        console.log(`${label.padEnd(24)} ${failed}`);
        continue;
      }
      const own = walls.map((w, i) => w - inCalls[i]);
      const readOnlyMet = calls.count - calls.readOnly === 0 && calls.readOnly <= 5;
      const concurrent = calls.count <= 1 || seen.allBeforeFirstEnd;
      const targets = [
        `≤5 read-only ${readOnlyMet ? "met" : "MISSED"}`,
        `concurrent ${concurrent ? "met" : "MISSED"}`,
        ...(label === "no-op plan" ? [`own ≤150ms ${median(own) <= 150 ? "met" : "MISSED"}`] : []),
      ].join(", ");
      console.log(
        `${label.padEnd(24)} ${`${calls.count} (${calls.count - calls.readOnly}w)`.padStart(9)} ${
          `${seen.maxInFlight}, ${seen.allBeforeFirstEnd ? "all" : "not all"}`.padStart(14)
        } ${ms(median(walls)).padStart(7)} ${ms(median(inCalls)).padStart(8)} ${
          ms(median(own)).padStart(7)
        } ${
          (refs.length ? ms(median(refs)) : "n/a").padStart(7)
        }  ${targets}; by the simulator's clocks ${ms(median(simUnions))} in calls`,
      );
    }
    await h.run(["cluster", "port-forward", "--stop"]);
  } finally {
    await h.cleanup();
  }
}

async function latencyCreate(): Promise<void> {
  header(
    "create with 200ms simulated latency per call (seed config)",
    "wall time vs the sum of the calls' times: below it when steps overlap",
  );
  const h = await simHost({ config: seedConfig() });
  try {
    h.latency(200);
    const t0 = performance.now();
    const r = await h.run(["cluster", "create", "--yes", "-v"]);
    const wall = performance.now() - t0;
    const t = callTimes(r.stderr);
    row(
      "cluster create",
      ms(wall),
      ms(t.ms),
      (wall / t.ms).toFixed(2),
      "",
      `${t.count} calls, exit ${r.code}`,
    );
    h.latency(0);
    await h.run(["cluster", "port-forward", "--stop"]);
  } finally {
    await h.cleanup();
  }
}

// ---------- port forwarding ----------

async function answers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** Waits until every port answers; the time it took, or undefined with how many never did. */
async function allAnswer(
  ports: number[],
  deadlineMs: number,
): Promise<{ ms?: number; missing: number }> {
  const t0 = performance.now();
  const pending = new Set(ports);
  while (pending.size && performance.now() - t0 < deadlineMs) {
    await Promise.all([...pending].map(async (p) => {
      if (await answers(p)) pending.delete(p);
    }));
    if (pending.size) await new Promise((r) => setTimeout(r, 50));
  }
  return pending.size ? { missing: pending.size } : { ms: performance.now() - t0, missing: 0 };
}

function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** The first base ≥ `from` (in steps of 1000, below 32768) such that base+p is free for every p. */
function freeBlock(from: number, offsets: number[]): number {
  for (let base = from; base + Math.max(...offsets) < 32768; base += 1000) {
    if (offsets.every((p) => portFree(base + p))) return base;
  }
  throw new Error("no block of free ports below 32768");
}

/** `kubectl port-forward svc/NAME L:P…` of the simulator, started directly (the reference). */
function directForward(h: SimHost, service: string, specs: string[]): Deno.ChildProcess {
  return new Deno.Command(`${ROOT}/test/sim/bin/kubectl`, {
    args: [
      "--context",
      "k3d-firestream-local",
      "-n",
      "default",
      "port-forward",
      `svc/${service}`,
      ...specs,
      "--address",
      "127.0.0.1",
    ],
    env: h.env,
    clearEnv: true,
    stdout: "null",
    stderr: "null",
  }).spawn();
}

// ---------- the relay's cost ----------

/** Milliseconds of one request to `port` (a fresh connection: the simulated server closes each). */
async function requestMs(port: number, path = "/"): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    signal: AbortSignal.timeout(60_000),
  });
  const bytes = (await res.arrayBuffer()).byteLength;
  return { ms: performance.now() - t0, bytes };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * The relay against kubectl's own port for the same pod: the latency of small requests (taken in
 * turn, so both see the same load) and the throughput of a large body.
 */
async function relayCost(local: number, direct: number): Promise<void> {
  const ROUNDS = 300;
  const relayed: number[] = [];
  const straight: number[] = [];
  for (let i = 0; i < 20; i++) await Promise.all([requestMs(local), requestMs(direct)]);
  for (let i = 0; i < ROUNDS; i++) {
    relayed.push((await requestMs(local)).ms);
    straight.push((await requestMs(direct)).ms);
  }
  for (const [label, p, limit] of [["median", 50, 1], ["p99", 99, 5]] as const) {
    const extra = percentile(relayed, p) - percentile(straight, p);
    row(
      `relay latency, ${label} (${ROUNDS} requests)`,
      ms(percentile(relayed, p)),
      ms(percentile(straight, p)),
      `+${extra.toFixed(2)}`,
      `≤+${limit}ms ${extra <= limit ? "met" : "MISSED"}`,
      "reference: the same request to kubectl's port for the same pod",
    );
  }
  const SIZE = 64 * 1024 * 1024;
  const rates = async (port: number) => {
    const out: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await requestMs(port, `/bytes/${SIZE}`);
      if (r.bytes !== SIZE) throw new Error(`a large body came short: ${r.bytes} of ${SIZE}`);
      out.push(SIZE / 1024 / 1024 / (r.ms / 1000));
    }
    return median(out);
  };
  const mine = await rates(local);
  const ref = await rates(direct);
  row(
    "relay throughput, 64 MiB body (median of 3)",
    `${mine.toFixed(0)}MiB/s`,
    `${ref.toFixed(0)}MiB/s`,
    (mine / ref).toFixed(2),
    `≥0.8 ${mine / ref >= 0.8 ? "met" : "MISSED"}`,
    "reference: the same body from kubectl's port",
  );
}

/** From a pod's deletion to the mappings file (what `--list` shows) naming another pod or none. */
async function podGoneShown(h: SimHost, service: string): Promise<number | undefined> {
  const rows = () =>
    JSON.parse(Deno.readTextFileSync(`${h.projectDir}/logs/port_forwards.json`))
      .filter((e: { service: string }) => e.service === service) as {
        pod: string | null;
        status: string;
      }[];
  const before = rows()[0]?.pod;
  if (!before) return undefined;
  h.kube("firestream-local", (k, { surgePod }) => {
    surgePod(k, { namespace: "default", name: service, revision: 2 });
  });
  // the new pod is listed before the old one goes, as in a rollout
  const t0 = performance.now();
  h.kube(
    "firestream-local",
    (k, { removePod }) => removePod(k, { namespace: "default", pod: before }),
  );
  while (performance.now() - t0 < 30_000) {
    const now = rows()[0];
    if (now && now.pod !== before) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

/** An idle `deno run` (the memory reference): started now, its RSS asked when wanted, then stopped. */
async function idleDeno(): Promise<{ kib: () => number; stop: () => Promise<void> }> {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  Deno.writeTextFileSync(file, "await new Promise((r) => setTimeout(r, 3_600_000));\n");
  const idle = new Deno.Command(DENO, { args: ["run", "-A", file], stdout: "null" }).spawn();
  return {
    kib: () => residentKiB(idle.pid) ?? 0,
    stop: async () => {
      idle.kill();
      await idle.status;
      await Deno.remove(file);
    },
  };
}

async function portForwarding(count: number): Promise<void> {
  // service i has port 1000+i; every other one also 2000+i: `count` services, 1.5×count ports
  const services = Array.from({ length: count }, (_, i) => ({
    name: `svc-${i}`,
    ports: i % 2 === 0 ? [1000 + i, 2000 + i] : [1000 + i],
  }));
  const servicePorts = services.flatMap((s) => s.ports);
  header(
    `port forwarding: ${count} services, ${servicePorts.length} ports (simulated kubectl, real TCP on loopback)`,
    "reference: the same kubectl processes (one per service) started directly, all at once",
  );
  const offset = freeBlock(20_000, servicePorts);
  const refBase = freeBlock(offset + 3000, servicePorts);
  const h = await simHost({
    config: seedConfig().replace(/^port_forward_all = true$/m, "port_forward_all = false")
      .replace(/^port_offset = \d+$/m, `port_offset = ${offset}`),
  });
  try {
    await h.ok(["cluster", "create", "--yes"]);
    h.kube("firestream-local", (k, { addService, addDeployment }) => {
      for (const s of services) {
        addDeployment(k, { namespace: "default", name: s.name });
        addService(k, { namespace: "default", name: s.name, ports: s.ports });
      }
    });
    const ours = servicePorts.map((p) => p + offset);
    const refPorts = servicePorts.map((p) => p + refBase);

    const t0 = performance.now();
    const direct = services.map((s) =>
      directForward(h, s.name, s.ports.map((p) => `${p + refBase}:${p}`))
    );
    const ref = await allAnswer(refPorts, 180_000);
    for (const c of direct) c.kill("SIGKILL");
    await Promise.all(direct.map((c) => c.status));

    const t1 = performance.now();
    const detached = await h.run(["cluster", "port-forward", "--detach"]);
    const mine = detached.code === 0 ? await allAnswer(ours, 180_000) : { missing: ours.length };
    const oursMs = mine.ms === undefined ? undefined : performance.now() - t1;
    const refMs = ref.ms === undefined ? undefined : t1 - t0;
    row(
      `every port answers (${servicePorts.length})`,
      oursMs === undefined ? `${mine.missing} silent` : ms(oursMs),
      refMs === undefined ? `${ref.missing} silent` : ms(refMs),
      oursMs && refMs ? (oursMs / refMs).toFixed(2) : "",
      oursMs && refMs ? verdict(oursMs / refMs, 1.2) : "",
      "from `port-forward --detach` (or the first spawn) to the last port answering",
    );
    const events = Deno.readTextFileSync(
      `${h.projectDir}/.firestream/port-forward.firestream-local.log`,
    ).split("\n").filter(Boolean).map((l) => JSON.parse(l).event as string);
    const byThe = h.calls().filter((c) => c.supervisor);
    const count = (e: string) => events.filter((x) => x === e).length;
    row(
      "  what the supervisor did meanwhile",
      "",
      "",
      "",
      "",
      `${count("started")} kubectl starts (pool of ${POOL_SIZE}), ${
        count("restarting")
      } restarts, ${count("exited")} exits, ${count("moved")} moves, ${
        count("waiting")
      } reports of still starting or waiting, ${
        byThe.filter((c) => c.argv.includes("get")).length
      } service lists`,
    );

    const entries = JSON.parse(Deno.readTextFileSync(`${h.projectDir}/logs/port_forwards.json`));
    const victim = entries.find((e: { pid: number | null }) => e.pid !== null);
    if (victim) {
      const siblings = entries.filter((e: { pid: number }) => e.pid === victim.pid)
        .map((e: { local_port: number }) => e.local_port);
      const t2 = performance.now();
      Deno.kill(victim.pid, "SIGKILL");
      while (await answers(victim.local_port)) await new Promise((r) => setTimeout(r, 5));
      const healed = await allAnswer(siblings, 30_000);
      const healedMs = healed.ms === undefined ? undefined : performance.now() - t2;
      const one = services[1];
      const t3 = performance.now();
      const fresh = directForward(h, one.name, one.ports.map((p) => `${p + refBase}:${p}`));
      const freshAnswer = await allAnswer(one.ports.map((p) => p + refBase), 30_000);
      const freshMs = freshAnswer.ms === undefined ? undefined : performance.now() - t3;
      fresh.kill("SIGKILL");
      await fresh.status;
      row(
        `a killed forward answers again (${siblings.length} ports)`,
        healedMs === undefined ? "silent" : ms(healedMs),
        freshMs === undefined ? "silent" : ms(freshMs),
        healedMs && freshMs ? (healedMs / freshMs).toFixed(2) : "",
        healedMs !== undefined ? `≤1s ${healedMs <= 1000 ? "met" : "MISSED"}` : "",
        "reference: one kubectl started from nothing",
      );
    }

    const supervisor = JSON.parse(
      Deno.readTextFileSync(`${h.projectDir}/.firestream/port-forward.firestream-local.pid`),
    ).pid;
    const idle = await idleDeno();
    await new Promise((r) => setTimeout(r, 1500));
    const mineKiB = residentKiB(supervisor) ?? 0;
    const base = idle.kib();
    await idle.stop();
    row(
      "supervisor memory (RSS)",
      `${(mineKiB / 1024).toFixed(0)}MiB`,
      `${(base / 1024).toFixed(0)}MiB`,
      (mineKiB / base).toFixed(2),
      verdict(mineKiB / base, 1.5),
      "reference: an idle `deno run` process; both from /proc/PID/status VmRSS",
    );
    const web = services[0];
    const local = web.ports[0] + offset;
    const straight = directForward(h, web.name, [`${web.ports[0] + refBase}:${web.ports[0]}`]);
    if ((await allAnswer([web.ports[0] + refBase], 30_000)).missing === 0) {
      await relayCost(local, web.ports[0] + refBase);
    }
    straight.kill("SIGKILL");
    await straight.status;
    const shown = await podGoneShown(h, services[2].name);
    row(
      "a deleted pod leaves `--list`",
      shown === undefined ? "never" : ms(shown),
      "",
      "",
      shown !== undefined ? `≤3s ${shown <= 3000 ? "met" : "MISSED"}` : "",
      "from the pod's deletion (a new one ready) to the mappings file naming another",
    );
    await h.ok(["cluster", "port-forward", "--stop"]);
  } finally {
    await h.cleanup();
  }
}

// ---------- the live view ----------

/**
 * CPU clock ticks a process used (user + system); with `children`, also those of the children it
 * waited for.
 */
function cpuTicks(pid: number, children = true): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // fields after "pid (comm) ": state ppid … utime(14) stime(15) cutime(16) cstime(17)
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
  } catch {
    return undefined;
  }
}

/** Every live process below `pid`. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e.name)]);
    } catch { /* gone */ }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** CPU ticks of `pid` and of everything below it now, per process. */
function treeTicks(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of [pid, ...descendants(pid)]) {
    const t = cpuTicks(p);
    if (t !== undefined) out.set(p, t);
  }
  return out;
}

/** Ticks used between two samples of a tree: a process started meanwhile counts whole. */
function ticksBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [p, t] of after) sum += t - (before.get(p) ?? 0);
  return sum;
}

/**
 * `firestream ui` left alone on the converged seed cluster for a minute, in a real terminal (tmux),
 * beside `kubectl get pods --watch` (the simulator's, the same kind of process as the view's own
 * watches) over the same minute: CPU as a share of one core, and resident memory against an idle
 * `deno run`. Run only when named (`deno task bench ui`): it takes over a minute.
 */
async function liveView(seconds: number): Promise<void> {
  header(
    `live view: \`firestream ui\` idle for ${seconds}s on the converged seed cluster (simulated host, tmux)`,
    "reference: `kubectl get pods --all-namespaces --watch -o name` (the simulator's) over the same window; CPU from /proc/PID/stat",
  );
  const h = await simHost({ config: seedConfig() });
  const t = new Terminal(h);
  try {
    await h.ok(["cluster", "create", "--yes"]);
    await t.start(120, 40);
    await t.firestream(["ui"]);
    await t.waitFor("the view", (s) => /server-0 Ready/.test(s) && /ok\s+hosts/.test(s));
    const pane = Number(await t.pane("#{pane_pid}"));
    const view = descendants(pane).find((p) => {
      try {
        return Deno.readTextFileSync(`/proc/${p}/cmdline`).split("\0").includes("ui");
      } catch {
        return false;
      }
    });
    if (!view) throw new Error("the ui process was not found under the tmux pane");
    const watch = new Deno.Command(`${ROOT}/test/sim/bin/kubectl`, {
      args: ["--context", "k3d-firestream-local", "get", "pods", "-A", "--watch", "-o", "name"],
      env: h.env,
      clearEnv: true,
      stdout: "null",
      stderr: "null",
    }).spawn();
    const idle = await idleDeno();
    // settle: the first rounds, the watches and the first metrics are behind it
    await new Promise((r) => setTimeout(r, 5000));
    h.clearCalls();
    const tick = Number((await $`getconf CLK_TCK`.text()).trim()) || 100;
    const before = {
      view: cpuTicks(view, false)!,
      tree: treeTicks(view),
      watch: treeTicks(watch.pid),
    };
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const wall = (performance.now() - t0) / 1000;
    const share = (ticks: number) => (ticks / tick / wall) * 100;
    const own = share(cpuTicks(view, false)! - before.view);
    const tree = share(ticksBetween(before.tree, treeTicks(view)));
    const ref = share(ticksBetween(before.watch, treeTicks(watch.pid)));
    const rss = residentKiB(view) ?? 0;
    const idleRss = idle.kib();
    const watchRss = residentKiB(watch.pid) ?? 0;
    const calls = h.calls().filter((c) => c.ppid === view).length;
    const pct = (v: number) => `${v.toFixed(1)}%`;
    row(
      "view process CPU (share of one core)",
      pct(own),
      pct(ref),
      ref ? (own / ref).toFixed(2) : "",
      own <= 5 ? "≤5% met" : "≤5% MISSED",
      "reference: the kubectl watch process",
    );
    row(
      "view with its children (watches, reads)",
      pct(tree),
      pct(ref),
      ref ? (tree / ref).toFixed(2) : "",
      "",
      `${calls} external calls in ${seconds}s; the simulator's tools are Deno processes`,
    );
    row(
      "view memory (RSS)",
      `${(rss / 1024).toFixed(0)}MiB`,
      `${(idleRss / 1024).toFixed(0)}MiB`,
      (rss / idleRss).toFixed(2),
      verdict(rss / idleRss, 2.5),
      `reference: an idle \`deno run\`; the kubectl watch: ${(watchRss / 1024).toFixed(0)}MiB`,
    );
    watch.kill();
    await Promise.all([idle.stop(), watch.status]);
    await t.keys("q");
    await t.waitFor("the view to end", (s) => /exit=0/.test(s));
  } finally {
    await t.close();
    await h.cleanup();
  }
}

// ---------- run ----------

const load = (() => {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
})();
console.log(
  `firestream bench — ${
    new Date().toISOString()
  } — deno ${Deno.version.deno}, ${Deno.build.os} ${Deno.build.arch}, ${navigator.hardwareConcurrency} cores, load ${load}`,
);
console.log(
  ISOLATED
    ? "in a private network namespace (loopback only): the seed's ports as written, no port can collide"
    : "in the host's network: the seed's host ports replaced by free ones, forwarding ports checked free first",
);
const only = Deno.args.length ? new Set(Deno.args) : undefined;
const want = (part: string) => !only || only.has(part);
const kubectl = await $.which("kubectl");
if (want("startup")) {
  if (kubectl) await startup(kubectl);
  else console.log("\n## start-up: n/a (kubectl, the reference, is not installed)");
}
if (want("imports")) await whereTimeGoes();
if (want("converged")) await converged(kubectl);
if (want("latency")) await latencyCreate();
if (want("forward")) await portForwarding(Number(Deno.env.get("BENCH_SERVICES") ?? 100));
// over a minute: only when named (`deno task bench ui`)
if (only?.has("ui")) await liveView(Number(Deno.env.get("BENCH_UI_SECONDS") ?? 60));
