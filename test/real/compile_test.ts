/** `deno task compile` checks the binary it built for this machine before calling it a success. */
import { assertEquals, assertMatch } from "../assert.ts";
import { run } from "./require.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("compile: a runtime that is not a denort (deno itself as DENORT_BIN) fails naming DENORT_BIN", async () => {
  const out = await Deno.makeTempDir({ prefix: "firestream-compile-" });
  try {
    const r = await run(
      Deno.execPath(),
      ["run", "-A", "scripts/compile.ts", "--target", Deno.build.target, "--out-dir", out],
      { cwd: ROOT, env: { DENORT_BIN: Deno.execPath(), NO_COLOR: "1" } },
    );
    assertEquals(r.code, 1, r.stderr);
    assertMatch(r.stderr, /--version` printed "deno /);
    assertMatch(r.stderr, /DENORT_BIN must name a denort binary for /);
    assertMatch(r.stderr, /denort-[a-z0-9_-]+\.zip/);
    // the wrong binary is not left behind to be shipped, and no checksum names it
    assertEquals([...Deno.readDirSync(out)].map((e) => e.name), []);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
