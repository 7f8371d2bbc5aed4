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
