/** The structure a state file must have; the first problem is named by its path in the file. */
import { z } from "zod";

const route = z.looseObject({
  cidr: z.string(),
  via: z.string(),
  replaced_via: z.string().optional(),
});

const resources = z.looseObject({
  registry: z.looseObject({
    name: z.string(),
    container: z.string(),
    host: z.string(),
    port: z.number().int(),
    created: z.boolean(),
  }).optional(),
  cluster: z.looseObject({
    config_file: z.string(),
    context: z.string(),
    created: z.boolean(),
  }).optional(),
  tls: z.looseObject({
    cert: z.string(),
    key: z.string(),
    secret: z.looseObject({ name: z.string(), namespaces: z.array(z.string()) }),
  }).optional(),
  routes: z.array(route).optional(),
  dns: z.looseObject({
    mode: z.enum(["resolved", "resolv.conf", "macos-resolver"]),
    interface: z.string().optional(),
    file: z.string().optional(),
    server: z.string(),
    domains: z.array(z.string()),
  }).optional(),
  hosts_block: z.looseObject({ file: z.string(), lines: z.array(z.string()) }).optional(),
  port_forwards: z.looseObject({ pid_file: z.string(), offset: z.number() }).optional(),
});

// typed where present: records of imported clusters and older files may lack keys
const k3dConfig = z.looseObject({
  name: z.string(),
  servers: z.number().int(),
  agents: z.number().int(),
  k3s_version: z.string(),
  registry: z.looseObject({ enabled: z.boolean(), name: z.string(), port: z.number().int() }),
  tls: z.looseObject({
    enabled: z.boolean(),
    secret_name: z.string(),
    namespaces: z.array(z.string()),
  }),
  network: z.looseObject({ pod_cidr: z.string(), service_cidr: z.string() }),
}).partial();

const record = z.looseObject({
  name: z.string(),
  cluster_type: z.literal("k3d"),
  managed: z.boolean(),
  k3d_config: k3dConfig,
  resources,
});

const document = z.looseObject({
  version: z.number().int(),
  lineage: z.string().min(1),
  serial: z.number().int().min(0),
  clusters: z.record(z.string(), record),
});

/** What is wrong with the structure of a parsed state file, or undefined when nothing is. */
export function stateShapeProblem(doc: unknown): string | undefined {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return "not a JSON object";
  const result = document.safeParse(doc, { reportInput: true });
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue.path.map(String).join(".");
    const what = issue.code === "invalid_type"
      ? `must be ${issue.expected === "record" ? "an object" : `${article(issue.expected)}`}${
        "input" in issue && Array.isArray(issue.input) ? ", found an array" : ""
      }`
      : issue.message;
    return `\`${path}\` ${what}`;
  }
  for (const [name, rec] of Object.entries(result.data.clusters)) {
    if (rec.name !== name) return `\`clusters.${name}.name\` is "${rec.name}", not "${name}"`;
  }
  return undefined;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
