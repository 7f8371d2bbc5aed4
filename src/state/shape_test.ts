import { assertEquals } from "../../test/assert.ts";
import { stateShapeProblem } from "./shape.ts";

const record = {
  name: "dev",
  cluster_type: "k3d",
  managed: true,
  k3d_config: { name: "dev", agents: 2 },
  resources: { routes: [{ cidr: "10.42.0.0/16", via: "172.18.0.3" }] },
};
const doc = { version: 1, lineage: "l", serial: 4, clusters: { dev: record } };

Deno.test("state shape: a good document passes; each wrong structure is named by its path", () => {
  assertEquals(stateShapeProblem(doc), undefined);
  const cases: [unknown, string][] = [
    [[], "not a JSON object"],
    [{ ...doc, clusters: [record] }, "`clusters` must be an object, found an array"],
    [{ ...doc, lineage: 7 }, "`lineage` must be a string"],
    [
      { ...doc, clusters: { dev: { ...record, resources: undefined } } },
      "`clusters.dev.resources`",
    ],
    [
      { ...doc, clusters: { dev: { ...record, resources: { routes: "10.42.0.0/16" } } } },
      "`clusters.dev.resources.routes` must be an array",
    ],
    [
      { ...doc, clusters: { dev: { ...record, k3d_config: { agents: "3" } } } },
      "`clusters.dev.k3d_config.agents` must be a number",
    ],
    [{ ...doc, clusters: { other: record } }, '`clusters.other.name` is "dev", not "other"'],
  ];
  for (const [input, expected] of cases) {
    const problem = stateShapeProblem(input) ?? "";
    assertEquals(problem.startsWith(expected), true, `${JSON.stringify(input)}: ${problem}`);
  }
});

Deno.test("state shape: messages name the path and what it must be", () => {
  const dns = { mode: "dns", server: "127.0.0.1", domains: [] };
  const cases: [unknown, string][] = [
    [{ ...doc, version: 1.5 }, "`version` must be an int"],
    [{ ...doc, serial: -1 }, "`serial` Too small: expected number to be >=0"],
    [{ ...doc, lineage: "" }, "`lineage` Too small: expected string to have >=1 characters"],
    [
      { ...doc, clusters: { x: { ...record, k3d_config: 1 } } },
      "`clusters.x.k3d_config` must be an object",
    ],
    [
      { ...doc, clusters: { dev: { ...record, cluster_type: "kind" } } },
      '`clusters.dev.cluster_type` Invalid input: expected "k3d"',
    ],
    [
      { ...doc, clusters: { dev: { ...record, resources: { dns } } } },
      '`clusters.dev.resources.dns.mode` Invalid option: expected one of "resolved"|"resolv.conf"|"macos-resolver"',
    ],
    [
      { ...doc, clusters: { dev: { ...record, resources: { routes: [{ cidr: "c" }] } } } },
      "`clusters.dev.resources.routes.0.via` must be a string",
    ],
  ];
  for (const [input, expected] of cases) assertEquals(stateShapeProblem(input), expected);
});

Deno.test("state shape: a cluster may have any name a cluster can have, `constructor` too", () => {
  const text = JSON.stringify({
    ...doc,
    clusters: { constructor: { ...record, name: "constructor" } },
  });
  assertEquals(stateShapeProblem(JSON.parse(text)), undefined);
  assertEquals(
    stateShapeProblem(JSON.parse(JSON.stringify({ ...doc, clusters: { constructor: null } }))),
    "`clusters.constructor` must be an object",
  );
});
