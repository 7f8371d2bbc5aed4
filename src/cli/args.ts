/**
 * The command line: a command tree declared as data and parsed here, without any library. Help is
 * laid out in sections (Usage, Arguments, Options, Global Options, Commands, then examples).
 * Loading it costs no npm package and no Node module: start-up time is a feature.
 */
import { nearest } from "../config/suggest.ts";

/** One flag, declared as it is shown: `-c, --config <file>`, `--no-color`, `--store <store...>`. */
export interface OptionSpec {
  flags: string;
  description: string;
  /** the only values accepted */
  choices?: readonly string[];
  /** turns the text into the value; throws {@link InvalidValue} with the reason */
  parse?: (value: string) => unknown;
  /** the value when the flag is absent (shown in help) */
  default?: unknown;
}

/** One operand: `<name>` is required, `[name]` optional. */
export interface ArgumentSpec {
  name: string;
  description: string;
  parse?: (value: string) => unknown;
}

/** What a command's action receives. */
export interface Invocation {
  /** operands, in the order the command declares them */
  args: unknown[];
  /** the command's own flags (each command module declares their type) */
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  /** every flag of the command and of the commands above it */
  // deno-lint-ignore no-explicit-any
  all: Record<string, any>;
}

/** A command: a leaf with an action, or a group of subcommands. */
export interface CommandSpec {
  name: string;
  aliases?: string[];
  description?: string;
  hidden?: boolean;
  options?: OptionSpec[];
  arguments?: ArgumentSpec[];
  commands?: CommandSpec[];
  /** text printed after the help (examples) */
  after?: string;
  /** runs the command; a number is the exit code */
  run?: (call: Invocation) => Promise<number | void>;
}

/** A value a parser refused; the message says why. */
export class InvalidValue extends Error {}

/** Bad command-line input: printed as `error: …`, exit 1. */
export class UsageError extends Error {
  constructor(message: string, readonly suggestion?: string) {
    super(message);
  }
}

/** What the command line asks for. */
export type Parsed =
  | { kind: "run"; path: CommandSpec[]; call: Invocation }
  | { kind: "help"; path: CommandSpec[]; toStderr: boolean }
  | { kind: "version" };

const HELP: OptionSpec = { flags: "-h, --help", description: "display help for command" };
const HELP_COMMAND: CommandSpec = {
  name: "help",
  arguments: [{ name: "[command]", description: "" }],
  description: "display help for command",
};

interface Flag {
  spec: OptionSpec;
  short?: string;
  long: string;
  /** the key in the parsed options: camelCase of the long name without `no-` */
  key: string;
  negate: boolean;
  value?: "required" | "variadic";
}

const FLAG_CACHE = new WeakMap<OptionSpec, Flag>();

/** The parts of a flag declaration. */
export function flagOf(spec: OptionSpec): Flag {
  const cached = FLAG_CACHE.get(spec);
  if (cached) return cached;
  const m = /^(?:(-[A-Za-z]), )?(--[a-z0-9-]+)(?: <([^>]+)>)?$/.exec(spec.flags);
  if (!m) throw new Error(`bad flag declaration: ${spec.flags}`);
  const [, short, long, value] = m;
  const negate = long.startsWith("--no-");
  const bare = negate ? long.slice(5) : long.slice(2);
  const flag: Flag = {
    spec,
    short,
    long,
    key: bare.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
    negate,
    value: value === undefined ? undefined : value.endsWith("...") ? "variadic" : "required",
  };
  FLAG_CACHE.set(spec, flag);
  return flag;
}

function visible(cmd: CommandSpec): CommandSpec[] {
  return (cmd.commands ?? []).filter((c) => !c.hidden);
}

function findCommand(cmd: CommandSpec, word: string): CommandSpec | undefined {
  return cmd.commands?.find((c) => c.name === word || c.aliases?.includes(word));
}

/** The flags a command accepts: its own, then those of the commands above it. */
function flagsOf(path: CommandSpec[]): Flag[] {
  return [...path].reverse().flatMap((c) => (c.options ?? []).map(flagOf));
}

/** The flags of every command under `cmd`. */
function below(cmd: CommandSpec): Flag[] {
  return (cmd.commands ?? []).flatMap((c) => [...(c.options ?? []).map(flagOf), ...below(c)]);
}

function lookup(flags: Flag[], token: string): Flag | undefined {
  return flags.find((f) => f.long === token || f.short === token);
}

function isOption(token: string): boolean {
  return token.length > 1 && token.startsWith("-");
}

/**
 * Parses `argv` against `root`. The command is found first (flags may come before or after
 * command words, as kubectl allows), then every flag is read against that command's flags.
 */
