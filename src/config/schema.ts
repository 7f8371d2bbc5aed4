/** The `firestream.toml` schema: every key of the seed's example, with its values as defaults. */
import { z } from "zod";
import { cidrsOverlap, parseCidr } from "./cidr.ts";

const port = z.number().int().min(1).max(65535);

/** A k3d cluster name: a lowercase DNS label of at most 32 characters. */
export const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const K3S_VERSION = /^v\d+\.\d+\.\d+-k3s\d+$/;
const HOSTNAME =
  /^(?=.{1,253}$)([a-z0-9*]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const cidr = z.string().refine((s) => parseCidr(s) !== undefined, {
  message: "must be an IPv4 CIDR such as 10.42.0.0/16",
});

/** `[project]` */
export const projectSchema = z.strictObject({
  name: z.string().min(1).default("my-firestream-project"),
  environment: z.string().min(1).default("development"),
});

/** `[cluster.k3d.registry]` */
export const registrySchema = z.strictObject({
  enabled: z.boolean().default(true),
  name: z.string().regex(HOSTNAME, "must be a hostname such as registry.localhost").default(
    "registry.localhost",
  ),
  port: port.default(5000),
});

/** `[cluster.k3d.tls.certificate]` */
export const certificateSchema = z.strictObject({
  country: z.string().length(2, "must be a two-letter country code such as US").default("US"),
  state: z.string().min(1).default("New Mexico"),
  locality: z.string().min(1).default("Roswell"),
  organization: z.string().min(1).default("ACME Co, LLC."),
  organizational_unit: z.string().min(1).default("ACME Department"),
  common_name: z.string().regex(HOSTNAME, "must be a DNS name such as *.firestream.local").default(
    "*.firestream.local",
  ),
  email: z.string().regex(EMAIL, "must be an email address").default("admin@firestream.local"),
});

/** `[cluster.k3d.tls]` */
export const tlsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  secret_name: z.string().regex(CLUSTER_NAME_OR_DNS(), "must be a Kubernetes object name").default(
    "firestream-tls",
  ),
  certs_dir: z.string().min(1).default("~/certs"),
  namespaces: z.array(z.string().regex(CLUSTER_NAME_OR_DNS(), "must be a namespace name")).min(1)
    .default(["default"]),
  certificate: certificateSchema.prefault({}),
});

function CLUSTER_NAME_OR_DNS(): RegExp {
  return /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
}

/** `[cluster.k3d.network]` */
export const networkSchema = z.strictObject({
  configure_routes: z.boolean().default(true),
  configure_dns: z.boolean().default(true),
  patch_etc_hosts: z.boolean().default(true),
  pod_cidr: cidr.default("10.42.0.0/16"),
  service_cidr: cidr.default("10.43.0.0/16"),
  hosts: z.array(z.string().regex(HOSTNAME, "must be a hostname")).default([]),
});

/** `[cluster.k3d.dev_mode]` */
export const devModeSchema = z.strictObject({
  port_forward_all: z.boolean().default(true),
  port_offset: port.default(10000),
  namespaces: z.array(z.string().min(1)).default([]),
});

/** `[cluster.k3d]` */
export const k3dSchema = z.strictObject({
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
  registry: registrySchema.prefault({}),
  tls: tlsSchema.prefault({}),
  network: networkSchema.prefault({}),
  dev_mode: devModeSchema.prefault({}),
});

/** The whole file. */
export const configSchema = z.strictObject({
  project: projectSchema.prefault({}),
  cluster: z.strictObject({ k3d: k3dSchema.prefault({}) }).prefault({}),
}).superRefine((cfg, ctx) => {
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
      ctx.addIssue({
        code: "custom",
        path: key.split("."),
        message: `port ${value} is already used by ${other}; every port must be distinct`,
        input: value,
      });
    } else seen.set(value, key);
  }
  const pod = parseCidr(k.network.pod_cidr);
  const svc = parseCidr(k.network.service_cidr);
  if (pod && svc && cidrsOverlap(pod, svc)) {
    ctx.addIssue({
      code: "custom",
      path: ["cluster", "k3d", "network", "service_cidr"],
      message: `overlaps pod_cidr ${k.network.pod_cidr}; choose ranges that do not overlap`,
      input: k.network.service_cidr,
    });
  }
});

/** The effective configuration after defaults. */
export type Config = z.infer<typeof configSchema>;
/** The `[cluster.k3d]` table after defaults. */
export type K3dConfig = Config["cluster"]["k3d"];
