/**
 * The config and state structures written with zod, the library src/config/shape.ts replaced: an
 * oracle for the differential tests only (the product never loads zod). Each declaration mirrors
 * one in src/config/schema.ts or src/state/shape.ts; the patterns and checks are the product's own.
 */
import { z } from "zod";
import { clusterCidrProblem } from "../../src/config/cidr.ts";
import {
  CERT_NAME,
  CLUSTER_NAME,
  CONTROL,
  crossKeyProblem,
  DNS1123_LABEL,
  DNS1123_SUBDOMAIN,
  EMAIL,
  HOSTNAME,
  ingressDomainProblem,
  K3S_POD_CIDR,
  K3S_SERVICE_CIDR,
  K3S_VERSION,
} from "../../src/config/schema.ts";

const port = z.number().int().min(1).max(65535);

function list<T extends z.ZodType<string>>(item: T, max: number, min = 0) {
  return z.array(item).min(min).max(max).refine((a) => new Set(a).size === a.length, {
    message: "lists an entry twice; each must appear once",
  });
}

function text(fallback: string) {
  return z.string().min(1).refine((s) => !CONTROL.test(s), {
    message: "must not contain control characters such as newlines or tabs",
  }).default(fallback);
}

function namespace() {
  return z.string().regex(
    DNS1123_LABEL,
    "must be a namespace name (DNS-1123 label: lowercase a-z, 0-9 and '-', at most 63 characters)",
  );
}

const cidr = z.string().superRefine((s, ctx) => {
  const problem = clusterCidrProblem(s);
  if (problem) ctx.addIssue({ code: "custom", message: problem, input: s });
});

const k3d = z.strictObject({
  name: z.string().regex(
    CLUSTER_NAME,
    "must be a lowercase hostname of at most 32 characters (a-z, 0-9, '-')",
  ).default("firestream-local"),
  api_port: port.default(6550),
  http_port: port.default(80),
  https_port: port.default(443),
  servers: z.number().int().min(1).max(9).default(1),
  agents: z.number().int().min(0).max(99).default(2),
  k3s_version: z.string().regex(K3S_VERSION, "must look like v1.31.2-k3s1").default(
    "v1.31.2-k3s1",
  ),
  registry: z.strictObject({
    enabled: z.boolean().default(true),
    name: z.string().regex(HOSTNAME, "must be a host name (RFC 1123) such as registry.localhost")
      .default("registry.localhost"),
    port: port.default(5000),
  }).prefault({}),
  tls: z.strictObject({
    enabled: z.boolean().default(true),
    secret_name: z.string().regex(
      DNS1123_SUBDOMAIN,
      "must be a Kubernetes object name (DNS-1123 subdomain: lowercase a-z, 0-9, '-' and '.', at most 253 characters)",
    ).default("firestream-tls"),
    certs_dir: text("~/certs"),
    namespaces: list(namespace(), 100, 1).default(["default"]),
    certificate: z.strictObject({
      country: z.string().length(2, "must be a two-letter country code such as US").default("US"),
      state: text("New Mexico"),
      locality: text("Roswell"),
      organization: text("ACME Co, LLC."),
      organizational_unit: text("ACME Department"),
      common_name: z.string().regex(
        CERT_NAME,
        "must be a host name, optionally starting with `*.`, such as *.firestream.local",
      ).default("*.firestream.local"),
      email: z.string().regex(EMAIL, "must be an email address").default(
        "admin@firestream.local",
      ),
    }).prefault({}),
  }).prefault({}),
  network: z.strictObject({
    configure_routes: z.boolean().default(true),
    configure_dns: z.boolean().default(true),
    patch_etc_hosts: z.boolean().default(true),
    pod_cidr: cidr.default(K3S_POD_CIDR),
    service_cidr: cidr.default(K3S_SERVICE_CIDR),
    hosts: list(
      z.string().regex(
        HOSTNAME,
        "must be a host name (RFC 1123: letters, digits, '-' and '.'; no wildcard, no spaces)",
      ),
      256,
    ).default([]),
  }).prefault({}),
  ingress: z.strictObject({
    domain: z.string().superRefine((s, ctx) => {
      const problem = ingressDomainProblem(s);
      if (problem) ctx.addIssue({ code: "custom", message: problem, input: s });
    }).optional(),
    wildcard_dns: z.boolean().default(true),
  }).prefault({}),
  dev_mode: z.strictObject({
    port_forward_all: z.boolean().default(true),
    port_offset: port.default(10000),
    namespaces: list(namespace(), 100).default([]),
  }).prefault({}),
});

/** `firestream.toml`, as zod checked it. */
export const zodConfig = z.strictObject({
  project: z.strictObject({
    name: text("my-firestream-project"),
    environment: text("development"),
  }).prefault({}),
  cluster: z.strictObject({ k3d: k3d.prefault({}) }).prefault({}),
}).superRefine((cfg, ctx) => {
  // the rules between keys are the product's own function: the oracle is for the structure
  const problem = crossKeyProblem(cfg);
  if (problem) ctx.addIssue({ code: "custom", ...problem });
});

const route = z.looseObject({
  cidr: z.string(),
  via: z.string(),
  replaced_via: z.string().optional(),
});

/** The state file's structure, as zod checked it. */
export const zodState = z.looseObject({
  version: z.number().int(),
  lineage: z.string().min(1),
  serial: z.number().int().min(0),
  clusters: z.record(
    z.string(),
    z.looseObject({
      name: z.string(),
      cluster_type: z.literal("k3d"),
      managed: z.boolean(),
      k3d_config: z.looseObject({
        name: z.string(),
        servers: z.number().int(),
        agents: z.number().int(),
        k3s_version: z.string(),
        registry: z.looseObject({
          enabled: z.boolean(),
          name: z.string(),
          port: z.number().int(),
        }),
        tls: z.looseObject({
          enabled: z.boolean(),
          secret_name: z.string(),
          namespaces: z.array(z.string()),
        }),
        network: z.looseObject({ pod_cidr: z.string(), service_cidr: z.string() }),
      }).partial(),
      resources: z.looseObject({
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
      }),
    }),
  ),
});
