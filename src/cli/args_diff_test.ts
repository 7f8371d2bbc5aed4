/**
 * The command-line parser against commander (the library it replaced), on command lines fast-check
 * makes from the program's own tree: the same command, operands and options, or the same error,
 * except where {@link DIFFERENCES} says why not. commander is loaded by this test only.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import fc from "fast-check";
import { assertEquals, assertOk } from "../../test/assert.ts";
import {
  type CommandSpec,
  flagOf,
  InvalidValue,
  parseArgv,
  renderHelp,
  UsageError,
} from "./args.ts";
import { normalizeArgs, PROGRAM } from "./program.ts";

/** What a parser made of a command line. */
type Outcome =
  | { run: string; args: unknown[]; opts: Record<string, unknown> }
  | { help: string }
  | { version: true }
  | { error: string };

/**
 * Where firestream means something else than commander did, on purpose; each is a test of the
 * command line: it is one of these exactly when the outcomes differ.
 */
const DIFFERENCES: { why: string; example: string[]; applies: (argv: string[]) => boolean }[] = [
  {
    why:
      "a bundle of short flags may mix global flags and the command's own in any order; commander left the rest of a bundle to the command of its first letter",
    example: ["cluster", "logs", "-fo", "json"],
    applies: (argv) => {
      const root = (PROGRAM.options ?? []).map(flagOf);
      return argv.some((a) => {
        if (!/^-[A-Za-z]{2,}/.test(a)) return false;
        const letters = [...a.slice(1)].map((c) => `-${c}`);
        const global = letters.map((l) => root.some((f) => f.short === l));
        return global.includes(true) && global.includes(false);
      });
    },
  },
  {
    why:
      "`-h` before the command words shows the help of the command named (kubectl's); commander showed the top-level help",
    example: ["-h", "cluster", "info"],
    applies: (argv) => {
      const path = pathOf(argv);
      const help = argv.findIndex((a) => a === "-h" || a === "--help");
      return help >= 0 && help < path[path.length - 1].index;
    },
  },
  {
    why: "`-h` after `--` is an operand; commander still showed the help",
    example: ["state", "backups", "--yse", "--", "-h"],
    applies: (argv) =>
      argv.slice(argv.indexOf("--") + 1).some((a) => a === "-h" || a === "--help") &&
      argv.includes("--"),
  },
  {
    why:
      "after `--` come operands only, never a command word: commander still took one for a group",
    example: ["cluster", "--", "logs"],
    applies: (argv) => {
      const at = argv.indexOf("--");
      const path = pathOf(argv);
      return at >= 0 && path[path.length - 1].spec.commands !== undefined &&
        path[path.length - 1].index < at;
    },
  },
  {
    why:
      "a switch given =true or =false (pflag's habit, as kubectl users type): commander refused any value",
    example: ["cluster", "delete", "--yes=false"],
    applies: (argv) =>
      argv.some((a) => /^--[a-z-]+=/.test(a) && isSwitch(a.split("=")[0])) ||
      argv.some((a) => /^-[A-Za-z]+=/.test(a) && isSwitch(`-${a[a.indexOf("=") - 1]}`)),
  },
  {
    why: "`-o=json` (a short flag, `=`, its value) is json as in kubectl; commander read `=json`",
    example: ["-o=json", "version"],
    applies: (argv) => argv.some((a) => /^-[A-Za-z]*[A-Za-z]=/.test(a)),
  },
  {
    why:
      "after `cluster logs`, -c is --container (kubectl's); commander's program took it as --config",
    example: ["cluster", "logs", "-c", "main"],
    applies: (argv) => {
      const at = argv.findIndex((a, i) => a === "logs" && argv[i - 1] === "cluster");
      return at >= 0 && argv.slice(at).some((a) => /^-[A-Za-z]*c/.test(a));
    },
  },
  {
    why:
      "a subcommand's flag before the subcommand's name (kubectl allows it); commander refused it",
    example: ["--purge-certs", "cluster", "delete"],
    applies: (argv) => {
      const path = pathOf(argv);
      return argv.some((a, i) => {
        const at = path.findIndex((p) => p.index > i);
        if (!a.startsWith("-") || at < 0) return false;
        const names = a.startsWith("--") ? [a.split("=")[0]] : [...a.slice(1)].map((c) => `-${c}`);
        const known = path.slice(0, at).flatMap((p) => p.spec.options ?? []).map(flagOf);
        const later = path.slice(at).flatMap((p) => p.spec.options ?? []).map(flagOf);
        const is = (f: ReturnType<typeof flagOf>, n: string) => f.long === n || f.short === n;
        return names.some((n) => !known.some((f) => is(f, n)) && later.some((f) => is(f, n)));
      });
    },
  },
];

function allFlags(cmd: CommandSpec): ReturnType<typeof flagOf>[] {
  return [...(cmd.options ?? []).map(flagOf), ...(cmd.commands ?? []).flatMap(allFlags)];
}

