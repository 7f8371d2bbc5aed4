/** `firestream init`: a few questions (or defaults and flags without a terminal), then firestream.toml. */
import { DEFAULT_CONFIG_FILE, mergeInto, validate } from "../config/load.ts";
import { KEY_DOCS } from "../config/key_docs.ts";
import { commentedToml } from "../config/toml_doc.ts";
import { CLUSTER_NAME, configDefaults, folderName } from "../config/schema.ts";
import {
  type ProjectDefaults,
  projectDefaults,
  type TakenCluster,
  takenClusters,
} from "../cluster/defaults.ts";
import { ConfigError, FirestreamError } from "../errors.ts";
import { hostPorts, probePort } from "../host/ports.ts";
import { readTextIfExists, writeFileAtomic } from "../state/fs.ts";
import { registerProject } from "../state/owners.ts";
import { registryContainer } from "../tools/k3d_names.ts";
import { canPrompt } from "../ui/confirm.ts";
import { type GlobalFlags, outputFor, resolveStateDir } from "./session.ts";
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
  /** a registry of this project's own instead of the one shared by the machine's projects */
  ownRegistry?: boolean;
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
  apiPort: number;
  httpPort: number;
  httpsPort: number;
  registry: boolean;
  registryName: string;
  registryPort: number;
  tls: boolean;
  domain: string;
  routes: boolean;
  dns: boolean;
  hosts: boolean;
  podCidr: string;
  serviceCidr: string;
  devMode: boolean;
  offset: number;
}

