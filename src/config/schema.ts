/** The `firestream.toml` schema: every key of the seed's example, with its values as defaults. */
import {
  array,
  boolean,
  type Infer,
  number,
  patternOf,
  type Problem,
  type Shape,
  strictObject,
  string,
} from "./shape.ts";
import { cidrsOverlap, clusterCidrProblem, parseCidr } from "./cidr.ts";

const port = number().int().min(1).max(65535);

/** A k3d cluster name: a lowercase DNS label of at most 32 characters. */
export const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

/**
 * A name made from a folder's last part ("My App" → "my-app"), usable as a cluster name (at most 32
 * characters), or undefined when nothing of it is usable.
 */
export function folderName(dir: string): string | undefined {
  const base = dir.replace(/\/+$/, "");
  const name = base.slice(base.lastIndexOf("/") + 1).toLowerCase().replace(/[^a-z0-9-]+/g, "-")
    .slice(0, 32).replace(/^-+|-+$/g, "");
  return CLUSTER_NAME.test(name) ? name : undefined;
}
/** A k3s image tag. */
export const K3S_VERSION = /^v\d+\.\d+\.\d+-k3s\d+$/;
/** A host name (RFC 1123): dot-separated labels of letters, digits and inner hyphens; no wildcard. */
export const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
/** A certificate name: a host name, or one whose first label is the wildcard `*`. */
export const CERT_NAME =
  /^(\*\.)?(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
/** A Kubernetes DNS-1123 label (namespaces): lowercase, at most 63 characters. */
export const DNS1123_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A Kubernetes DNS-1123 subdomain (object names such as secrets): at most 253 characters. */
export const DNS1123_SUBDOMAIN =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** An email address, loosely. */
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Control characters: refused in free text. */
// deno-lint-ignore no-control-regex
export const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A list of `min` to `max` distinct entries. */
function list(item: Shape<string>, max: number, min = 0) {
  return array(item).min(min).max(max).refine(
    (a) => new Set(a).size === a.length,
    "lists an entry twice; each must appear once",
    { uniqueItems: true },
  );
}

/** Free text without control characters (newlines, tabs, escapes). */
function text(fallback: string) {
  return string().min(1).refine(
    (s) => !CONTROL.test(s),
    "must not contain control characters such as newlines or tabs",
    { pattern: `^[^${CONTROL.source.slice(1, -1)}]*$` },
  ).default(fallback);
}

/** k3s's own pod network: the default, and the one k3s needs no argument for. */
export const K3S_POD_CIDR = "10.42.0.0/16";
/** k3s's own service network: the default, and the one k3s needs no argument for. */
export const K3S_SERVICE_CIDR = "10.43.0.0/16";

// JSON Schema states the form; the ranges are checked by the loader (see the README's network rules)
const cidr = string().verify(clusterCidrProblem, {
  pattern: "^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$",
});

/** `[project]` */
export const projectSchema = strictObject({
  name: text("my-firestream-project").describe("project name"),
  environment: text("development").describe("free text"),
});

/** `[cluster.k3d.registry]` */
export const registrySchema = strictObject({
  enabled: boolean().default(true).describe("create (or reuse) a local registry"),
  name: string().regex(HOSTNAME, "must be a host name (RFC 1123) such as registry.localhost")
    .default("registry.localhost").describe(
      "registry name; firestream makes container `k3d-<name>`, one k3d made with the cluster is `<name>`",
    ),
  port: port.default(5000).describe("registry on 127.0.0.1:<port>"),
});

/** `[cluster.k3d.tls.certificate]` */
export const certificateSchema = strictObject({
  country: string().length(2, "must be a two-letter country code such as US").default("US")
    .describe("subject C (two letters)"),
  state: text("New Mexico").describe("subject ST"),
  locality: text("Roswell").describe("subject L"),
  organization: text("ACME Co, LLC.").describe("subject O"),
  organizational_unit: text("ACME Department").describe("subject OU"),
  common_name: string().regex(
    CERT_NAME,
    "must be a host name, optionally starting with `*.`, such as *.firestream.local",
  ).default("*.firestream.local").describe("subject CN and the first name the certificate covers"),
  email: string().regex(EMAIL, "must be an email address").default("admin@firestream.local")
    .describe("subject emailAddress"),
});

/** `[cluster.k3d.tls]` */
export const tlsSchema = strictObject({
  enabled: boolean().default(true).describe("certificates and the TLS secret"),
  secret_name: string().regex(
    DNS1123_SUBDOMAIN,
    "must be a Kubernetes object name (DNS-1123 subdomain: lowercase a-z, 0-9, '-' and '.', at most 253 characters)",
  ).default("firestream-tls").describe("`kubernetes.io/tls` secret name"),
  certs_dir: text("~/certs").describe("where the CA and certificates live"),
  namespaces: list(namespace(), 100, 1).default(["default"]).describe(
    "namespaces that get the secret (plus kube-system for Traefik)",
  ),
  certificate: certificateSchema.prefault({}).describe("the certificate's subject"),
});

function namespace() {
  return string().regex(
    DNS1123_LABEL,
    "must be a namespace name (DNS-1123 label: lowercase a-z, 0-9 and '-', at most 63 characters)",
  );
}

/** `[cluster.k3d.network]` */
export const networkSchema = strictObject({
  configure_routes: boolean().default(true).describe(
    "routes to the pod and service networks (Linux)",
  ),
  configure_dns: boolean().default(true).describe("cluster DNS on the host, then a DNS test"),
  patch_etc_hosts: boolean().default(true).describe("a marked block in /etc/hosts"),
  pod_cidr: cidr.default(K3S_POD_CIDR).describe(
    "pod network (k3s --cluster-cidr): private, /8 to /28, clear of service_cidr",
  ),
  service_cidr: cidr.default(K3S_SERVICE_CIDR).describe(
    "service network (k3s --service-cidr, kube-dns at .10): private, /8 to /28, clear of pod_cidr",
  ),
  hosts: list(
    string().regex(
      HOSTNAME,
      "must be a host name (RFC 1123: letters, digits, '-' and '.'; no wildcard, no spaces)",
    ),
    256,
  ).default([]).describe("extra names for the hosts block and the certificate"),
});

/** The cluster's own DNS domain: no ingress domain may be it, under it, or above it. */
const CLUSTER_DNS_DOMAIN = "cluster.local";

/**
 * Public suffixes an ingress domain may not be: a short built-in list of the common ones (generic
 * top-level domains, country-code second levels, shared hosting and dynamic DNS domains), not the
 * whole Public Suffix List. A single-label name is refused on its own: every top-level domain is a
 * public suffix.
 */
export const PUBLIC_SUFFIXES = new Set([
  "co.uk",
  "org.uk",
  "ac.uk",
  "gov.uk",
  "com.au",
  "net.au",
  "org.au",
  "co.nz",
  "co.jp",
  "ne.jp",
  "or.jp",
  "com.br",
  "com.cn",
  "com.mx",
  "co.in",
  "co.za",
  "com.tr",
  "co.kr",
  "com.tw",
  "com.sg",
  "github.io",
  "gitlab.io",
  "pages.dev",
  "workers.dev",
  "vercel.app",
  "netlify.app",
  "herokuapp.com",
  "appspot.com",
  "azurewebsites.net",
  "cloudfront.net",
  "amazonaws.com",
  "blogspot.com",
  "nip.io",
  "sslip.io",
  "xip.io",
  "localho.st",
  "duckdns.org",
  "ngrok.io",
  "ngrok-free.app",
  "trycloudflare.com",
]);

/** What is wrong with `domain` as the ingress domain, or undefined. */
export function ingressDomainProblem(domain: string): string | undefined {
  const d = domain.toLowerCase();
  if (!HOSTNAME.test(d)) {
    return "must be a DNS name (RFC 1123: letters, digits, '-' and '.'; no wildcard, no spaces) such as firestream.local";
  }
  if (!d.includes(".")) {
    return "must have at least two labels (a single label is a top-level domain) such as firestream.local";
  }
  const cluster = CLUSTER_DNS_DOMAIN;
  if (d === cluster || d.endsWith(`.${cluster}`) || cluster.endsWith(`.${d}`)) {
    return `must not be ${cluster}, inside it or above it: the cluster's own names live there`;
  }
  if (d === "localhost" || d.endsWith(".localhost")) {
    return "must not be under localhost: resolvers answer those names themselves";
  }
  if (PUBLIC_SUFFIXES.has(d)) {
    return "is a public suffix: choose a name of your own under it, or a private one such as firestream.local";
  }
  return undefined;
}

/** `[cluster.k3d.ingress]` */
export const ingressSchema = strictObject({
  /** default: the parent of the certificate's wildcard common name (see {@link ingressDomain}) */
  domain: string().verify(ingressDomainProblem, {
    // JSON Schema states the form (a host name of two labels or more); the loader the rest
    allOf: [{ pattern: patternOf(HOSTNAME) }, { pattern: "\\." }],
  }).optional().describe(
    "names under it answer with Traefik (default: the wildcard common name's parent, e.g. firestream.local)",
  ),
  wildcard_dns: boolean().default(true).describe(
    "answer every name of the ingress domain, in the cluster and on the host",
  ),
});

/** The domain whose every name answers with the ingress: the configured one, else the wildcard certificate's. */
export function ingressDomain(k3d: K3dConfig): string {
  // a record written before the table existed has none
  const set = (k3d.ingress as K3dConfig["ingress"] | undefined)?.domain;
  if (set) return set.toLowerCase();
  const cn = k3d.tls.certificate.common_name.toLowerCase();
  return cn.startsWith("*.") && !ingressDomainProblem(cn.slice(2))
    ? cn.slice(2)
    : DEFAULT_INGRESS_DOMAIN;
}

/** The ingress domain when neither it nor a wildcard certificate names one. */
export const DEFAULT_INGRESS_DOMAIN = "firestream.local";

/** `[cluster.k3d.dev_mode]` */
export const devModeSchema = strictObject({
  port_forward_all: boolean().default(true).describe(
    "run the port-forward supervisor after create",
  ),
  port_offset: port.default(10000).describe("local port = service port + offset (8080 → 18080)"),
  namespaces: list(namespace(), 100).default([]).describe(
    "namespaces to forward (empty: all but kube-system, kube-public, kube-node-lease)",
  ),
});

/** `[cluster.k3d]` */
export const k3dSchema = strictObject({
  name: string().regex(
    CLUSTER_NAME,
    "must be a lowercase hostname of at most 32 characters (a-z, 0-9, '-')",
  ).default("firestream-local").describe("cluster name; kube context k3d-<name>"),
  api_port: port.default(6550).describe("Kubernetes API on 127.0.0.1:<port>"),
  http_port: port.default(80).describe("load balancer port 80 on 127.0.0.1:<port>"),
  https_port: port.default(443).describe("load balancer port 443 on 127.0.0.1:<port>"),
  servers: number().int().min(1).max(9).default(1).describe("server nodes"),
  agents: number().int().min(0).max(99).default(2).describe("agent nodes, changed in place"),
  k3s_version: string().regex(K3S_VERSION, "must look like v1.31.2-k3s1").default(
    "v1.31.2-k3s1",
  ).describe("image rancher/k3s:<version>"),
  registry: registrySchema.prefault({}).describe("the local registry"),
  tls: tlsSchema.prefault({}).describe("a local CA, the cluster's certificate and its secret"),
  network: networkSchema.prefault({}).describe("routes, DNS and /etc/hosts on the host"),
  ingress: ingressSchema.prefault({}).describe(
    "every name of one domain answered by the ingress (Traefik)",
  ),
  dev_mode: devModeSchema.prefault({}).describe("port forwards for development"),
});

/** The file's tables, each key checked on its own. */
const tables = strictObject({
  project: projectSchema.prefault({}).describe("the project"),
  cluster: strictObject({
    k3d: k3dSchema.prefault({}).describe("the k3d cluster Firestream keeps"),
  }).prefault({}).describe("the cluster"),
});

/** What is wrong between keys of a config whose keys are each right: ports, networks. */
export function crossKeyProblem(cfg: Infer<typeof tables>): Problem | undefined {
  const k = cfg.cluster.k3d;
  const ports: [string, number][] = [
    ["cluster.k3d.api_port", k.api_port],
    ["cluster.k3d.http_port", k.http_port],
    ["cluster.k3d.https_port", k.https_port],
  ];
  if (k.registry.enabled) ports.push(["cluster.k3d.registry.port", k.registry.port]);
  const seen = new Map<number, string>();
  for (const [key, value] of ports) {
    const other = seen.get(value);
    if (other) {
      return {
        path: key.split("."),
        message: `port ${value} is already used by ${other}; every port must be distinct`,
        input: value,
      };
    }
    seen.set(value, key);
  }
  const pod = parseCidr(k.network.pod_cidr);
  const svc = parseCidr(k.network.service_cidr);
  if (pod && svc && cidrsOverlap(pod, svc)) {
    return {
      path: ["cluster", "k3d", "network", "service_cidr"],
      message: `overlaps pod_cidr ${k.network.pod_cidr}; choose ranges that do not overlap`,
      input: k.network.service_cidr,
    };
  }
  return undefined;
}

/** The whole file. */
export const configSchema = tables.verify(crossKeyProblem);

/** The effective configuration after defaults. */
export type Config = Infer<typeof configSchema>;
/** The `[cluster.k3d]` table after defaults. */
export type K3dConfig = Config["cluster"]["k3d"];

/** Every default of the file: the configuration of an empty `firestream.toml`. */
export function configDefaults(): Config {
  return configSchema.parse({});
}