function isSwitch(name: string): boolean {
  return allFlags(PROGRAM).some((f) => (f.long === name || f.short === name) && !f.value);
}

/** The command words of `argv` and where they stand (a rough walk: values of known flags skipped). */
function pathOf(argv: string[]): { spec: CommandSpec; index: number }[] {
  const out = [{ spec: PROGRAM, index: -1 }];
  for (let i = 0; i < argv.length; i++) {
    const here = out[out.length - 1].spec;
    const a = argv[i];
    if (a === "--") break;
    if (a.startsWith("-")) {
      const find = (n: string) => allFlags(PROGRAM).find((f) => f.long === n || f.short === n);
      if (a.startsWith("--")) {
        if (!a.includes("=") && find(a)?.value) i++;
        continue;
      }
      const at = [...a.slice(1)].findIndex((c) => find(`-${c}`)?.value);
      if (at >= 0 && at === a.length - 2) i++;
      continue;
    }
    const next = here.commands?.find((c) => c.name === a || c.aliases?.includes(a));
    if (!next) break;
    out.push({ spec: next, index: i });
  }
  return out;
}

/** JSON with the keys of every object sorted: the order options were given in does not count. */
function canonical(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
        : v,
  );
}

function optsOf(o: Outcome): Record<string, unknown> {
  assertOk("opts" in o, JSON.stringify(o));
  return o.opts;
}

function ours(argv: string[]): Outcome {
  try {
    const p = parseArgv(PROGRAM, argv);
    if (p.kind === "version") return { version: true };
    if (p.kind === "help") return { help: renderHelp(p.path).split("\n")[0] };
    return { run: p.path.map((c) => c.name).join(" "), args: p.call.args, opts: p.call.all };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return {
      error: err.suggestion ? `${err.message}\n(Did you mean ${err.suggestion}?)` : err.message,
    };
  }
}

/** The program as commander declared it: the same tree, flags, choices, parsers and defaults. */
function commander(spec: CommandSpec, seen: { outcome?: Outcome; help?: string }): Command {
  const cmd = new Command(spec.name);
  cmd.exitOverride().showSuggestionAfterError(true).configureOutput({
    writeOut: (s) => void (seen.help ??= s),
    writeErr: (s) => void (seen.help ??= s),
    outputError: () => {},
  });
  for (const a of spec.aliases ?? []) cmd.alias(a);
  const parser = (parse?: (v: string) => unknown) =>
    parse &&
    ((value: string) => {
      try {
        return parse(value);
      } catch (err) {
        if (err instanceof InvalidValue) throw new InvalidArgumentError(err.message);
        throw err;
      }
    });
  for (const o of spec.options ?? []) {
    if (o.flags === "-V, --version") {
      cmd.version("v", "-V, --version", o.description);
      continue;
    }
    const option = new Option(o.flags, o.description);
    if (o.choices) option.choices(o.choices);
    if (o.parse) option.argParser(parser(o.parse)!);
    if (o.default !== undefined) option.default(o.default);
    cmd.addOption(option);
  }
  for (const a of spec.arguments ?? []) cmd.argument(a.name, a.description, parser(a.parse));
  for (const sub of spec.commands ?? []) {
    cmd.addCommand(commander(sub, seen), sub.hidden ? { hidden: true } : {});
  }
  if (spec.run) {
    cmd.action((...all: unknown[]) => {
      const self = all[all.length - 1] as Command;
      const names: string[] = [];
      for (let c: Command | null = self; c; c = c.parent) names.unshift(c.name());
      seen.outcome = {
        run: names.join(" "),
        args: all.slice(0, -2),
        opts: self.optsWithGlobals(),
      };
    });
  }
  return cmd;
}

function theirs(argv: string[]): Outcome {
  const seen: { outcome?: Outcome; help?: string } = {};
  try {
    commander(PROGRAM, seen).parse(argv, { from: "user" });
    return seen.outcome!;
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === "commander.version") return { version: true };
    if (
      ["commander.helpDisplayed", "commander.help", "commander.executeSubCommandAsync"].includes(
        err.code,
      )
    ) {
      return { help: seen.help!.split("\n")[0] };
    }
    return { error: err.message.replace(/^error: /, "") };
  }
}

