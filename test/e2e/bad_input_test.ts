/** Bad input: one clear line naming the key or flag, exit 1, no mutating command, state byte-identical. */
import fc from "fast-check";
import { stringify } from "smol-toml";
import { assertEquals, assertMatch } from "../assert.ts";
import { HOSTILE_FIELDS, rawWith } from "../hostile.ts";
import { testConfig, withSimHost } from "../sim/harness.ts";

/** [what is wrong, config text or undefined for the good one, extra args, expected message part] */
const CASES: [string, string | undefined, string[], string][] = [
  [
    "unknown key with a near miss",
    "[cluster.k3d]\nagent = 3\n",
    [],
    "unknown key `cluster.k3d.agent`; did you mean `agents`?",
  ],
  [
    "unknown table",
    "[cluster.k3s]\nname = 'x'\n",
    [],
    "unknown key `cluster.k3s`; did you mean `k3d`?",
  ],
  ["TOML syntax", "[cluster.k3d\nname = 'x'\n", [], "firestream.toml:1:"],
  [
    "servers below 1",
    "[cluster.k3d]\nservers = 0\n",
    [],
    "`cluster.k3d.servers` = 0: must be at least 1",
  ],
  [
    "negative agents",
    "[cluster.k3d]\nagents = -1\n",
    [],
    "`cluster.k3d.agents` = -1: must be at least 0",
  ],
  [
    "port above 65535",
    "[cluster.k3d]\napi_port = 70000\n",
    [],
    "`cluster.k3d.api_port` = 70000: must be at most 65535",
  ],
  [
    "ports not distinct",
    "[cluster.k3d]\napi_port = 6550\nhttp_port = 6550\n",
    [],
    "`cluster.k3d.http_port` = 6550: port 6550 is already used by cluster.k3d.api_port",
  ],
  [
    "uppercase cluster name",
    "[cluster.k3d]\nname = 'My_Cluster'\n",
    [],
    '`cluster.k3d.name` = "My_Cluster": must be a lowercase hostname',
  ],
  ["cluster name over 32", `[cluster.k3d]\nname = '${"a".repeat(33)}'\n`, [], "`cluster.k3d.name`"],
  [
    "bad k3s version",
    "[cluster.k3d]\nk3s_version = '1.31'\n",
    [],
    '`cluster.k3d.k3s_version` = "1.31": must look like v1.31.2-k3s1',
  ],
  [
    "bad CIDR",
    "[cluster.k3d.network]\npod_cidr = '10.42.0.0/33'\n",
    [],
    '`cluster.k3d.network.pod_cidr` = "10.42.0.0/33": must be an IPv4 CIDR',
  ],
  [
    "overlapping CIDRs",
    "[cluster.k3d.network]\nservice_cidr = '10.42.128.0/17'\n",
    [],
    "overlaps pod_cidr",
  ],
  [
    "bad email",
    "[cluster.k3d.tls.certificate]\nemail = 'admin'\n",
    [],
    '`cluster.k3d.tls.certificate.email` = "admin": must be an email address',
  ],
  [
    "port_offset zero",
    "[cluster.k3d.dev_mode]\nport_offset = 0\n",
    [],
    "`cluster.k3d.dev_mode.port_offset` = 0: must be at least 1",
  ],
  [
    "wrong type",
    "[cluster.k3d]\nagents = 'three'\n",
    [],
    '`cluster.k3d.agents` = "three": must be a number, found a string',
  ],
  [
    "pod CIDR of half the internet",
    "[cluster.k3d.network]\npod_cidr = '128.0.0.0/1'\n",
    [],
    '`cluster.k3d.network.pod_cidr` = "128.0.0.0/1": overlaps link-local',
  ],
  [
    "service CIDR on loopback",
    "[cluster.k3d.network]\nservice_cidr = '127.0.0.0/8'\n",
    [],
    '`cluster.k3d.network.service_cidr` = "127.0.0.0/8": overlaps loopback',
  ],
  [
    "public pod CIDR",
    "[cluster.k3d.network]\npod_cidr = '8.8.0.0/16'\n",
    [],
    "is not a private range",
  ],
  [
    "CIDR prefix too long",
    "[cluster.k3d.network]\npod_cidr = '10.42.0.0/30'\n",
    [],
    "prefix /30 is outside /8–/28",
  ],
  [
    "wildcard in network.hosts",
    "[cluster.k3d.network]\nhosts = ['*.example']\n",
    [],
    '`cluster.k3d.network.hosts.0` = "*.example": must be a host name (RFC 1123',
  ],
  [
    "newline in network.hosts",
    '[cluster.k3d.network]\nhosts = ["ok.local", "a.local\\n10.0.0.1 evil"]\n',
    [],
    "`cluster.k3d.network.hosts.1`",
  ],
  [
    "dotted TLS namespace",
    "[cluster.k3d.tls]\nnamespaces = ['my.namespace']\n",
    [],
    '`cluster.k3d.tls.namespaces.0` = "my.namespace": must be a namespace name (DNS-1123 label',
  ],
  [
    "dev mode namespace with a space",
    "[cluster.k3d.dev_mode]\nnamespaces = ['my apps']\n",
    [],
    '`cluster.k3d.dev_mode.namespaces.0` = "my apps": must be a namespace name',
  ],
  [
    "secret name Kubernetes refuses",
    "[cluster.k3d.tls]\nsecret_name = 'Web_TLS'\n",
    [],
    '`cluster.k3d.tls.secret_name` = "Web_TLS": must be a Kubernetes object name (DNS-1123 subdomain',
  ],
  ["flag out of range", undefined, ["--servers", "0"], "--servers = 0: must be at least 1"],
  ["flag not a number", undefined, ["--agents", "many"], "--agents must be a whole number"],
  [
    "flag bad name",
    undefined,
    ["--name", "Bad Name"],
    '--name = "Bad Name": must be a lowercase hostname',
  ],
  ["unknown flag", undefined, ["--agnets", "3"], "unknown option '--agnets'"],
  ["missing --config file", undefined, ["--config", "nope.toml"], "config file"],
];

/** Two sampled hostile values of every field that reaches a host file or a tool (fixed seed). */
const HOSTILE_CASES: typeof CASES = HOSTILE_FIELDS.flatMap((f) =>
  fc.sample(f.hostile, { numRuns: 2, seed: 16 }).map((value): (typeof CASES)[number] => [
    `hostile ${f.key} = ${JSON.stringify(value).slice(0, 60)}`,
    stringify(rawWith(f.key, value)),
    [],
    `\`${f.key}`,
  ])
);

Deno.test("bad configs and flags are refused with the key named, nothing runs, state untouched", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const good = Deno.readTextFileSync(`${h.projectDir}/firestream.toml`);
    const before = h.stateBytes();
    for (const [what, config, args, expected] of [...CASES, ...HOSTILE_CASES]) {
      h.writeConfig(config ?? good);
      h.clearCalls();
      const r = await h.run(["cluster", "create", "--yes", ...args]);
      assertEquals(r.code, 1, `${what}: exit ${r.code}\n${r.stderr}`);
      assertMatch(r.stderr, expected, `${what}: ${r.stderr}`);
      const errorLines = r.stderr.split("\n").filter((l) => l.startsWith("error"));
      assertEquals(errorLines.length, 1, `${what}: one error line expected:\n${r.stderr}`);
      assertEquals(
        h.calls().length,
        0,
        `${what}: called ${h.calls().map((c) => c.tool + " " + c.argv.join(" "))}`,
      );
      assertEquals(h.stateBytes(), before, `${what}: state changed`);
    }
  });
});
