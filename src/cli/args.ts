/**
 * The command line: a command tree declared as data and parsed here, without any library. Help is
 * laid out in sections (Usage, Arguments, Options, Commands, Global Options, then examples).
 * Loading it costs no npm package and no Node module: start-up time is a feature.
 */
import { similarWords } from "../config/suggest.ts";

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
  /** words other tools use for a command here (`destroy`), and the command to suggest instead */
  synonyms?: Record<string, string>;
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

/** The values a switch (a flag without a value) may be given with `=`: pflag's habit. */
const SWITCH_VALUES: Record<string, boolean> = { true: true, false: false };

/** The parts of one option token: each flag it names, with the value written in it (if any). */
interface Named {
  name: string;
  /** the value written in the token itself: `--tail=5`, `-n5`, `-o=json` */
  inline?: string;
}

/**
 * The flags one token names: `--name`, `--name=value`, or a bundle of short flags `-Af`, `-qo json`,
 * `-nkube-system`, `-o=json` (the rest of a bundle after a flag that takes a value is that value;
 * a leading `=` is dropped, as kubectl does). `resolve` finds each short flag to know where a
 * value starts.
 */
function namesOf(token: string, resolve: (name: string) => Flag | undefined): Named[] {
  if (token.startsWith("--")) {
    const eq = token.indexOf("=");
    return [eq < 0 ? { name: token } : { name: token.slice(0, eq), inline: token.slice(eq + 1) }];
  }
  const out: Named[] = [];
  for (let j = 1; j < token.length; j++) {
    const name = `-${token[j]}`;
    const rest = token.slice(j + 1);
    const flag = resolve(name);
    if (flag?.value || rest.startsWith("=")) {
      out.push(rest ? { name, inline: rest.replace(/^=/, "") } : { name });
      break;
    }
    out.push({ name });
  }
  return out;
}

/** A negative number is an operand of a command without subcommands, not a flag (commander's rule). */
const NEGATIVE_NUMBER = /^-\d*\.?\d+(e[+-]?\d+)?$/;

/**
 * Parses `argv` against `root`. The command is found first (flags may come before or after
 * command words, as kubectl allows), then every flag is read against that command's flags. A
 * flag means what it means at the place it stands: before `cluster logs`, `-c` is the global
 * `--config`; after it, the command's own `--container`. A flag of a command named later may
 * come before that command's name.
 *
 * Problems are reported in commander's order: the global flags are read first, wherever they
 * stand (`--version` answers at once); then a word that is no command; then the command's own
 * flags in order; `--help` wins over an unknown flag or command and over missing operands.
 */
