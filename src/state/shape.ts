/** The structure a state file must have; the first problem is named by its path in the file. */
import {
  array,
  boolean,
  literal,
  looseObject,
  number,
  oneOf,
  record,
  string,
} from "../config/shape.ts";

const route = looseObject({
  cidr: string(),
  via: string(),
  replaced_via: string().optional(),
});

const resources = looseObject({
  registry: looseObject({
    name: string(),
    container: string(),
    host: string(),
    port: number().int(),
    created: boolean(),
    with_cluster: boolean().optional(),
  }).optional(),
  cluster: looseObject({
    config_file: string(),
    context: string(),
    created: boolean(),
  }).optional(),
  tls: looseObject({
    cert: string(),
    key: string(),
    secret: looseObject({ name: string(), namespaces: array(string()) }),
  }).optional(),
  routes: array(route).optional(),
  ingress_dns: looseObject({
    domain: string(),
    addresses: array(string()),
    key: string(),
    configmap_created: boolean(),
  }).optional(),
  dns: looseObject({
    mode: oneOf(["resolved", "resolv.conf", "macos-resolver"]),
    interface: string().optional(),
    file: string().optional(),
    server: string(),
    domains: array(string()),
  }).optional(),
  hosts_block: looseObject({ file: string(), lines: array(string()) }).optional(),
  port_forwards: looseObject({ pid_file: string(), offset: number() }).optional(),
});

// typed where present: records of imported clusters and older files may lack keys
const k3dConfig = looseObject({
  name: string(),
  servers: number().int(),
  agents: number().int(),
  k3s_version: string(),
  registry: looseObject({ enabled: boolean(), name: string(), port: number().int() }),
  tls: looseObject({
    enabled: boolean(),
    secret_name: string(),
    namespaces: array(string()),
  }),
  network: looseObject({ pod_cidr: string(), service_cidr: string() }),
}).partial();

const clusterRecord = looseObject({
  name: string(),
  cluster_type: literal("k3d"),
  managed: boolean(),
  k3d_config: k3dConfig,
  profile: string().optional(),
  resources,
});

/** The whole state document (the names of cluster records are checked by {@link stateShapeProblem}). */
export const stateDocument = looseObject({
  version: number().int(),
  lineage: string().min(1),
  serial: number().int().min(0),
  clusters: record(clusterRecord),
});

/** What is wrong with the structure of a parsed state file, or undefined when nothing is. */
export function stateShapeProblem(doc: unknown): string | undefined {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return "not a JSON object";
  const result = stateDocument.check(doc);
  if (!result.ok) {
    const issue = result.issue;
    const path = issue.path.join(".");
    const what = issue.code === "invalid_type"
      ? `must be ${issue.expected === "record" ? "an object" : `${article(issue.expected)}`}${
        Array.isArray(issue.input) ? ", found an array" : ""
      }`
      : issue.message;
    return `\`${path}\` ${what}`;
  }
  for (const [name, rec] of Object.entries(result.value.clusters)) {
    if (rec.name !== name) return `\`clusters.${name}.name\` is "${rec.name}", not "${name}"`;
  }
  return undefined;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
