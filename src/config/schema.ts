/** The `firestream.toml` schema: every key of the seed's example, with its values as defaults. */
import { array, boolean, type Infer, number, type Shape, strictObject, string } from "./shape.ts";
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
const K3S_VERSION = /^v\d+\.\d+\.\d+-k3s\d+$/;
/** A host name (RFC 1123): dot-separated labels of letters, digits and inner hyphens; no wildcard. */
export const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
/** A certificate name: a host name, or one whose first label is the wildcard `*`. */
const CERT_NAME =
  /^(\*\.)?(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
/** A Kubernetes DNS-1123 label (namespaces): lowercase, at most 63 characters. */
export const DNS1123_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A Kubernetes DNS-1123 subdomain (object names such as secrets): at most 253 characters. */
export const DNS1123_SUBDOMAIN =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A list of `min` to `max` distinct entries. */
function list(item: Shape<string>, max: number, min = 0) {
  return array(item).min(min).max(max).refine(
    (a) => new Set(a).size === a.length,
    "lists an entry twice; each must appear once",
  );
}

/** Free text without control characters (newlines, tabs, escapes). */
function text(fallback: string) {
  return string().min(1).refine(
    (s) => !CONTROL.test(s),
    "must not contain control characters such as newlines or tabs",
  ).default(fallback);
}

/** k3s's own pod network: the default, and the one k3s needs no argument for. */
export const K3S_POD_CIDR = "10.42.0.0/16";
/** k3s's own service network: the default, and the one k3s needs no argument for. */
export const K3S_SERVICE_CIDR = "10.43.0.0/16";

const cidr = string().verify(clusterCidrProblem);

/** `[project]` */
export const projectSchema = strictObject({
  name: text("my-firestream-project"),
  environment: text("development"),
});

/** `[cluster.k3d.registry]` */
export const registrySchema = strictObject({
  enabled: boolean().default(true),
  name: string().regex(HOSTNAME, "must be a host name (RFC 1123) such as registry.localhost")
    .default(
      "registry.localhost",
    ),
  port: port.default(5000),
});

/** `[cluster.k3d.tls.certificate]` */
export const certificateSchema = strictObject({
  country: string().length(2, "must be a two-letter country code such as US").default("US"),
  state: text("New Mexico"),
  locality: text("Roswell"),
  organization: text("ACME Co, LLC."),
  organizational_unit: text("ACME Department"),
  common_name: string().regex(
    CERT_NAME,
    "must be a host name, optionally starting with `*.`, such as *.firestream.local",
  ).default(
    "*.firestream.local",
  ),
  email: string().regex(EMAIL, "must be an email address").default("admin@firestream.local"),
});

/** `[cluster.k3d.tls]` */
export const tlsSchema = strictObject({
  enabled: boolean().default(true),
  secret_name: string().regex(
    DNS1123_SUBDOMAIN,
    "must be a Kubernetes object name (DNS-1123 subdomain: lowercase a-z, 0-9, '-' and '.', at most 253 characters)",
  ).default("firestream-tls"),
  certs_dir: text("~/certs"),
  namespaces: list(namespace(), 100, 1).default(["default"]),
  certificate: certificateSchema.prefault({}),
});

function namespace() {
  return string().regex(
    DNS1123_LABEL,
    "must be a namespace name (DNS-1123 label: lowercase a-z, 0-9 and '-', at most 63 characters)",
  );
}

/** `[cluster.k3d.network]` */
export const networkSchema = strictObject({
  configure_routes: boolean().default(true),
  configure_dns: boolean().default(true),
  patch_etc_hosts: boolean().default(true),
  pod_cidr: cidr.default(K3S_POD_CIDR),
  service_cidr: cidr.default(K3S_SERVICE_CIDR),
  hosts: list(
    string().regex(
      HOSTNAME,
      "must be a host name (RFC 1123: letters, digits, '-' and '.'; no wildcard, no spaces)",
    ),
    256,
  ).default([]),
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
  domain: string().verify(ingressDomainProblem).optional(),
  wildcard_dns: boolean().default(true),
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
  port_forward_all: boolean().default(true),
  port_offset: port.default(10000),
  namespaces: list(namespace(), 100).default([]),
});

/** `[cluster.k3d]` */
export const k3dSchema = strictObject({
  name: string().regex(
    CLUSTER_NAME,
    "must be a lowercase hostname of at most 32 characters (a-z, 0-9, '-')",
  ).default("firestream-local"),
  api_port: port.default(6550),
  http_port: port.default(80),
  https_port: port.default(443),
  servers: number().int().min(1).max(9).default(1),
  agents: number().int().min(0).max(99).default(2),
  k3s_version: string().regex(K3S_VERSION, "must look like v1.31.2-k3s1").default(
    "v1.31.2-k3s1",
  ),
  registry: registrySchema.prefault({}),
  tls: tlsSchema.prefault({}),
  network: networkSchema.prefault({}),
  ingress: ingressSchema.prefault({}),
  dev_mode: devModeSchema.prefault({}),
});

/** The whole file. */
export const configSchema = strictObject({
  project: projectSchema.prefault({}),
  cluster: strictObject({ k3d: k3dSchema.prefault({}) }).prefault({}),
}).verify((cfg) => {
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
});

/** The effective configuration after defaults. */
export type Config = Infer<typeof configSchema>;
/** The `[cluster.k3d]` table after defaults. */
export type K3dConfig = Config["cluster"]["k3d"];

/** Every default of the file: the configuration of an empty `firestream.toml`. */
export function configDefaults(): Config {
  return configSchema.parse({});
}
