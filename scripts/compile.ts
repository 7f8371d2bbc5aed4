/**
 * Builds one self-contained binary per platform: dist/firestream-<os>-<arch>, plus SHA256SUMS.
 * `--list` prints the targets; `--target T` (repeatable) builds only those; `--out-dir DIR` writes
 * elsewhere than dist/. DENORT_BIN is passed to `deno compile` so a locally available runtime can be
 * used where the download is blocked. The binary for this machine's own target is run once with
 * `--version`: a build whose runtime is not a denort (e.g. DENORT_BIN naming deno itself) fails here.
 */
import $ from "dax";
import { stripAnsi } from "../src/ui/ansi.ts";
import { SUPERVISOR_V8_FLAGS } from "../src/portforward/control.ts";
import meta from "../deno.json" with { type: "json" };

/** Every platform a release ships for. */
export const TARGETS = [
  { target: "x86_64-unknown-linux-gnu", file: "firestream-linux-x86_64" },
  { target: "aarch64-unknown-linux-gnu", file: "firestream-linux-aarch64" },
  { target: "x86_64-apple-darwin", file: "firestream-darwin-x86_64" },
  { target: "aarch64-apple-darwin", file: "firestream-darwin-aarch64" },
];

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

/** Where a `denort` for `target` comes from, for the hint. */
function denortHint(target: string): string {
  return `DENORT_BIN must name a denort binary for ${target}: unzip denort-${target}.zip from the ` +
    `Deno release of the same version (deno ${Deno.version.deno}), or unset DENORT_BIN so that ` +
    "`deno compile` downloads it";
}

/** Runs a freshly built binary for this machine; the reason it is not Firestream, or undefined. */
async function smokeTest(path: string): Promise<string | undefined> {
  const r = await $`${path} --version`.noThrow().stdout("piped").stderr("piped").timeout("30s");
  const first = stripAnsi(r.stdout).trim().split("\n")[0] ?? "";
  if (r.code === 0 && first.startsWith(`firestream ${meta.version}`)) return undefined;
  return `\`${path} --version\` printed "${first || stripAnsi(r.stderr).trim().split("\n")[0]}" ` +
    `(exit ${r.code}), not "firestream ${meta.version}"`;
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

if (import.meta.main) {
  const args = [...Deno.args];
  if (args.includes("--list")) {
    for (const t of TARGETS) console.log(`${t.target}\tdist/${t.file}`);
    Deno.exit(0);
  }
  const wanted = args.flatMap((a, i) => (a === "--target" ? [args[i + 1]] : []));
  const unknown = wanted.filter((w) => !TARGETS.some((t) => t.target === w));
  if (unknown.length) {
    console.error(`error: unknown target ${unknown.join(", ")}; see \`deno task compile --list\``);
    Deno.exit(1);
  }
  const selected = wanted.length ? TARGETS.filter((t) => wanted.includes(t.target)) : TARGETS;
  const outFlag = args.indexOf("--out-dir");
  const outArg = outFlag >= 0 ? args[outFlag + 1] : `${ROOT}/dist`;
  if (!outArg) {
    console.error("error: --out-dir needs a directory");
    Deno.exit(1);
  }
  const outDir = outArg.startsWith("/") ? outArg : `${Deno.cwd()}/${outArg}`;
  await Deno.mkdir(outDir, { recursive: true });
  // deno.json's lazy dynamic imports would leave every command out of the binary: compile with a
  // copy without them, beside deno.json so that deno.lock is the same
  const config = `${ROOT}/.deno.compile.${Deno.pid}.json`;
  const { unstable: _, ...eager } = meta as Record<string, unknown>;
  await Deno.writeTextFile(config, JSON.stringify(eager));
  addEventListener("unload", () => Deno.removeSync(config));
  const built: string[] = [];
  let failed = false;
  for (const t of selected) {
    const out = `${outDir}/${t.file}`;
    console.error(`→ ${t.target} (firestream ${meta.version}) → ${out}`);
    const r =
      await $`deno compile -A --config ${config} --v8-flags=${SUPERVISOR_V8_FLAGS} --target ${t.target} --output ${out} main.ts`
        .cwd(ROOT).noThrow().stderr("piped");
    if (r.code !== 0) {
      failed = true;
      const text = stripAnsi(r.stderr).trim().split("\n").slice(-4).join(
        "\n    ",
      );
      console.error(`✗ ${t.target}:\n    ${text}`);
      if (/denort|download/i.test(r.stderr)) {
        console.error(`  the runtime download failed or is blocked; ${denortHint(t.target)}`);
      }
      continue;
    }
    if (t.target === Deno.build.target) {
      const wrong = await smokeTest(out);
      if (wrong) {
        failed = true;
        await Deno.remove(out).catch(() => {});
        console.error(`✗ ${t.target}: ${wrong}; ${denortHint(t.target)}`);
        continue;
      }
    }
    built.push(t.file);
    console.error(`✓ ${out}`);
  }
  if (built.length) {
    const lines = await Promise.all(
      built.map(async (f) => `${await sha256(`${outDir}/${f}`)}  ${f}`),
    );
    await Deno.writeTextFile(`${outDir}/SHA256SUMS`, lines.join("\n") + "\n");
    console.error(`wrote ${outDir}/SHA256SUMS (${built.length} file(s))`);
  }
  Deno.exit(failed ? 1 : 0);
}
