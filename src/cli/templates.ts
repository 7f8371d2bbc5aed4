/** Templates for `firestream init --template NAME`: common set-ups to start a firestream.toml from. */

/** The answers a template sets; the rest are init's defaults. */
export interface TemplateAnswers {
  servers?: number;
  agents?: number;
  registry?: boolean;
  tls?: boolean;
  routes?: boolean;
  dns?: boolean;
  hosts?: boolean;
  devMode?: boolean;
}

/** One template. */
export interface Template {
  name: string;
  summary: string;
  answers: TemplateAnswers;
  /** write every key of the file, not only the ones init asks about */
  everyKey?: boolean;
}

/** Every template, in the order `init --list-templates` shows them. */
export const TEMPLATES: Template[] = [
  {
    name: "minimal",
    summary: "one server, no agents, no registry, no certificates, no host changes, no dev mode",
    answers: {
      servers: 1,
      agents: 0,
      registry: false,
      tls: false,
      routes: false,
      dns: false,
      hosts: false,
      devMode: false,
    },
  },
  {
    name: "full",
    summary:
      "every key, as in the product's example: 2 agents, registry, TLS, routes, DNS, /etc/hosts, dev mode",
    answers: {
      servers: 1,
      agents: 2,
      registry: true,
      tls: true,
      routes: true,
      dns: true,
      hosts: true,
      devMode: true,
    },
    everyKey: true,
  },
  {
    name: "ci",
    summary: "for CI runners: no host network changes (no sudo), no dev mode, no agents",
    answers: { agents: 0, routes: false, dns: false, hosts: false, devMode: false },
  },
  {
    name: "multi-node",
    summary: "3 servers (embedded etcd, for HA testing) and 2 agents",
    answers: { servers: 3, agents: 2 },
  },
];

/** The template called `name`; undefined when there is none. */
export function findTemplate(name: string): Template | undefined {
  return TEMPLATES.find((t) => t.name === name);
}

/** Commented lines written below every file except the `ci` template's: how a profile looks. */
export const PROFILE_EXAMPLE = [
  "",
  "# Profiles overlay any keys above when selected: `firestream plan --profile ci` or",
  "# FIRESTREAM_PROFILE=ci (`firestream profiles` lists them). For example, a lean cluster for CI:",
  "# [profiles.ci.cluster.k3d]",
  "# agents = 0",
  "# [profiles.ci.cluster.k3d.network]",
  "# configure_routes = false",
  "# configure_dns = false",
  "# patch_etc_hosts = false",
  "# [profiles.ci.cluster.k3d.dev_mode]",
  "# port_forward_all = false",
];
