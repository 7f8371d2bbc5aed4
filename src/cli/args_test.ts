import { assertEquals, assertOk } from "../../test/assert.ts";
import {
  type CommandSpec,
  InvalidValue,
  parseArgv,
  type Parsed,
  renderHelp,
  UsageError,
  wrap,
} from "./args.ts";
import { PROGRAM } from "./program.ts";

const count = (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidValue(`must be a whole number, got "${value}"`);
  return Number(value);
};

const run = async () => {};
const TREE: CommandSpec = {
  name: "tool",
  options: [
    { flags: "-c, --config <file>", description: "config" },
    { flags: "-y, --yes", description: "yes" },
    { flags: "-o, --output <format>", description: "format", choices: ["json", "yaml"] },
    { flags: "--no-color", description: "no color" },
    { flags: "-V, --version", description: "version" },
  ],
  commands: [
    {
      name: "cluster",
      commands: [
        {
          name: "delete",
          aliases: ["rm"],
          arguments: [{ name: "[name]", description: "name" }],
          options: [{ flags: "--purge-certs", description: "purge" }],
          run,
        },
        {
          name: "logs",
          arguments: [{ name: "[target]", description: "t" }, { name: "[name]", description: "n" }],
          options: [
            { flags: "-n, --namespace <ns>", description: "ns", default: "default" },
            { flags: "-A, --all-namespaces", description: "all" },
            { flags: "-f, --follow", description: "follow" },
            { flags: "--tail <lines>", description: "tail", parse: count },
          ],
          run,
        },
      ],
    },
    {
      name: "trust",
      options: [
        { flags: "--store <store...>", description: "stores", choices: ["system", "nss"] },
        { flags: "--no-headers", description: "no headers" },
      ],
      run,
    },
    {
      name: "restore",
      arguments: [{ name: "<serial>", description: "serial", parse: count }],
      run,
    },
  ],
};

function ran(argv: string[]) {
  const p = parseArgv(TREE, argv) as Parsed & { kind: "run" };
  assertEquals(p.kind, "run", argv.join(" "));
  return { command: p.path.map((c) => c.name).join(" "), ...p.call };
}

function refused(argv: string[]): string {
  try {
    parseArgv(TREE, argv);
  } catch (err) {
    assertOk(err instanceof UsageError, String(err));
    return err.suggestion ? `${err.message} / ${err.suggestion}` : err.message;
  }
  throw new Error(`accepted: ${argv.join(" ")}`);
}

Deno.test("args: flags before or after the command words, in every spelling", () => {
  const a = ran(["-y", "cluster", "logs", "-Af", "--tail=5", "deployment/web", "-nkube-system"]);
  assertEquals(a.command, "tool cluster logs");
  assertEquals(a.args, ["deployment/web", undefined]);
  assertEquals(a.opts, { namespace: "kube-system", allNamespaces: true, follow: true, tail: 5 });
  assertEquals(a.all, { ...a.opts, yes: true, color: true });
  const b = ran(["cluster", "rm", "old", "--config", "x.toml", "--no-color", "--purge-certs"]);
  assertEquals([b.command, b.args, b.opts], ["tool cluster delete", ["old"], { purgeCerts: true }]);
  assertEquals(b.all, { purgeCerts: true, config: "x.toml", color: false });
  // a flag of a command further down may come before its name; `--` ends the flags
  assertEquals(ran(["--purge-certs", "cluster", "delete"]).opts, { purgeCerts: true });
  assertEquals(ran(["cluster", "logs", "--", "-n", "x"]).args, ["-n", "x"]);
});

Deno.test("args: defaults, negations, choices and variadic values", () => {
  assertEquals(ran(["cluster", "logs"]).opts, { namespace: "default" });
  assertEquals(ran(["trust"]).opts, { headers: true });
  assertEquals(ran(["trust", "--no-headers"]).opts, { headers: false });
  assertEquals(ran(["trust", "--store", "system", "nss", "--no-headers"]).opts.store, [
    "system",
    "nss",
  ]);
  assertEquals(ran(["trust", "--store", "nss", "--store", "system"]).opts.store, ["nss", "system"]);
  assertEquals(ran(["-o", "yaml", "trust"]).all.output, "yaml");
});