/** Words a user types: the tree's command words, its flags in every spelling, values and typos. */
const commandLine: fc.Arbitrary<string[]> = fc.constantFrom(...paths(PROGRAM, [])).chain((path) => {
  const specs = path.map((p) => p.spec);
  const flags = specs.flatMap((s) => s.options ?? []).map(flagOf);
  const value = (f: ReturnType<typeof flagOf>) =>
    f.spec.choices
      ? fc.oneof(fc.constantFrom(...f.spec.choices), fc.constantFrom("xml", ""))
      : f.spec.parse
      ? fc.oneof(fc.nat(70000).map(String), fc.constantFrom("x", "-1", "1.5"))
      : fc.constantFrom("a.toml", "web", "kube-system", "v1.31.2-k3s1");
  const flag = fc.constantFrom(...flags).chain((f) => {
    const names = [f.long, ...(f.short ? [f.short] : [])];
    if (!f.value) {
      return fc.oneof(
        fc.constantFrom(...names).map((n) => [n]),
        fc.tuple(fc.constantFrom(...names), fc.constantFrom("true", "false", "0", "yes"))
          .map(([n, v]) => [`${n}=${v}`]),
      );
    }
    return fc.tuple(fc.constantFrom(...names), value(f), fc.nat(2)).map(([n, v, form]) =>
      form === 0 ? [n, v] : form === 1 ? [`${n}=${v}`] : n.startsWith("--") ? [n, v] : [`${n}${v}`]
    );
  });
  // short switches bundled, ending (sometimes) in a short flag that takes a value
  const shorts = flags.filter((f) => f.short);
  const bundle = shorts.length < 2 ? flag : fc.tuple(
    fc.subarray(shorts.filter((f) => !f.value), { minLength: 1 }),
    fc.option(fc.constantFrom(...shorts.filter((f) => f.value)), { nil: undefined }),
    fc.constantFrom("a.toml", "json", "web"),
  ).map(([sw, last, v]) => {
    const letters = sw.map((f) => f.short![1]).join("");
    return last ? [`-${letters}${last.short![1]}`, v] : [`-${letters}`];
  });
  const operand = fc.constantFrom("web", "pod", "deployment/web", "12", "bash", "extra");
  const odd = fc.constantFrom(["--yse"], ["--folow"], ["-x"], ["--help"], ["-h"], ["--"], ["-V"]);
  const words = path.slice(1).map((p) => [p.name]);
  return fc.tuple(
    fc.array(fc.oneof({ weight: 5, arbitrary: flag }, bundle, operand.map((o) => [o]), odd), {
      maxLength: 5,
    }),
    fc.nat(words.length),
  ).map(([extra, at]) => {
    // the extra words go after the command words, some of them before
    const before = extra.slice(0, at === 0 ? 0 : Math.min(extra.length, 1));
    return [...before, ...words, ...extra.slice(before.length)].flat();
  });
});

function paths(
  spec: CommandSpec,
  above: { spec: CommandSpec; name: string }[],
): { spec: CommandSpec; name: string }[][] {
  const here = [...above, { spec, name: spec.name }];
  return [
    here,
    ...(spec.commands ?? []).filter((c) => !c.hidden).flatMap((c) =>
      [c.name, ...(c.aliases ?? [])].flatMap((name) =>
        paths(c, here).map((p) => p.map((x, i) => i === here.length ? { ...x, name } : x))
      )
    ),
  ];
}

Deno.test("args: generated command lines parse as commander parsed them, but for the listed differences", () => {
  let same = 0;
  fc.assert(
    fc.property(commandLine, (raw) => {
      const argv = normalizeArgs(raw);
      if (DIFFERENCES.some((d) => d.applies(argv))) return;
      assertEquals(ours(argv), theirs(argv), argv.join(" "));
      same++;
    }),
    { numRuns: 4000, seed: 26 },
  );
  assertOk(same > 2000, `only ${same} lines without a listed difference`);
});

Deno.test("args: each listed difference from commander is one, shown by its example", () => {
  const both = (argv: string[]) => [ours(normalizeArgs(argv)), theirs(normalizeArgs(argv))];
  for (const d of DIFFERENCES) {
    assertOk(d.applies(d.example), `${d.why}: the example is not of it`);
    const [a, b] = both(d.example);
    assertOk(canonical(a) !== canonical(b), `${d.why}: both read ${canonical(a)}`);
  }
  const [a1, b1] = both(["cluster", "delete", "--yes=false"]);
  assertEquals([optsOf(a1).yes, b1], [false, { error: "unknown option '--yes=false'" }]);
  const [a2, b2] = both(["-o=json", "version"]);
  assertEquals(optsOf(a2).output, "json");
  assertEquals(b2, {
    error:
      "option '-o, --output <format>' argument '=json' is invalid. Allowed choices are json, yaml.",
  });
  const [a3, b3] = both(["cluster", "logs", "-c", "main"]);
  assertEquals([optsOf(a3).container, optsOf(a3).config], ["main", undefined]);
  assertEquals([optsOf(b3).container, optsOf(b3).config], [undefined, "main"]);
  // and where they agree: a bundle that ends in a value flag, -c before `cluster logs`
  for (
    const argv of [["-qo", "json", "version"], ["-yc", "f.toml", "plan"], [
      "-c",
      "other.toml",
      "cluster",
      "logs",
    ]]
  ) {
    const [a, b] = both(argv);
    assertEquals(a, b, argv.join(" "));
  }
  assertEquals(optsOf(both(["-c", "other.toml", "cluster", "logs"])[0]).config, "other.toml");
});