export function parseArgv(root: CommandSpec, argv: string[]): Parsed {
  // 1. the command path: words that name subcommands, skipping flags and their values; it stops
  // at the first unknown flag or command, which is reported after the global flags are read
  const path = [root];
  const pathIndexes = new Set<number>();
  /** how many commands were named before each option token */
  const depthAt = new Map<number, number>();
  let helpWords: string[] | undefined;
  let problem: UsageError | undefined;
  let end = argv.indexOf("--");
  if (end < 0) end = argv.length;
  for (let i = 0; i < argv.length && !problem; i++) {
    const token = argv[i];
    const here = path[path.length - 1];
    // a command without subcommands: the path is complete, its flags are read below
    if (!here.commands?.length) break;
    if (token === "--") {
      // after `--` come operands only: a group has none
      if (i + 1 < argv.length) {
        problem = new UsageError(`unknown command '${argv[i + 1]}'`);
      }
      break;
    }
    if (isOption(token)) {
      depthAt.set(i, path.length);
      // a flag of a command further down may come before that command's name
      const resolve = (name: string) => lookup(flagsOf(path), name) ?? lookup(below(here), name);
      const names = namesOf(token, resolve);
      const unknown = names.findIndex(({ name }) =>
        !resolve(name) && name !== "-h" && name !== "--help"
      );
      if (unknown >= 0) {
        const { name } = names[unknown];
        problem = unknownOption(unknown === 0 ? token : name, name, flagsOf(path));
        break;
      }
      const last = names[names.length - 1];
      if (last.inline === undefined && resolve(last.name)?.value) i++;
      continue;
    }
    if (token === "help" && !findCommand(here, token)) {
      helpWords = argv.slice(i + 1).filter((w) => !isOption(w));
      break;
    }
    const next = findCommand(here, token);
    if (!next) {
      const names = visible(here).flatMap((c) => [c.name, ...(c.aliases ?? [])]);
      problem = new UsageError(
        `unknown command '${token}'`,
        here.synonyms?.[token] ?? similarWords(token, [...names, "help"]),
      );
      break;
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
          similarWords(word, visible(here).map((c) => c.name)),
        );
      }
      path.push(next);
    }
    return { kind: "help", path, toStderr: false };
  }

  // 2. every flag where it stands, with the value it takes, and the operands
  const command = path[path.length - 1];
  const flags = flagsOf(path);
  const operands: string[] = [];
  const given: { flag?: Flag; name: string; shown: string; value?: string; inline: boolean }[] = [];
  let help = false;
  for (let i = 0; i < end; i++) {
    const token = argv[i];
    if (pathIndexes.has(i)) continue;
    if (!isOption(token) || (NEGATIVE_NUMBER.test(token) && !command.commands?.length)) {
      operands.push(token);
      continue;
    }
    // the commands named before the flag first, then those named after it
    const before = flagsOf(path.slice(0, depthAt.get(i) ?? path.length));
    const resolve = (name: string) => lookup(before, name) ?? lookup(flags, name);
    for (const [k, { name, inline }] of namesOf(token, resolve).entries()) {
      if (name === "-h" || name === "--help") {
        // `-h` inside a bundle is only a letter to commander; given alone it asks for help
        if (token === name) help = true;
        continue;
      }
      const flag = resolve(name);
      const shown = k === 0 ? token : name;
      if (!flag?.value || inline !== undefined) {
        given.push({ flag, name, shown, value: inline, inline: inline !== undefined });
        continue;
      }
      given.push({ flag, name, shown, value: argv[++i], inline: false });
      if (flag.value === "variadic") {
        while (i + 1 < end && !isOption(argv[i + 1]) && !pathIndexes.has(i + 1)) {
          given.push({ flag, name, shown, value: argv[++i], inline: false });
        }
      }
    }
  }
  if (end < argv.length) operands.push(...argv.slice(end + 1));

  const values = new Map<Flag, unknown>();
  const set = (flag: Flag, value: string | undefined, inline: boolean) => {
    if (!flag.value) {
      if (!inline) return values.set(flag, !flag.negate);
      const on = SWITCH_VALUES[value!];
      if (on === undefined) {
        throw new UsageError(
          `option '${flag.spec.flags}' takes no value, or =true or =false; got '${value}'`,
        );
      }
      return values.set(flag, on !== flag.negate);
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
  // the global flags first, wherever they stand: the version is printed as soon as it is asked for
  const global = new Set((root.options ?? []).map(flagOf));
  for (const g of given) {
    if (!g.flag || !global.has(g.flag)) continue;
    if (g.flag.long === "--version") return { kind: "version" };
    set(g.flag, g.value, g.inline);
  }
  if (problem) {
    if (help) return { kind: "help", path, toStderr: false };
    throw problem;
  }
  let unknown: UsageError | undefined;
  for (const g of given.filter((g) => !g.flag || !global.has(g.flag))) {
    if (!g.flag) unknown ??= unknownOption(g.shown, g.name, flags);
    else set(g.flag, g.value, g.inline);
  }
  if (
    command.commands?.length && !operands.length && !help &&
    given.every((g) => g.flag && global.has(g.flag))
  ) {
    return { kind: "help", path, toStderr: true };
  }
  if (help) return { kind: "help", path, toStderr: false };
  if (unknown) throw unknown;
  if (!command.run) return { kind: "help", path, toStderr: true };

  // missing operands first, then too many, then each operand's value (commander's order)
  const declared = command.arguments ?? [];
  declared.forEach((a, i) => {
    if (a.name.startsWith("<") && operands[i] === undefined) {
      throw new UsageError(`missing required argument '${a.name.slice(1, -1)}'`);
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
  const args = declared.map((a, i) => {
    const value = operands[i];
    if (value === undefined || !a.parse) return value;
    try {
      return a.parse(value);
    } catch (err) {
      if (!(err instanceof InvalidValue)) throw err;
      throw new UsageError(
        `command-argument value '${value}' is invalid for argument '${
          a.name.slice(1, -1)
        }'. ${err.message}`,
      );
    }
  });
  // each command's options over those of the commands above it (commander's optsWithGlobals)
  const optionsOf = (cmds: CommandSpec[]) => {
    const out: Record<string, unknown> = {};
    const flags = cmds.flatMap((c) => (c.options ?? []).map(flagOf));
    // as commander: `--no-x` alone makes x true by default; beside `--x` it leaves x unset
    const positive = new Set(flags.filter((f) => !f.negate).map((f) => f.key));
    for (const flag of flags) {
      const value = values.get(flag) ?? flag.spec.default ??
        (flag.negate && !positive.has(flag.key) ? true : undefined);
      if (value !== undefined) out[flag.key] = value;
    }
    return out;
  };
  return {
    kind: "run",
    path,
    call: { args, opts: optionsOf([command]), all: optionsOf(path) },
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

/** `shown` is what the user wrote (a whole bundle, or `--name=value`); `name` the flag looked for. */
function unknownOption(shown: string, name: string, flags: Flag[]): UsageError {
  const names = [...flags.map((f) => f.long), "--help"];
  const guess = name.startsWith("--") ? similarWords(shown, names) : undefined;
  return new UsageError(`unknown option '${shown}'`, guess);
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
  // a group's subcommands are what its reader looks for: before the global options
  if (subs.length) sections.push(["Commands:", ...subs.map(item)].join("\n"));
  if (globals.length) sections.push(["Global Options:", ...globals.map(item)].join("\n"));
  return `${sections.join("\n\n")}\n${command.after ? `${command.after}\n` : ""}`;
}
