/** Loads firestream.toml, layers CLI flags over it, and turns every problem into one clear line. */
import { parse as parseToml, stringify as stringifyToml, TomlError } from "smol-toml";
import { ConfigError } from "../errors.ts";
import { type Config, configSchema } from "./schema.ts";
import type { Issue } from "./shape.ts";
import { nearest } from "./suggest.ts";

/** The default config file name, looked up in the working directory. */
export const DEFAULT_CONFIG_FILE = "firestream.toml";

/** A value set from the command line, with the flag that set it (for error messages). */
export interface Override {
  /** dotted key path, e.g. "cluster.k3d.agents" */
  path: string;
  /** the parsed value */
  value: unknown;
  /** the flag the user typed, e.g. "--agents" */
  flag: string;
}

/** What was loaded and from where. */
export interface LoadedConfig {
  /** the validated config with defaults applied */
  config: Config;
  /** absolute path of the file, or undefined when defaults were used */
  file?: string;
  /** the directory the project lives in (config file's directory or cwd) */
  projectDir: string;
  /** the raw file text */
  text: string;
  /** command-line flags layered over the file for this run (`cluster create --agents 3`) */
  overrides?: Override[];
  /** what the config was made from (every file's text and the profile), for staleness checks */
  fingerprint: string;
  /** the profile in force (`--profile` or FIRESTREAM_PROFILE), if any */
  profile?: string;
  /** every profile the file (and what it extends) defines, by name, as written */
  profiles: Record<string, Record<string, unknown>>;
  /** the files merged before `file` through `extends`, the first one first */
  bases: string[];
  /** the validated config without any profile */
  base: Config;
}

/** Options for {@link loadConfig}. */
export interface LoadOptions {
  /** explicit --config path; when absent ./firestream.toml is used if it exists */
  file?: string;
  /** values from CLI flags, applied over the file */
  overrides?: Override[];
  /** working directory @default Deno.cwd() */
  cwd?: string;
  /** the profile to put in force; absent: FIRESTREAM_PROFILE, if set */
  profile?: string;
  /** the environment's FIRESTREAM_PROFILE @default read from the environment */
  envProfile?: string;
}

/** The environment variable that selects a profile when `--profile` is not given. */
export const PROFILE_ENV = "FIRESTREAM_PROFILE";

/** Top-level keys of a firestream.toml besides the config's own tables. */
const FILE_KEYS = ["extends", "profiles"];
/** A profile's name: letters, digits, '-' and '_', at most 63. */
export const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/** One file of the chain `extends` names, the file given first. */
interface Layer {
  path: string;
  label: string;
  text: string;
  raw: Record<string, unknown>;
}

/** Reads, merges and validates the configuration. Throws ConfigError with one line. */
export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? Deno.cwd();
  const explicit = options.file !== undefined;
  const path = resolvePath(cwd, options.file ?? DEFAULT_CONFIG_FILE);
  let text = "";
  let file: string | undefined;
  try {
    text = await Deno.readTextFile(path);
    file = path;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
    }
    if (explicit) {
      throw new ConfigError(
        `config file ${path} does not exist`,
        "create one with `firestream init` or pass the right path to --config",
      );
    }
  }
  const label = file ? displayName(cwd, file) : "defaults";
  // the chain of files, the one given first, then what each extends
  const layers: Layer[] = file ? await readChain(cwd, file, text, label) : [];
  const merged: Record<string, unknown> = {};
  const profiles: Record<string, Record<string, unknown>> = {};
  for (const layer of [...layers].reverse()) {
    const { extends: _, profiles: own, ...rest } = layer.raw;
    mergeInto(merged, rest);
    for (const [name, table] of Object.entries(profileTables(own, layer.label))) {
      profiles[name] = mergeInto(profiles[name] ?? {}, table);
    }
  }
  const where = (keyPath: string[]) => ownerOf(layers, keyPath) ?? label;
  const base = validateLayered(merged, where, []);
  // every profile is checked, the one in force or not: a typo in `ci` fails on the laptop too
  for (const [name, table] of Object.entries(profiles)) {
    validateLayered(mergeInto(structuredClone(merged), table), where, [], ["profiles", name]);
  }
  const fromEnv = "envProfile" in options ? options.envProfile : Deno.env.get(PROFILE_ENV);
  const wanted = options.profile ?? (fromEnv || undefined);
  if (wanted !== undefined && !Object.hasOwn(profiles, wanted)) {
    const names = Object.keys(profiles);
    const from = options.profile !== undefined ? "--profile" : PROFILE_ENV;
    throw new ConfigError(
      `${from}: unknown profile \`${wanted}\`; ${
        names.length
          ? `${label} defines ${names.map((n) => `\`${n}\``).join(", ")}`
          : `${label} defines no profiles`
      }`,
      names.length
        ? (nearest(wanted, names) ? `did you mean \`${nearest(wanted, names)}\`?` : undefined)
        : "add a [profiles.NAME] table to the config, or leave the profile out",
    );
  }
  const raw = structuredClone(merged);
  if (wanted !== undefined) mergeInto(raw, structuredClone(profiles[wanted]));
  for (const o of options.overrides ?? []) setPath(raw, o.path, o.value);
  const config = wanted === undefined && !options.overrides?.length
    ? base
    : validateLayered(raw, where, options.overrides ?? []);
  const fingerprint = [...layers.map((l) => `${l.path}\n${l.text}`), `profile=${wanted ?? ""}`]
    .join("\n\0");
  return {
    config,
    file,
    projectDir: file ? dirname(file) : cwd,
    text,
    ...(options.overrides?.length ? { overrides: options.overrides } : {}),
    fingerprint,
    profile: wanted,
    profiles,
    bases: layers.slice(1).map((l) => l.path),
    base,
  };
}

