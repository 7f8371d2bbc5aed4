/**
 * `deno task bench`: figures printed side by side with a reference measured in the same run.
 * Nothing here asserts on time; tests never do.
 */
import $ from "dax";
import { type SimHost, simHost, testConfig } from "../test/sim/harness.ts";

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

async function answers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

async function allAnswer(ports: number[], deadlineMs: number): Promise<number> {
  const t0 = performance.now();
  const pending = new Set(ports);
  while (pending.size && performance.now() - t0 < deadlineMs) {
    await Promise.all([...pending].map(async (p) => {
      if (await answers(p)) pending.delete(p);
    }));
    if (pending.size) await new Promise((r) => setTimeout(r, 50));
  }
  if (pending.size) throw new Error(`${pending.size} forwards never answered`);
  return performance.now() - t0;
}

/** A simulated `kubectl port-forward` started directly, without the supervisor (the reference). */
function directForward(
  h: SimHost,
  service: string,
  local: number,
  port: number,
): Deno.ChildProcess {
  return new Deno.Command(`${ROOT}/test/sim/bin/kubectl`, {
    args: [
      "--context",
      "k3d-firestream-local",
      "-n",
      "default",
      "port-forward",
      `svc/${service}`,
      `${local}:${port}`,
      "--address",
      "127.0.0.1",
    ],
    env: h.env,
    clearEnv: true,
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function portForwarding(count: number): Promise<void> {
  console.log(`\n## port forwarding, ${count} services (simulated kubectl, real TCP on loopback)`);
  row("", "firestream", "reference");
  const offset = 30000;
  const h = await simHost({
    config: testConfig().replace(
      "port_forward_all = false\n",
      `port_forward_all = false\nport_offset = ${offset}\n`,
    ),
  });
  try {
    await h.ok(["cluster", "create", "--yes"]);
    h.kube("firestream-local", (k, { addService }) => {
      for (let i = 0; i < count; i++) {
        addService(k, { namespace: "default", name: `svc-${i}`, ports: [1000 + i] });
      }
    });
    const ports = Array.from({ length: count }, (_, i) => 1000 + i + offset);

    // reference: the same kubectl processes started directly, no supervisor
    const refPorts = ports.map((p) => p + 2000);
    const t0 = performance.now();
    const direct = refPorts.map((p, i) => directForward(h, `svc-${i}`, p, 1000 + i));
    await allAnswer(refPorts, 120_000);
    const ref = performance.now() - t0;
    for (const c of direct) c.kill("SIGKILL");
    await Promise.all(direct.map((c) => c.status));

    const t1 = performance.now();
    await h.ok(["cluster", "port-forward", "--detach"]);
    await allAnswer(ports, 120_000);
    const ours = performance.now() - t1;
    row(
      `time until all ${count} forwards answer`,
      `${(ours / 1000).toFixed(1)}s`,
      `${(ref / 1000).toFixed(1)}s`,
      "reference: the same processes started directly",
    );

    const entries = JSON.parse(Deno.readTextFileSync(`${h.projectDir}/logs/port_forwards.json`));
    const victim = entries[0];
    const t2 = performance.now();
    Deno.kill(victim.pid, "SIGKILL");
    while (await answers(victim.local_port)) await new Promise((r) => setTimeout(r, 5));
    await allAnswer([victim.local_port], 30_000);
    const healed = performance.now() - t2;
    const t3 = performance.now();
    const one = directForward(h, "svc-1", refPorts[1], 1001);
    await allAnswer([refPorts[1]], 30_000);
    const fresh = performance.now() - t3;
    one.kill("SIGKILL");
    await one.status;
    row(
      "a killed forward answers again",
      `${healed.toFixed(0)}ms`,
      `${fresh.toFixed(0)}ms`,
      "reference: one kubectl started from nothing",
    );

    const { residentKiB } = await import("../src/tools/process.ts");
    const supervisor = JSON.parse(
      Deno.readTextFileSync(`${h.projectDir}/.firestream/port-forward.firestream-local.pid`),
    ).pid;
    const idle = new Deno.Command(Deno.execPath(), {
      args: ["eval", "await new Promise((r) => setTimeout(r, 3000))"],
      stdout: "null",
    }).spawn();
    await new Promise((r) => setTimeout(r, 1000));
    const mine = residentKiB(supervisor);
    const base = residentKiB(idle.pid);
    idle.kill();
    await idle.status;
    row(
      "supervisor memory (RSS)",
      `${((mine ?? 0) / 1024).toFixed(0)}MiB`,
      `${((base ?? 0) / 1024).toFixed(0)}MiB`,
      "reference: an idle deno process",
    );
    await h.ok(["cluster", "port-forward", "--stop"]);
  } finally {
    await h.cleanup();
  }
}

await portForwarding(Number(Deno.env.get("BENCH_SERVICES") ?? 100));
