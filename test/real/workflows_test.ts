/** The GitHub workflows are checked here, with a maintained validator, so a broken one fails before a tag does. */
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { assertEquals, assertMatch, assertOk } from "../assert.ts";

const DIR = new URL("../../.github/workflows/", import.meta.url);
const WORKFLOWS = ["ci.yml", "release.yml", "live.yml"];

for (const file of WORKFLOWS) {
  Deno.test(`workflows: ${file} passes action-validator`, async () => {
    const text = await Deno.readTextFile(new URL(file, DIR));
    const state = validateWorkflow(text);
    assertEquals(state.errors, [], JSON.stringify(state.errors, null, 2));
  });
}

Deno.test("workflows: the validator refuses a broken workflow (a misspelt key)", () => {
  const broken =
    "on: push\njobs:\n  a:\n    runs-onn: ubuntu-latest\n    steps:\n      - run: true\n";
  assertOk(validateWorkflow(broken).errors.length > 0);
});

Deno.test("workflows: each runs what it says: .ci/run, the four targets with a smoke run, the live suite", async () => {
  const read = async (f: string) => parse(await Deno.readTextFile(new URL(f, DIR)));
  const ci = await read("ci.yml");
  assertMatch(JSON.stringify(ci.jobs), /bash \.ci\/run/);
  const release = await read("release.yml");
  assertEquals(release.on.push.tags, ["v*"]);
  assertMatch(JSON.stringify(release.jobs.build), /deno task compile/);
  const smoke = release.jobs.smoke.strategy.matrix.include.map((m: { file: string }) => m.file);
  assertEquals(smoke, ["firestream-linux-x86_64", "firestream-darwin-aarch64"]);
  assertMatch(JSON.stringify(release.jobs.publish), /gh release create/);
  const live = await read("live.yml");
  assertMatch(JSON.stringify(live.jobs.live), /FIRESTREAM_LIVE=1 deno test -A test\/live\//);
  assertMatch(live.env.K3D_VERSION, /^v5\.\d+\.\d+$/);
});