/** Answers from flags over the per-project defaults of this machine (`machine`), else the schema's. */
export function defaultAnswers(
  flags: InitFlags,
  cwd = Deno.cwd(),
  machine?: ProjectDefaults,
): InitAnswers {
  const d = configDefaults();
  const k = d.cluster.k3d;
  return {
    project: folderName(cwd) ?? d.project.name,
    name: flags.name ?? machine?.name ?? k.name,
    servers: flags.servers ?? k.servers,
    agents: flags.agents ?? k.agents,
    k3sVersion: flags.k3sVersion ?? k.k3s_version,
    apiPort: machine?.apiPort ?? k.api_port,
    httpPort: machine?.httpPort ?? k.http_port,
    httpsPort: machine?.httpsPort ?? k.https_port,
    registry: flags.registry ?? k.registry.enabled,
    registryName: machine?.registryName ?? k.registry.name,
    registryPort: flags.registryPort ?? machine?.registryPort ?? k.registry.port,
    tls: flags.tls ?? k.tls.enabled,
    domain: flags.domain ?? k.tls.certificate.common_name.replace(/^\*\./, ""),
    // `--no-host-network` turns all three off; the host's cluster.local leads to one cluster only
    routes: flags.hostNetwork !== false && k.network.configure_routes,
    dns: flags.hostNetwork !== false && !machine?.dnsTakenBy && k.network.configure_dns,
    hosts: flags.hostNetwork !== false && k.network.patch_etc_hosts,
    podCidr: machine?.podCidr ?? k.network.pod_cidr,
    serviceCidr: machine?.serviceCidr ?? k.network.service_cidr,
    devMode: flags.devMode ?? k.dev_mode.port_forward_all,
    offset: flags.offset ?? machine?.offset ?? k.dev_mode.port_offset,
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
        api_port: a.apiPort,
        http_port: a.httpPort,
        https_port: a.httpsPort,
        servers: a.servers,
        agents: a.agents,
        k3s_version: a.k3sVersion,
        registry: { enabled: a.registry, name: a.registryName, port: a.registryPort },
        tls: {
          enabled: a.tls,
          secret_name: k.tls.secret_name,
          certificate: { common_name: `*.${a.domain}`, email: `admin@${a.domain}` },
        },
        network: {
          configure_routes: a.routes,
          configure_dns: a.dns,
          patch_etc_hosts: a.hosts,
          pod_cidr: a.podCidr,
          service_cidr: a.serviceCidr,
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

/** Why a typed cluster name cannot be used here, or true. */
function checkName(v: string, taken: TakenCluster[]): string | true {
  if (!CLUSTER_NAME.test(v)) return "a lowercase hostname of at most 32 characters (a-z, 0-9, '-')";
  const other = taken.find((t) => t.record.name === v);
  return other ? `cluster ${v} is managed from ${other.folder}; choose another name` : true;
}

/**
 * Why a typed registry port cannot be used, or true: the port a shared registry already has, or a
 * free one (checked as soon as it is typed, so a clash loses no other answer).
 */
function checkRegistryPort(
  port: number | undefined,
  a: InitAnswers,
  taken: TakenCluster[],
): string | true {
  if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    return "a port from 1 to 65535";
  }
  const container = registryContainer(a.registryName);
  const sharer = taken.find((t) => t.record.resources.registry?.container === container);
  if (sharer) {
    const p = sharer.record.resources.registry!.port;
    return p === port
      ? true
      : `registry ${a.registryName} is shared with ${sharer.folder} on port ${p}; use ${p} to share it`;
  }
  const clash = taken.find((t) =>
    hostPorts(t.record.k3d_config, t.record).some(([, used]) => used === port)
  );
  if (clash) {
    return `port ${port} is used by cluster ${clash.record.name} (managed from ${clash.folder})`;
  }
  if ([a.apiPort, a.httpPort, a.httpsPort].includes(port)) {
    return `port ${port} is already one of this cluster's ports`;
  }
  return probePort(port).free ? true : `port ${port} is in use on this host; choose another`;
}

/** What the machine offers for the registry: the project it is shared with, and a free own port. */
interface RegistryChoice {
  sharedWith?: string;
  ownPort: number;
}

async function ask(
  d: InitAnswers,
  taken: TakenCluster[],
  reg: RegistryChoice,
): Promise<InitAnswers> {
  const { input, number, confirm } = await import("@inquirer/prompts");
  const a = { ...d };
  a.name = await input({
    message: "Cluster name",
    default: d.name,
    validate: (v) => checkName(v, taken),
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
    if (reg.sharedWith && a.registryName === configDefaults().cluster.k3d.registry.name) {
      const share = await confirm({
        message:
          `Share registry ${a.registryName} (port ${a.registryPort}) with ${reg.sharedWith}?`,
        default: true,
      });
      if (!share) {
        a.registryName = `${a.name}-registry.localhost`;
        a.registryPort = reg.ownPort;
      }
    }
    a.registryPort = (await number({
      message: "Registry port",
      default: a.registryPort,
      required: true,
      validate: (v) => checkRegistryPort(v, a, taken),
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
      required: true,
      validate: (v) => v === undefined ? "a number" : check("offset", v),
    }))!;
  }
  return a;
}

/** What a project's version control should not hold: the state folder and the forwards' log. */
const GIT_IGNORED = [".firestream/", "logs/"];

/**
 * Adds {@link GIT_IGNORED} to the folder's existing `.gitignore` (the lines it lacks): the path
 * when it wrote, "" when nothing was missing, undefined when there is no `.gitignore`.
 */
async function ignoreInGit(folder: string): Promise<string | undefined> {
  const path = `${folder}/.gitignore`;
  const text = await readTextIfExists(path);
  if (text === undefined) return undefined;
  const have = new Set(text.split(/\r?\n/).map((l) => l.trim().replace(/^\//, "")));
  const missing = GIT_IGNORED.filter((e) => !have.has(e) && !have.has(e.replace(/\/$/, "")));
  if (!missing.length) return "";
  const sep = text === "" || text.endsWith("\n") ? "" : "\n";
  await writeFileAtomic(path, `${text}${sep}${missing.join("\n")}\n`);
  return path;
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
  const folder = full.slice(0, full.lastIndexOf("/")) || "/";
  const stateDir = resolveStateDir(flags, folder);
  const taken = await takenClusters(stateDir, full);
  const machine = projectDefaults(folder, { taken, ownRegistry: opts.ownRegistry });
  const own = projectDefaults(folder, { taken, ownRegistry: true });
  const defaults = withTemplate(defaultAnswers(opts, folder, machine), template, opts);
  const interactive = !flags.yes && canPrompt();
  const answers = interactive
    ? await ask(defaults, taken, {
      sharedWith: machine.registrySharedWith,
      ownPort: own.registryPort,
    })
    : defaults;
  // what the flags asked for is checked as the prompts check it
  const name = checkName(answers.name, taken);
  if (name !== true) throw new ConfigError(`\`cluster.k3d.name\` = "${answers.name}": ${name}`);
  if (answers.registry) {
    const port = checkRegistryPort(answers.registryPort, answers, taken);
    if (port !== true) {
      throw new ConfigError(`\`cluster.k3d.registry.port\` = ${answers.registryPort}: ${port}`);
    }
  }
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
  // the next `init` on this machine avoids what this project will use
  await registerProject(full);
  const ignored = await ignoreInGit(folder);
  if (out.json) return out.data({ written: full, config: doc, gitignore: ignored ?? null });
  out.line(`Wrote ${path}. Next: \`firestream plan\`, then \`firestream cluster create\`.`);
  if (
    machine.registrySharedWith && answers.registry && answers.registryName === machine.registryName
  ) {
    out.line(
      `The registry ${answers.registryName} is shared with ${machine.registrySharedWith} (\`init --own-registry\` gives this project its own).`,
    );
  }
  if (machine.dnsTakenBy && !answers.dns) {
    out.line(
      `Cluster DNS on this host stays with ${machine.dnsTakenBy}: configure_dns = false here.`,
    );
  }
  if (ignored) out.line(`Added ${GIT_IGNORED.join(" and ")} to ${ignored}.`);
  else if (ignored === undefined) {
    out.line(
      `Keep ${
        GIT_IGNORED.join(" and ")
      } out of version control (e.g. in .gitignore): they hold this machine's state and logs.`,
    );
  }
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
