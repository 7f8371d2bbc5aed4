/** The README's way from a clone to a `firestream` command, run as written. */
import { assertEquals, assertMatch } from "../assert.ts";
import { run } from "./require.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
/** Deno's module cache, kept for the command under a bare environment (no second download). */
const DENO_DIR = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;

Deno.test("install: `deno task install` gives a firestream command that runs from any folder", async () => {
  const root = await Deno.makeTempDir({ prefix: "firestream-install-" });
  const empty = await Deno.makeTempDir({ prefix: "firestream-empty-" });
  try {
    const installed = await run(Deno.execPath(), ["task", "install"], {
      cwd: ROOT,
      env: { DENO_INSTALL_ROOT: root, NO_COLOR: "1" },
    });
    assertEquals(installed.code, 0, installed.stderr);
    // only deno and the new command on PATH: no k3d, docker or kubectl
    await Deno.symlink(Deno.execPath(), `${root}/bin/deno`);
    const env = {
      PATH: `${root}/bin`,
      HOME: root,
      DENO_DIR,
      NO_COLOR: "1",
      FIRESTREAM_DNS_PROBE: "off",
    };
    const fs = (...args: string[]) => run(`${root}/bin/firestream`, args, { cwd: empty, env });

    const version = await fs("--version");
    assertEquals(version.code, 0, version.stderr);
    assertMatch(version.stdout, /^firestream \d+\.\d+\.\d+ /);
    const help = await fs("--help");
    assertMatch(help.stdout, /Usage: firestream/);

    // an empty folder: the defaults, said on the first line, then the missing tool, and no state
    const plan = await fs("plan");
    assertEquals(plan.code, 1);
    const lines = plan.stderr.trim().split("\n");
    assertMatch(
      lines[0],
      /^no firestream\.toml in .*: using the built-in defaults \(cluster firestream-local\)/,
    );
    assertMatch(plan.stderr, /error: k3d is not installed/);
    assertEquals([...Deno.readDirSync(empty)], []);
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(empty, { recursive: true });
  }
});