/** The file, then the file its `extends` names, and so on; a cycle is refused naming both files. */
async function readChain(cwd: string, file: string, text: string, label: string): Promise<Layer[]> {
  const layers: Layer[] = [{ path: file, label, text, raw: parseTomlText(text, label) }];
  for (;;) {
    const last = layers[layers.length - 1];
    const ref = last.raw.extends;
    if (ref === undefined) return layers;
    if (typeof ref !== "string" || ref.trim() === "") {
      throw new ConfigError(
        `${last.label}: \`extends\`${ref === undefined ? "" : ` = ${JSON.stringify(ref)}`}: ` +
          "must be the path of another firestream.toml, relative to this file",
      );
    }
    const path = normalize(resolvePath(dirname(last.path), expandHome(ref)));
    const seen = layers.find((l) => l.path === path);
    if (seen) {
      throw new ConfigError(
        `${last.label}: \`extends\` = ${JSON.stringify(ref)} leads back to ${seen.label}: ` +
          "a cycle of extends",
        `remove \`extends\` from ${seen.label} or from ${last.label}`,
      );
    }
    let baseText: string;
    try {
      baseText = await Deno.readTextFile(path);
    } catch (err) {
      throw new ConfigError(
        `${last.label}: \`extends\` = ${JSON.stringify(ref)}: ${
          err instanceof Deno.errors.NotFound
            ? `${path} does not exist`
            : `cannot read ${path}: ${(err as Error).message}`
        }`,
        "the path is relative to the file that names it",
      );
    }
    const baseLabel = displayName(cwd, path);
    layers.push({
      path,
      label: baseLabel,
      text: baseText,
      raw: parseTomlText(baseText, baseLabel),
    });
  }
}

/** The `[profiles]` table of one file, each entry a table; anything else is refused. */
function profileTables(value: unknown, label: string): Record<string, Record<string, unknown>> {
  if (value === undefined) return {};
  if (!isTable(value)) {
    throw new ConfigError(
      `${label}: \`profiles\` must be a table of profiles, e.g. [profiles.ci]`,
    );
  }
  for (const [name, table] of Object.entries(value)) {
    if (!PROFILE_NAME.test(name)) {
      throw new ConfigError(
        `${label}: profile name \`${name}\` must be letters, digits, '-' and '_' (at most 63)`,
      );
    }
    if (!isTable(table)) {
      throw new ConfigError(
        `${label}: \`profiles.${name}\` must be a table of config keys, e.g. [profiles.${name}.cluster.k3d]`,
      );
    }
  }
  return value as Record<string, Record<string, unknown>>;
}

/** The label of the last file of the chain that sets `keyPath` (the one whose value is in force). */
function ownerOf(layers: Layer[], keyPath: string[]): string | undefined {
  for (const layer of layers) {
    let node: unknown = layer.raw;
    for (const part of keyPath) {
      node = isTable(node) && Object.hasOwn(node, part) ? node[part] : undefined;
    }
    if (node !== undefined) return layer.label;
  }
  return undefined;
}

/** A TOML table as parsed: a plain object (not an array, nor a date). */
export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/** Deep merge of TOML tables: tables merge key by key, any other value replaces. */
export function mergeInto(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
): Record<string, unknown> {
  for (const [key, value] of Object.entries(source)) {
    const have = target[key];
    if (isTable(value) && isTable(have)) mergeInto(have, value);
    else target[key] = isTable(value) ? mergeInto({}, value) : value;
  }
  return target;
}

/**
 * A config document as TOML, without the header of a table that holds only tables (`[cluster]`
 * before `[cluster.k3d]`).
 */
export function stringifyConfig(doc: Record<string, unknown>): string {
  return stringifyToml(doc).replace(/^\[[^\]\n]+\]\n(?=\[)/gm, "");
}

