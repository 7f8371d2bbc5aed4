/** `firestream init`: a few questions (or defaults and flags without a terminal), then firestream.toml. */
import { DEFAULT_CONFIG_FILE, mergeInto, validate } from "../config/load.ts";
import { KEY_DOCS } from "../config/key_docs.ts";
import { commentedToml } from "../config/toml_doc.ts";
import { CLUSTER_NAME, configDefaults } from "../config/schema.ts";
import { ConfigError, FirestreamError } from "../errors.ts";
import { writeFileAtomic } from "../state/fs.ts";
import { canPrompt } from "../ui/confirm.ts";
import { type GlobalFlags, outputFor } from "./session.ts";
import { findTemplate, PROFILE_EXAMPLE, type Template, TEMPLATES } from "./templates.ts";

/** Flags of `init`. */
export interface InitFlags {
  force?: boolean;
  name?: string;
  servers?: number;
  agents?: number;
  k3sVersion?: string;
  registry?: boolean;
  registryPort?: number;
  tls?: boolean;
  domain?: string;
  hostNetwork?: boolean;
  devMode?: boolean;
  offset?: number;
  /** start from this template (`--template`) */
  template?: string;
  /** list the templates and write nothing */
  listTemplates?: boolean;
}

/** The answers, whether typed or defaulted. */
export interface InitAnswers {
  project: string;
  name: string;
  servers: number;
  agents: number;
  k3sVersion: string;
  registry: boolean;
  registryPort: number;
  tls: boolean;
  domain: string;
  routes: boolean;
  dns: boolean;
  hosts: boolean;
  devMode: boolean;
  offset: number;
}

/** Answers from flags over the config's defaults (the schema's). */
export function defaultAnswers(flags: InitFlags, cwd = Deno.cwd()): InitAnswers {
  const d = configDefaults();
  const k = d.cluster.k3d;
  const base =
    cwd.slice(cwd.lastIndexOf("/") + 1).toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(
      /^-+|-+$/g,
      "",
    ) || d.project.name;
  return {
    project: base,
    name: flags.name ?? k.name,
    servers: flags.servers ?? k.servers,
    agents: flags.agents ?? k.agents,
    k3sVersion: flags.k3sVersion ?? k.k3s_version,
    registry: flags.registry ?? k.registry.enabled,
    registryPort: flags.registryPort ?? k.registry.port,
    tls: flags.tls ?? k.tls.enabled,
    domain: flags.domain ?? k.tls.certificate.common_name.replace(/^\*\./, ""),
    routes: flags.hostNetwork ?? k.network.configure_routes,
    dns: flags.hostNetwork ?? k.network.configure_dns,
    hosts: flags.hostNetwork ?? k.network.patch_etc_hosts,
    // init's own choice: dev mode is asked for, not on by default
    devMode: flags.devMode ?? false,
    offset: flags.offset ?? k.dev_mode.port_offset,
  };
}

/**
 * The template's answers over init's defaults, except where a flag was given: a flag always wins.
 * Negatable flags (`--no-registry`) read `true` when not given.
 */
export function withTemplate(
  answers: InitAnswers,
  template: Template | undefined,
  flags: InitFlags,
): InitAnswers {
  if (!template) return answers;
  const given: Record<keyof Template["answers"], boolean> = {
    servers: flags.servers !== undefined,
    agents: flags.agents !== undefined,
    registry: flags.registry === false,
    tls: flags.tls === false,
    routes: flags.hostNetwork === false,
    dns: flags.hostNetwork === false,
    hosts: flags.hostNetwork === false,
    devMode: flags.devMode !== undefined,
  };
  const out = { ...answers };
  for (const [key, value] of Object.entries(template.answers)) {
    const k = key as keyof Template["answers"];
    if (!given[k]) (out as Record<string, unknown>)[k] = value;
  }
  return out;
}

/** The template `--template` names; an unknown name is refused with the ones that exist. */
function chosenTemplate(name: string | undefined): Template | undefined {
  if (name === undefined) return undefined;
  const template = findTemplate(name);
  if (!template) {
    throw new ConfigError(
      `--template: unknown template \`${name}\`; templates: ${
        TEMPLATES.map((t) => t.name).join(", ")
      }`,
      "`firestream init --list-templates` says what each one sets",
    );
  }
  return template;
}

/** The file init writes: every key under a comment saying what it means. */
export function configText(doc: Record<string, unknown>, template?: Template): string {
  const text = commentedToml(doc, KEY_DOCS, [
    "firestream.toml: the local cluster this project uses (see README)",
    ...(template ? [`made from the \`${template.name}\` template: ${template.summary}`] : []),
  ]);
  return template?.name === "ci" ? text : `${text}${PROFILE_EXAMPLE.join("\n")}\n`;
}