export function parseArgv(root: CommandSpec, argv: string[]): Parsed {
  // 1. the command path: words that name subcommands, skipping flags and their values
  const path = [root];
  const pathIndexes = new Set<number>();
  let helpWords: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === "--") break;
    if (isOption(token)) {
      if (token.includes("=") || !token.startsWith("--") && token.length > 2) continue;
      // a flag of a command further down may come before that command's name
      const flag = lookup(flagsOf(path), token) ??
        lookup(below(path[path.length - 1]), token);
      if (!flag && token !== "-h" && token !== "--help") throw unknownOption(token, flagsOf(path));
      if (flag?.value) i++;
      continue;
    }
    const here = path[path.length - 1];
    if (!here.commands?.length) break;
    if (token === "help" && !findCommand(here, token)) {
      helpWords = argv.slice(i + 1).filter((w) => !isOption(w));
      break;
    }
    const next = findCommand(here, token);
    if (!next) {
      const names = visible(here).flatMap((c) => [c.name, ...(c.aliases ?? [])]);
      throw new UsageError(`unknown command '${token}'`, nearest(token, [...names, "help"]));
    }
    path.push(next);
    pathIndexes.add(i);
  }
  if (helpWords) {
    for (const word of helpWords) {
      const here = path[path.length - 1];
      const next = findCommand(here, word);
      if (!next) {
        if (!here.commands?.length) break;
        throw new UsageError(
          `unknown command '${word}'`,
          nearest(word, visible(here).map((c) => c.name)),
        );
      }
      path.push(next);
    }
    return { kind: "help", path, toStderr: false };
  }

  // 2. the flags and operands, against the command that was found
  const command = path[path.length - 1];
  const flags = flagsOf(path);
  const values = new Map<Flag, unknown>();
  const operands: string[] = [];
  let help = false;
  let version = false;
  const set = (flag: Flag, value: string | undefined) => {
    if (!flag.value) {
      values.set(flag, !flag.negate);
      return;
    }
    if (value === undefined) {
      throw new UsageError(`option '${flag.spec.flags}' argument missing`);
    }
    const parsed = convert(flag, value);
    if (flag.value === "variadic") {
      const before = values.get(flag);
      values.set(flag, [...(Array.isArray(before) ? before : []), parsed]);
    } else values.set(flag, parsed);
  };
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (pathIndexes.has(i)) continue;
    if (token === "--") {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (!isOption(token)) {
      operands.push(token);
      continue;
    }
    if (token === "-h" || token === "--help") {
      help = true;
      continue;
    }
    if (token.startsWith("--")) {
      const eq = token.indexOf("=");
      const name = eq < 0 ? token : token.slice(0, eq);
      const flag = lookup(flags, name);
      if (!flag) throw unknownOption(name, flags);
      if (flag.long === "--version") version = true;
      if (eq >= 0) set(flag, token.slice(eq + 1));
      else if (flag.value) {
        set(flag, argv[++i]);
        if (flag.value === "variadic") {
          while (i + 1 < argv.length && !isOption(argv[i + 1]) && !pathIndexes.has(i + 1)) {
            set(flag, argv[++i]);
          }
        }
      } else set(flag, undefined);
      continue;
    }
    // short flags: `-n ns`, `-nns`, `-Af`
    for (let j = 1; j < token.length; j++) {
      const name = `-${token[j]}`;
      if (name === "-h") {
        help = true;
        continue;
      }
      const flag = lookup(flags, name);
      if (!flag) throw unknownOption(j === 1 ? token : name, flags);
      if (flag.long === "--version") version = true;
      if (flag.value) {
        const rest = token.slice(j + 1);
        set(flag, rest || argv[++i]);
        break;
      }
      set(flag, undefined);
    }
  }
  if (help) return { kind: "help", path, toStderr: false };
  if (version) return { kind: "version" };
  if (!command.run) return { kind: "help", path, toStderr: true };

  const declared = command.arguments ?? [];
  const args: unknown[] = [];
  declared.forEach((a, i) => {
    const value = operands[i];
    const name = a.name.slice(1, -1);
    if (value === undefined) {
      if (a.name.startsWith("<")) throw new UsageError(`missing required argument '${name}'`);
      args.push(undefined);
      return;
    }
    if (!a.parse) return args.push(value);
    try {
      args.push(a.parse(value));
    } catch (err) {
      if (!(err instanceof InvalidValue)) throw err;
      throw new UsageError(
        `command-argument value '${value}' is invalid for argument '${name}'. ${err.message}`,
      );
    }
  });
  if (operands.length > declared.length) {
    const n = declared.length;
    throw new UsageError(
      `too many arguments${
        path.length > 1 ? ` for '${command.name}'` : ""
      }. Expected ${n} argument${n === 1 ? "" : "s"} but got ${operands.length}.`,
    );
  }
  const optionsOf = (cmds: CommandSpec[]) => {
    const out: Record<string, unknown> = {};
    const flags = cmds.flatMap((c) => (c.options ?? []).map(flagOf));
    // as commander: `--no-x` alone makes x true by default; beside `--x` it leaves x unset
    const positive = new Set(flags.filter((f) => !f.negate).map((f) => f.key));
    for (const flag of flags) {
      const given = values.get(flag);
      if (given !== undefined) out[flag.key] = given;
      else if (out[flag.key] !== undefined) continue;
      else if (flag.spec.default !== undefined) out[flag.key] = flag.spec.default;
      else if (flag.negate && !positive.has(flag.key)) out[flag.key] = true;
    }
    return out;
  };
  return {
    kind: "run",
    path,
    call: { args, opts: optionsOf([command]), all: optionsOf([...path].reverse()) },
  };
}