Deno.test("args: bad input is one line naming the word and what is wrong", () => {
  assertEquals(refused(["clustr"]), "unknown command 'clustr' / cluster");
  assertEquals(refused(["cluster", "delet"]), "unknown command 'delet' / delete");
  assertEquals(refused(["--yse"]), "unknown option '--yse' / --yes");
  assertEquals(refused(["cluster", "logs", "--folow"]), "unknown option '--folow' / --follow");
  assertEquals(refused(["--zzzzzzzz", "trust"]), "unknown option '--zzzzzzzz'");
  assertEquals(refused(["trust", "--headers"]), "unknown option '--headers' / --no-headers");
  assertEquals(refused(["--color", "trust"]), "unknown option '--color' / --no-color");
  assertEquals(refused(["cluster", "logs", "-x"]), "unknown option '-x'");
  assertEquals(
    refused(["-o", "xml", "trust"]),
    "option '-o, --output <format>' argument 'xml' is invalid. Allowed choices are json, yaml.",
  );
  assertEquals(
    refused(["trust", "--store", "bogus"]),
    "option '--store <store...>' argument 'bogus' is invalid. Allowed choices are system, nss.",
  );
  assertEquals(
    refused(["cluster", "logs", "--tail", "x"]),
    `option '--tail <lines>' argument 'x' is invalid. must be a whole number, got "x"`,
  );
  assertEquals(refused(["cluster", "logs", "--tail"]), "option '--tail <lines>' argument missing");
  assertEquals(refused(["restore"]), "missing required argument 'serial'");
  assertEquals(
    refused(["restore", "x"]),
    `command-argument value 'x' is invalid for argument 'serial'. must be a whole number, got "x"`,
  );
  assertEquals(
    refused(["cluster", "delete", "a", "b"]),
    "too many arguments for 'delete'. Expected 1 argument but got 2.",
  );
});

Deno.test("args: help and version, wherever they are asked for", () => {
  const help = (argv: string[]) => {
    const p = parseArgv(TREE, argv);
    return p.kind === "help" ? `${p.path.map((c) => c.name).join(" ")} ${p.toStderr}` : p.kind;
  };
  assertEquals(help(["--help"]), "tool false");
  assertEquals(help(["cluster", "logs", "-h"]), "tool cluster logs false");
  assertEquals(help(["help", "cluster", "rm"]), "tool cluster delete false");
  assertEquals(help(["cluster", "help", "logs"]), "tool cluster logs false");
  // a group without its subcommand: the group's help, on stderr (exit 1)
  assertEquals(help(["cluster"]), "tool cluster true");
  assertEquals(help([]), "tool true");
  assertEquals(help(["-V"]), "version");
  assertEquals(help(["cluster", "logs", "--version"]), "version");
});

Deno.test("args: help lists arguments, options, global options and commands in one column", () => {
  const logs = TREE.commands![0].commands![1];
  const text = renderHelp([TREE, TREE.commands![0], logs], 80);
  assertEquals(
    text.split("\n").slice(0, 13),
    [
      "Usage: tool cluster logs [options] [target] [name]",
      "",
      "Arguments:",
      "  target                 t",
      "  name                   n",
      "",
      "Options:",
      '  -n, --namespace <ns>   ns (default: "default")',
      "  -A, --all-namespaces   all",
      "  -f, --follow           follow",
      "  --tail <lines>         tail",
      "  -h, --help             display help for command",
      "",
    ],
  );
  assertEquals(text.includes("Global Options:\n  -c, --config <file>    config\n"), true);
  assertEquals(text.includes('(choices: "json", "yaml")'), true);
  assertEquals(
    renderHelp([TREE, TREE.commands![0]], 80).split("Commands:\n")[1],
    [
      "  delete|rm [options] [name]",
      "  logs [options] [target] [name]",
      "  help [command]                  display help for command",
      "",
    ].join("\n"),
  );
});

