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
  /** the raw file text, for staleness checks of saved plans */
  text: string;
}

/** Options for {@link loadConfig}. */
export interface LoadOptions {
  /** explicit --config path; when absent ./firestream.toml is used if it exists */
  file?: string;
  /** values from CLI flags, applied over the file */
  overrides?: Override[];
  /** working directory @default Deno.cwd() */
  cwd?: string;
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
  const raw = file ? parseTomlText(text, label) : {};
  for (const o of options.overrides ?? []) setPath(raw, o.path, o.value);
  const config = validate(raw, label, options.overrides ?? []);
  return { config, file, projectDir: file ? dirname(file) : cwd, text };
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
      const first = err.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
      throw new ConfigError(
        `${label}:${err.line}:${err.column}: invalid TOML: ${first}`,
        "fix the syntax at that line and column",
      );
    }
    throw err;
  }
}

/** Validates a raw object against the schema; the first problem becomes a ConfigError. */
export function validate(raw: unknown, label: string, overrides: Override[] = []): Config {
  const result = configSchema.check(raw);
  if (result.ok) return result.value;
  throw new ConfigError(describeIssue(result.issue, label, overrides));
}

function describeIssue(issue: Issue, label: string, overrides: Override[]): string {
  const key = issue.path.join(".");
  if (issue.code === "unrecognized_keys") {
    const unknown = issue.keys[0];
    const full = key ? `${key}.${unknown}` : unknown;
    const valid = keysAt(issue.path.map(String));
    const guess = nearest(unknown, valid);
    const tail = guess
      ? `; did you mean \`${guess}\`?`
      : `; valid keys here: ${valid.map((k) => `\`${k}\``).join(", ")}`;
    return `${label}: unknown key \`${full}\`${tail}`;
  }
  const flag = overrides.find((o) => o.path === key)?.flag;
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

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

function displayName(cwd: string, file: string): string {
  const prefix = cwd.replace(/\/$/, "") + "/";
  return file.startsWith(prefix) ? file.slice(prefix.length) : file;
}