/** Parses TOML text, reporting syntax errors with line and column. */
export function parseTomlText(text: string, label: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      // a table header without its `]`: the parser stops where the key began; the `]` is missing
      // at the end of the line
      const line = text.split(/\r?\n/)[err.line - 1] ?? "";
      const header = /^\s*\[\[?[^\]]*$/.test(line) && !line.includes("=");
      const column = header ? line.trimEnd().length + 1 : err.column;
      const first = header
        ? `table header \`${line.trim()}\` has no closing \`${
          line.trim().startsWith("[[") ? "]]" : "]"
        }\``
        : err.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
      throw new ConfigError(
        `${label}:${err.line}:${column}: invalid TOML: ${first}`,
        "fix the syntax at that line and column",
      );
    }
    throw err;
  }
}

/** Validates a raw object against the schema; the first problem becomes a ConfigError. */
export function validate(raw: unknown, label: string, overrides: Override[] = []): Config {
  return validateLayered(raw, () => label, overrides);
}

/**
 * {@link validate}, naming the file that set the key at fault (`where`), and showing the key under
 * `prefix` (a profile's keys as `profiles.NAME.…`).
 */
function validateLayered(
  raw: unknown,
  where: (keyPath: string[]) => string,
  overrides: Override[],
  prefix: string[] = [],
): Config {
  const result = configSchema.check(raw);
  if (result.ok) return result.value;
  const path = result.issue.path.map(String);
  const at = result.issue.code === "unrecognized_keys" ? [...path, result.issue.keys[0]] : path;
  throw new ConfigError(describeIssue(result.issue, where([...prefix, ...at]), overrides, prefix));
}

function describeIssue(
  issue: Issue,
  label: string,
  overrides: Override[],
  prefix: string[] = [],
): string {
  const key = [...prefix, ...issue.path].join(".");
  if (issue.code === "unrecognized_keys") {
    const unknown = issue.keys[0];
    const full = key ? `${key}.${unknown}` : unknown;
    const valid = [
      ...keysAt(issue.path.map(String)),
      ...(issue.path.length === 0 && prefix.length === 0 ? FILE_KEYS : []),
    ];
    const guess = nearest(unknown, valid);
    const tail = guess
      ? `; did you mean \`${guess}\`?`
      : `; valid keys here: ${valid.map((k) => `\`${k}\``).join(", ")}`;
    return `${label}: unknown key \`${full}\`${tail}`;
  }
  const flag = prefix.length ? undefined : overrides.find((o) => o.path === key)?.flag;
  const where = flag ? `${flag}` : `${label}: \`${key}\``;
  const shown = issue.input === undefined ? "" : ` = ${JSON.stringify(issue.input)}`;
  return `${where}${shown}: ${explain(issue)}`;
}

function explain(issue: Issue): string {
  switch (issue.code) {
    case "too_small":
      return issue.origin === "string" || issue.origin === "array"
        ? `must have at least ${issue.minimum} ${
          issue.origin === "string" ? "characters" : "items"
        }`
        : `must be at least ${issue.minimum}`;
    case "too_big":
      return issue.origin === "string" || issue.origin === "array"
        ? `must have at most ${issue.maximum} ${issue.origin === "string" ? "characters" : "items"}`
        : `must be at most ${issue.maximum}`;
    case "invalid_type":
      return `must be ${article(issue.expected)}, found ${describeType(issue.input)}`;
    default:
      return issue.message;
  }
}

function article(type: string): string {
  return type === "int" ? "a whole number" : /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describeType(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "a table";
  if (typeof value === "number" && !Number.isInteger(value)) return "a fraction";
  return `a ${typeof value}`;
}

/** The valid keys of the table at `path`, read from the schema itself. */
export function keysAt(path: string[]): string[] {
  let fields = configSchema.fields;
  for (const part of path) {
    fields = fields && Object.hasOwn(fields, part) ? fields[part].fields : undefined;
  }
  return fields ? Object.keys(fields) : [];
}

/** Flattened leaf keys of a config table ("registry.port" → 5000). */
export function flatten(obj: unknown, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v)) Object.assign(out, flatten(v, key));
    else out[key] = v;
  }
  return out;
}

/** Sets a dotted path inside a plain object, creating tables on the way. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

function resolvePath(cwd: string, path: string): string {
  return path.startsWith("/") ? path : `${cwd.replace(/\/$/, "")}/${path}`;
}

/** `~/x` as $HOME/x. */
function expandHome(path: string): string {
  const home = Deno.env.get("HOME");
  return home && (path === "~" || path.startsWith("~/")) ? home + path.slice(1) : path;
}

/** An absolute path without `.` and `..` segments. */
function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

function displayName(cwd: string, file: string): string {
  const prefix = cwd.replace(/\/$/, "") + "/";
  return file.startsWith(prefix) ? file.slice(prefix.length) : file;
}