Deno.test("args: descriptions wrap at the terminal's width, never inside a word", () => {
  const text = "one two three four five six seven eight nine ten eleven twelve thirteen";
  assertEquals(wrap(text, 40).split("\n"), [
    "one two three four five six seven eight",
    "nine ten eleven twelve thirteen",
  ]);
  // narrower than 40 columns, a description is left as it is
  assertEquals(wrap(text, 39), text);
  // every command's help, examples included, fits 80 columns and more
  const walk = (path: CommandSpec[]) => {
    for (const width of [80, 100, 140]) {
      for (const line of renderHelp(path, width).split("\n")) {
        assertEquals(line.length <= width, true, `${width}: ${line}`);
      }
    }
    for (const sub of path[path.length - 1].commands ?? []) walk([...path, sub]);
  };
  walk([PROGRAM]);
});

Deno.test("args: every command of the program parses its own help and its examples' flags", () => {
  const walk = (path: CommandSpec[]) => {
    const cmd = path[path.length - 1];
    const words = path.slice(1).map((c) => c.name);
    const p = parseArgv(PROGRAM, [...words, "--help"]);
    assertEquals(p.kind, "help", words.join(" "));
    for (const line of (cmd.after ?? "").split("\n")) {
      const m = /^ {2}\$ firestream (.*)$/.exec(line);
      if (!m || /[<>|#]/.test(m[1])) continue;
      const argv = m[1].split(/\s+/);
      const parsed = parseArgv(PROGRAM, argv);
      assertEquals(parsed.kind === "run" || parsed.kind === "help", true, m[1]);
    }
    for (const sub of cmd.commands ?? []) walk([...path, sub]);
  };
  walk([PROGRAM]);
});

Deno.test("args: a switch takes no value, or exactly true or false; anything else is refused", () => {
  assertEquals(ran(["--yes=true", "trust"]).all.yes, true);
  assertEquals(ran(["--yes=false", "trust"]).all.yes, false);
  assertEquals(ran(["-y=false", "trust"]).all.yes, false);
  assertEquals(ran(["trust", "--no-headers=true"]).opts.headers, false);
  assertEquals(ran(["trust", "--no-headers=false"]).opts.headers, true);
  for (const bad of ["0", "1", "no", "False", "yes", ""]) {
    assertEquals(
      refused(["cluster", "delete", `--yes=${bad}`]),
      `option '-y, --yes' takes no value, or =true or =false; got '${bad}'`,
    );
  }
  assertEquals(
    refused(["cluster", "delete", "--purge-certs=0"]),
    "option '--purge-certs' takes no value, or =true or =false; got '0'",
  );
});

Deno.test("args: a flag means what it means where it stands; -c is --container only after logs", () => {
  const logsTree: CommandSpec = {
    ...TREE,
    commands: [{
      name: "cluster",
      commands: [{
        name: "logs",
        options: [{ flags: "-c, --container <name>", description: "c" }],
        run,
      }],
    }],
  };
  const read = (argv: string[]) => {
    const p = parseArgv(logsTree, argv);
    assertOk(p.kind === "run");
    return [p.call.all.config, p.call.opts.container, p.call.args];
  };
  assertEquals(read(["-c", "other.toml", "cluster", "logs"]), ["other.toml", undefined, []]);
  assertEquals(read(["cluster", "logs", "-c", "main"]), [undefined, "main", []]);
  assertEquals(read(["-ca.toml", "cluster", "-y", "logs", "-cweb"]), ["a.toml", "web", []]);
  assertEquals(read(["cluster", "-c", "b.toml", "logs", "--container=x"]), ["b.toml", "x", []]);
});

Deno.test("args: short bundles end in a value flag, and -o=json is json, as in kubectl", () => {
  assertEquals(ran(["-yo", "json", "trust"]).all.output, "json");
  assertEquals(ran(["-yojson", "trust"]).all.output, "json");
  assertEquals(ran(["-o=json", "trust"]).all.output, "json");
  assertEquals(ran(["-yo=yaml", "trust"]).all.output, "yaml");
  const yc = ran(["-yc", "f.toml", "trust"]);
  assertEquals([yc.all.yes, yc.all.config], [true, "f.toml"]);
  assertEquals(ran(["cluster", "logs", "-fn", "kube-system"]).opts.namespace, "kube-system");
  assertEquals(refused(["-yo", "xml", "trust"]).startsWith("option '-o, --output"), true);
  assertEquals(refused(["-xy", "trust"]), "unknown option '-xy'");
  assertEquals(refused(["-yx", "trust"]), "unknown option '-x'");
});