/** The config document the answers describe. */
export function configDocument(a: InitAnswers): Record<string, unknown> {
  const d = configDefaults();
  const k = d.cluster.k3d;
  return {
    project: { name: a.project, environment: d.project.environment },
    cluster: {
      k3d: {
        name: a.name,
        api_port: k.api_port,
        http_port: k.http_port,
        https_port: k.https_port,
        servers: a.servers,
        agents: a.agents,
        k3s_version: a.k3sVersion,
        registry: { enabled: a.registry, name: k.registry.name, port: a.registryPort },
        tls: {
          enabled: a.tls,
          secret_name: k.tls.secret_name,
          certificate: { common_name: `*.${a.domain}`, email: `admin@${a.domain}` },
        },
        network: {
          configure_routes: a.routes,
          configure_dns: a.dns,
          patch_etc_hosts: a.hosts,
          pod_cidr: k.network.pod_cidr,
          service_cidr: k.network.service_cidr,
        },
        dev_mode: { port_forward_all: a.devMode, port_offset: a.offset },
      },
    },
  };
}

/** Validates one typed answer through the config schema; the message names what is wrong. */
function check(key: keyof InitAnswers, value: unknown): string | true {
  try {
    validate(configDocument({ ...defaultAnswers({}), [key]: value }), "answer");
    return true;
  } catch (err) {
    return (err as Error).message.replace(/^answer: `[^`]+` = /, "");
  }
}

async function ask(d: InitAnswers): Promise<InitAnswers> {
  const { input, number, confirm } = await import("@inquirer/prompts");
  const a = { ...d };
  a.name = await input({
    message: "Cluster name",
    default: d.name,
    validate: (v) =>
      CLUSTER_NAME.test(v) || "a lowercase hostname of at most 32 characters (a-z, 0-9, '-')",
  });
  a.servers = (await number({
    message: "Server nodes",
    default: d.servers,
    min: 1,
    max: 9,
    required: true,
  }))!;
  a.agents =
    (await number({ message: "Agent nodes", default: d.agents, min: 0, max: 99, required: true }))!;
  a.k3sVersion = await input({
    message: "k3s version",
    default: d.k3sVersion,
    validate: (v) => check("k3sVersion", v),
  });
  a.registry = await confirm({ message: "Create a local registry?", default: d.registry });
  if (a.registry) {
    a.registryPort = (await number({
      message: "Registry port",
      default: d.registryPort,
      min: 1,
      max: 65535,
      required: true,
    }))!;
  }
  a.tls = await confirm({ message: "Generate TLS certificates?", default: d.tls });
  if (a.tls) {
    a.domain = await input({
      message: "Domain for the wildcard certificate",
      default: d.domain,
      validate: (v) => check("domain", v),
    });
  }
  a.routes = await confirm({
    message: "Route pod and service networks to this host? (needs sudo)",
    default: d.routes,
  });
  a.dns = await confirm({
    message: "Resolve cluster DNS names on this host? (needs sudo)",
    default: d.dns,
  });
  a.hosts = await confirm({
    message: "Add the registry and domain to /etc/hosts? (needs sudo)",
    default: d.hosts,
  });
  a.devMode = await confirm({
    message: "Forward every service to localhost (dev mode)?",
    default: d.devMode,
  });
  if (a.devMode) {
    a.offset = (await number({
      message: "Port offset",
      default: d.offset,
      min: 1,
      max: 65535,
      required: true,
    }))!;
  }
  return a;
}

/** The command. */
export async function init(flags: GlobalFlags, opts: InitFlags): Promise<void> {
  const out = outputFor(flags);
  if (opts.listTemplates) return listTemplates(flags);
  const template = chosenTemplate(opts.template);
  const path = flags.config ?? DEFAULT_CONFIG_FILE;
  const full = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  const exists = await Deno.stat(full).then(() => true, () => false);
  if (exists && !opts.force) {
    throw new FirestreamError(`${path} already exists`, { hint: "use --force to overwrite it" });
  }
  const defaults = withTemplate(defaultAnswers(opts), template, opts);
  const interactive = !flags.yes && canPrompt();
  const answers = interactive ? await ask(defaults) : defaults;
  const doc = template?.everyKey
    ? mergeInto(configDefaults() as unknown as Record<string, unknown>, configDocument(answers))
    : configDocument(answers);
  try {
    validate(doc, "init");
  } catch (err) {
    throw new ConfigError((err as Error).message.replace(/^init: /, ""));
  }
  const text = configText(doc, template);
  if (interactive) {
    out.progress("\n" + text);
    const { confirm } = await import("@inquirer/prompts");
    if (!(await confirm({ message: `Write ${path}?`, default: true }))) {
      throw new FirestreamError("nothing written");
    }
  }
  await writeFileAtomic(full, text);
  if (out.json) return out.data({ written: full, config: doc });
  out.line(`Wrote ${path}. Next: \`firestream plan\`, then \`firestream cluster create\`.`);
}

/** `init --list-templates`: each template with what it sets. */
function listTemplates(flags: GlobalFlags): void {
  const out = outputFor(flags);
  if (out.json) {
    return out.data({
      templates: TEMPLATES.map((t) => ({ name: t.name, summary: t.summary, sets: t.answers })),
    });
  }
  const width = Math.max(...TEMPLATES.map((t) => t.name.length));
  for (const t of TEMPLATES) out.line(`${t.name.padEnd(width)}  ${t.summary}`);
  out.line("");
  out.line("write one with `firestream init --template NAME` (flags still override it)");
}