function convert(flag: Flag, value: string): unknown {
  const choices = flag.spec.choices;
  if (choices && !choices.includes(value)) {
    throw new UsageError(
      `option '${flag.spec.flags}' argument '${value}' is invalid. Allowed choices are ${
        choices.join(", ")
      }.`,
    );
  }
  if (!flag.spec.parse) return value;
  try {
    return flag.spec.parse(value);
  } catch (err) {
    if (!(err instanceof InvalidValue)) throw err;
    throw new UsageError(
      `option '${flag.spec.flags}' argument '${value}' is invalid. ${err.message}`,
    );
  }
}

function unknownOption(token: string, flags: Flag[]): UsageError {
  const names = [...flags.map((f) => f.long.slice(2)), "help"];
  const guess = token.startsWith("--") ? nearest(token.slice(2), names) : undefined;
  return new UsageError(`unknown option '${token}'`, guess && `--${guess}`);
}

// ---------- help ----------

/** Wraps `text` into lines of at most `width` columns, breaking at spaces. */
export function wrap(text: string, width: number): string {
  if (width < 40) return text;
  return text.split("\n").map((line) => {
    const words = line.match(/\s*\S+/g);
    if (!words) return "";
    const lines: string[] = [];
    let current = words[0];
    for (const word of words.slice(1)) {
      if (current.length + word.length <= width) current += word;
      else {
        lines.push(current);
        current = word.trimStart();
      }
    }
    lines.push(current);
    return lines.join("\n");
  }).join("\n");
}

function optionText(spec: OptionSpec): string {
  const extra: string[] = [];
  if (spec.choices) extra.push(`choices: ${spec.choices.map((c) => JSON.stringify(c)).join(", ")}`);
  if (spec.default !== undefined) extra.push(`default: ${JSON.stringify(spec.default)}`);
  return extra.length ? `${spec.description} (${extra.join(", ")})` : spec.description;
}

function commandTerm(cmd: CommandSpec): string {
  const alias = cmd.aliases?.length ? `|${cmd.aliases[0]}` : "";
  const options = cmd.options?.length ? " [options]" : "";
  const args = (cmd.arguments ?? []).map((a) => ` ${a.name}`).join("");
  return `${cmd.name}${alias}${options}${args}`;
}

/** The help of the last command of `path`, for a terminal `width` columns wide. */
export function renderHelp(path: CommandSpec[], width = 80): string {
  const command = path[path.length - 1];
  const usage = [
    ...path.slice(0, -1).map((c) => c.name),
    command.aliases?.length ? `${command.name}|${command.aliases[0]}` : command.name,
    "[options]",
    ...(command.commands?.length ? ["[command]"] : []),
    ...(command.arguments ?? []).map((a) => a.name),
  ].join(" ");
  const args = (command.arguments ?? []).map((a) => [a.name.slice(1, -1), a.description]);
  const own = [...(command.options ?? []), HELP].map((o) => [o.flags, optionText(o)]);
  const globals = path.slice(0, -1).reverse().flatMap((c) => c.options ?? [])
    .map((o) => [o.flags, optionText(o)]);
  const subs = command.commands?.length
    ? [...visible(command), HELP_COMMAND].map((c) => [commandTerm(c), c.description ?? ""])
    : [];
  const items = [...args, ...own, ...globals, ...subs];
  const pad = Math.max(...items.map(([term]) => term.length));
  const room = width - pad - 4;
  const item = ([term, text]: string[]) => {
    if (!text) return `  ${term}`;
    const body = room < 40 ? text : wrap(text, room).replaceAll("\n", `\n${" ".repeat(pad + 4)}`);
    return `  ${term.padEnd(pad)}  ${body}`;
  };
  const sections = [`Usage: ${usage}`];
  if (command.description) sections.push(wrap(command.description, width));
  if (args.length) sections.push(["Arguments:", ...args.map(item)].join("\n"));
  sections.push(["Options:", ...own.map(item)].join("\n"));
  if (globals.length) sections.push(["Global Options:", ...globals.map(item)].join("\n"));
  if (subs.length) sections.push(["Commands:", ...subs.map(item)].join("\n"));
  return `${sections.join("\n\n")}\n${command.after ? `${command.after}\n` : ""}`;
}
