/**
 * `deno task bench`: figures printed side by side with a reference measured in the same run.
 * Nothing here asserts on time; tests never do.
 */
import $ from "dax";
import { simHost, testConfig } from "../test/sim/harness.ts";

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeRuns(argv: string[], runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = await $`${argv}`.cwd(ROOT).noThrow().quiet();
    times.push(performance.now() - t0);
    if (r.code !== 0) throw new Error(`${argv.join(" ")} exited ${r.code}`);
  }
  return times;
}

function row(label: string, value: string, reference: string, note = ""): void {
  console.log(`${label.padEnd(44)} ${value.padStart(12)} ${reference.padStart(14)}  ${note}`);
}

async function startup(): Promise<void> {
  console.log("\n## start-up (median of 15 runs)");
  row("", "firestream", "reference");
  const fs = median(await timeRuns([Deno.execPath(), "run", "-A", "main.ts", "--version"], 15));
  const kubectl = await $.which("kubectl");
  if (!kubectl) {
    row(
      "--version vs kubectl version --client",
      `${fs.toFixed(1)}ms`,
      "n/a",
      "kubectl not installed",
    );
    return;
  }
  const ref = median(await timeRuns([kubectl, "version", "--client"], 15));
  row(
    "--version vs kubectl version --client",
    `${fs.toFixed(1)}ms`,
    `${ref.toFixed(1)}ms`,
    `ratio ${(fs / ref).toFixed(2)}`,
  );
  const help = median(await timeRuns([Deno.execPath(), "run", "-A", "main.ts", "--help"], 9));
  row(
    "--help vs kubectl version --client",
    `${help.toFixed(1)}ms`,
    `${ref.toFixed(1)}ms`,
    `ratio ${(help / ref).toFixed(2)}`,
  );
}

interface CallTiming {
  count: number;
  /** sum of call durations */
  ms: number;
  /** time during which at least one call was running */
  busy: number;
}

/** Parses firestream's debug log of external calls ("exec … → exit N in Xms at +Tms"). */
function callTimes(stderr: string): CallTiming {
  const spans = [...stderr.matchAll(/DEBUG exec .* → exit \d+ in (\d+)ms at \+(\d+)ms/g)]
    .map((m) => [Number(m[2]), Number(m[2]) + Number(m[1])] as const)
    .sort((a, b) => a[0] - b[0]);
  let busy = 0;
  let end = -Infinity;
  for (const [s, e] of spans) {
    if (s > end) {
      busy += e - s;
      end = e;
    } else if (e > end) {
      busy += e - end;
      end = e;
    }
  }
  return { count: spans.length, ms: spans.reduce((a, [s, e]) => a + e - s, 0), busy };
}

async function converged(): Promise<void> {
  console.log(
    "\n## converged cluster (simulated host): firestream's own time = wall − time waiting on tools",
  );
  row("", "own time", "calls (mut.)");
  const h = await simHost({ config: testConfig() });
  try {
    await h.ok(["cluster", "create", "--yes"]);
    for (
      const [label, args] of [["no-op cluster create", ["cluster", "create", "--yes", "-v"]], [
        "no-op plan",
        ["plan", "-v"],
      ], ["no-op apply", ["apply", "--yes", "-v"]]] as const
    ) {
      h.clearCalls();
      const t0 = performance.now();
      const r = await h.run([...args]);
      const wall = performance.now() - t0;
      if (r.code !== 0) {
        row(
          label,
          "n/a",
          "",
          `exit ${r.code}: ${r.stderr.split("\n").find((l) => l.startsWith("error")) ?? ""}`,
        );
        continue;
      }
      const t = callTimes(r.stderr);
      const mutating = h.mutatingCalls().length;
      row(
        label,
        `${(wall - t.busy).toFixed(0)}ms`,
        `${t.count} (${mutating})`,
        `wall ${wall.toFixed(0)}ms, tools ${t.ms}ms`,
      );
    }
  } finally {
    await h.cleanup();
  }
}

async function latencyCreate(): Promise<void> {
  console.log(
    "\n## create with 200ms simulated latency per call: wall time vs the sum of the calls",
  );
  row("", "wall", "sum of calls");
  const h = await simHost({ config: testConfig() });
  try {
    h.latency(200);
    const t0 = performance.now();
    const r = await h.run(["cluster", "create", "--yes", "-v"]);
    const wall = performance.now() - t0;
    const t = callTimes(r.stderr);
    row(
      "cluster create",
      `${wall.toFixed(0)}ms`,
      `${t.ms}ms`,
      `${t.count} calls; ${t.ms > wall ? "steps overlap" : "sequential"}`,
    );
  } finally {
    await h.cleanup();
  }
}

console.log(
  `firestream bench — ${
    new Date().toISOString()
  } — deno ${Deno.version.deno}, ${Deno.build.os} ${Deno.build.arch}`,
);
await startup();
await converged();
await latencyCreate();
