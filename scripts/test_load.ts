/**
 * Runs `deno task test` (same filter words) while busy loops keep every core loaded, as on a shared
 * CI machine, then stops the loops whatever happened and prints the total time. The loops also end
 * by themselves within a moment when this process is gone (even after `kill -9`).
 * `FIRESTREAM_TEST_LOAD=N` sets how many loops run (default 2: one per core of the smallest CI).
 */
const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const loops = Number(Deno.env.get("FIRESTREAM_TEST_LOAD") ?? "2");
if (!Number.isInteger(loops) || loops < 0) {
  console.error(
    `error: FIRESTREAM_TEST_LOAD=${
      Deno.env.get("FIRESTREAM_TEST_LOAD")
    } is not a number of loops; ` +
      "give a whole number such as 2",
  );
  Deno.exit(1);
}

// pure arithmetic in the shell; every 200000 rounds it looks whether its parent is still there
const BUSY = 'parent=$1; while kill -0 "$parent" 2>/dev/null; do i=0; ' +
  "while [ $i -lt 200000 ]; do i=$((i+1)); done; done";

const busy: Deno.ChildProcess[] = [];
for (let n = 0; n < loops; n++) {
  busy.push(
    new Deno.Command("sh", {
      args: ["-c", BUSY, "sh", String(Deno.pid)],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn(),
  );
}

function stopLoops(): void {
  for (const b of busy) {
    try {
      b.kill("SIGKILL");
    } catch { /* already gone */ }
  }
}

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
let test: Deno.ChildProcess | undefined;
// Ctrl-C or a TERM reaches the test run (its own group gets the terminal's); the loops go at once
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    stopLoops();
    try {
      test?.kill(signal);
    } catch { /* already gone */ }
  });
}

let code = 1;
try {
  console.log(`${loops} busy loop(s) running (pids ${busy.map((b) => b.pid).join(" ")})`);
  test = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/scripts/test.ts`, ...Deno.args],
    cwd: ROOT,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  code = (await test.status).code;
} finally {
  stopLoops();
  await Promise.all(busy.map((b) => b.status));
}
console.log(`under load (${loops} busy loops): ${elapsed()} in total, exit ${code}`);
Deno.exit(code);
