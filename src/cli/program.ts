/** The command tree: every command, flag and example; actions load their module on demand. */
import { VERSION, versionLine } from "../version.ts";
import { type CommandSpec, InvalidValue, type Invocation, type OptionSpec } from "./args.ts";
import type { DiagnosticsFlags, LogsFlags } from "./observe.ts";
import type { GlobalFlags } from "./session.ts";
import { TEMPLATES } from "./templates.ts";

function int(flag: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) {
      throw new InvalidValue(`${flag} must be a whole number, got "${value}"`);
    }
    return Number(value);
  };
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;
}

/** Options that take a value before the subcommand, so their value is not a command word. */
const GLOBAL_VALUE_FLAGS = new Set([
  "-c",
  "--config",
  "--state-dir",
  "--profile",
  "--log-level",
  "-o",
  "--output",
]);
/** Terraform's single-dash spellings that mean the same here. */
const TERRAFORM_FLAGS = new Set(["auto-approve", "detailed-exitcode", "out", "json", "no-color"]);

/**
 * Resolves the spellings Terraform users type: `-auto-approve` (and `-out`, `-detailed-exitcode`)
 * mean their `--` forms, and `--auto-approve` outside `apply` is `--yes` (`=false` too).
 */
export function normalizeArgs(args: string[]): string[] {
  const words: string[] = [];
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    let arg = args[i];
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    const tf = /^-([a-z][a-z-]+)(=.*)?$/.exec(arg);
    if (tf && TERRAFORM_FLAGS.has(tf[1])) arg = `--${tf[1]}${tf[2] ?? ""}`;
    const approve = /^--auto-approve(=.*)?$/.exec(arg);
    if (approve && words[0] !== "apply") arg = `--yes${approve[1] ?? ""}`;
    out.push(arg);
    if (!arg.startsWith("-")) words.push(arg);
    else if (words.length < 2 && GLOBAL_VALUE_FLAGS.has(arg) && i + 1 < args.length) {
      out.push(args[++i]);
    }
  }
  return out;
}

/** Global flags of the command that is running (given before or after the subcommand). */
function globals(call: Invocation): GlobalFlags {
  return call.all as GlobalFlags;
}

function opt(flags: string, description: string, more: Partial<OptionSpec> = {}): OptionSpec {
  return { flags, description, ...more };
}

const NAME_ARG = { name: "[name]", description: "cluster name (default: the config's cluster)" };
const NO_HEADERS = opt("--no-headers", "print the table without its header line");
const FORCE_ROUTES = opt("--force", "replace conflicting host routes");
const SKIP_HOST = opt("--skip-host-network", "skip routes, DNS and /etc/hosts");
const DEV_MODE = opt("--dev-mode", "forward every service port after create");
const INTERVAL = opt("--interval <seconds>", "seconds between refreshes (default 2)", {
  parse: (value: string): number => {
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value.trim()) || n < 0.5 || n > 3600) {
      throw new InvalidValue(
        `--interval must be a number of seconds from 0.5 to 3600, got "${value}"`,
      );
    }
    return n;
  },
});

/** The whole `firestream` command tree. */
export const PROGRAM: CommandSpec = {
  name: "firestream",
  description:
    "State-managed local Kubernetes clusters on k3d: one firestream.toml, a plan before every change, rollback on failure.",
  // Terraform's and k3d's words for what firestream names otherwise
  synonyms: {
    destroy: "cluster delete",
    create: "cluster create",
    delete: "cluster delete",
    start: "cluster start",
    stop: "cluster stop",
  },
  options: [
    opt("-V, --version", "print version, Deno version and platform"),
    opt(
      "-c, --config <file>",
      "config file (default: ./firestream.toml); after `cluster logs`, -c is --container",
    ),
    opt(
      "--state-dir <dir>",
      "state directory (default: .firestream next to the config; env FIRESTREAM_STATE_DIR)",
    ),
    opt(
      "--profile <name>",
      "put a [profiles.NAME] table of the config in force (env FIRESTREAM_PROFILE)",
    ),
    opt("-y, --yes", "answer yes to every confirmation"),
    opt("--json", "machine-readable output on stdout (same as -o json)"),
    opt("-o, --output <format>", "structured output on stdout", { choices: ["json", "yaml"] }),
    opt("-q, --quiet", "print only errors and the final result"),
    opt("-v, --verbose", "debug logging (same as --log-level debug)"),
    opt("--log-level <level>", "log level", { choices: ["error", "warn", "info", "debug"] }),
    opt("--no-color", "never color output (NO_COLOR is honoured too)"),
  ],
  after: examples(
    "firestream init",
    "firestream plan",
    "firestream apply --yes",
    "firestream cluster info",
    "firestream cluster list -o yaml",
  ),
  commands: [
    {
      name: "init",
      description:
        "create firestream.toml by answering a few questions (defaults without a terminal)",
      options: [
        opt("--force", "overwrite an existing firestream.toml"),
        opt("--name <name>", "cluster name"),
        opt("--servers <count>", "server nodes", { parse: int("--servers") }),
        opt("--agents <count>", "agent nodes", { parse: int("--agents") }),
        opt("--k3s-version <version>", "k3s image tag, e.g. v1.31.2-k3s1"),
        opt("--no-registry", "do not create a local registry"),
        opt("--registry-port <port>", "local registry port", { parse: int("--registry-port") }),
        opt(
          "--own-registry",
          "a registry of this project's own (default: share registry.localhost with the machine's other projects)",
        ),
        opt("--no-tls", "do not generate certificates"),
        opt("--domain <domain>", "TLS wildcard domain, e.g. firestream.local"),
        opt("--no-host-network", "do not configure routes, DNS or /etc/hosts"),
        DEV_MODE,
        opt("--no-dev-mode", "do not forward service ports after create"),
        opt("--offset <n>", "dev-mode port offset", { parse: int("--offset") }),
        opt("--template <name>", "start from a template (see --list-templates)", {
          choices: TEMPLATES.map((t) => t.name),
        }),
        opt("--list-templates", "list the templates and write nothing"),
      ],
      after: examples(
        "firestream init",
        "firestream init --yes --name demo --agents 1",
        "firestream init --template ci --yes",
        "firestream init --list-templates",
      ),
      run: async (c) => (await import("./init.ts")).init(globals(c), c.opts),
    },
    {
      name: "plan",
      description: "show what apply would change: create, update in place, replace, delete",
      options: [
        opt("--out <file>", "save the plan for `firestream apply FILE`"),
        opt(
          "--detailed-exitcode",
          "exit 0 when there are no changes, 2 when there are, 1 on error",
        ),
      ],
      after: examples("firestream plan", "firestream plan --out tf.plan --detailed-exitcode"),
      run: async (c) => (await import("./plan.ts")).plan(globals(c), c.opts),
    },
    {
      name: "apply",
      description: "make the machine match firestream.toml (or apply a saved plan)",
      arguments: [{ name: "[planfile]", description: "a plan saved with `firestream plan --out`" }],
      options: [
        opt("--auto-approve", "apply without asking (same as --yes)"),
        FORCE_ROUTES,
        SKIP_HOST,
      ],
      after: examples(
        "firestream apply",
        "firestream apply --auto-approve",
        "firestream apply tf.plan",
      ),
      run: async (c) =>
        (await import("./plan.ts")).apply(globals(c), c.args[0] as string | undefined, c.opts),
    },
    {
      name: "rollback",
      description: "undo the last failed or interrupted run from its journal",
      after: examples("firestream rollback"),
      run: async (c) => (await import("./plan.ts")).rollback(globals(c)),
    },
    {
      name: "doctor",
      description:
        "check the machine without changing anything: docker, k3d, kubectl, ports, sudo, certificates, lock",
      after: examples("firestream doctor", "firestream doctor --json"),
      run: async (c) => (await import("./doctor.ts")).doctor(globals(c)),
    },
    {
      name: "import",
      description: "bring existing resources under management",
      after: examples("firestream import cluster firestream-local --write-config"),
      commands: [{
        name: "cluster",
        description: "record a k3d cluster created elsewhere as managed",
        arguments: [{ name: "<name>", description: "k3d cluster name" }],
        options: [
          opt("--write-config", "write its [cluster.k3d] table into firestream.toml"),
          opt(
            "--take-over",
            "take it from the folder that manages it (that folder's next plan says so)",
          ),
        ],
        after: examples(
          "firestream import cluster firestream-local",
          "firestream import cluster firestream-local --write-config",
        ),
        run: async (c) =>
          (await import("./cluster.ts")).importCluster(globals(c), c.args[0] as string, c.opts),
      }],
    },
    {
      name: "cluster",
      description: "create, inspect and delete k3d clusters",
      after: examples(
        "firestream cluster create",
        "firestream cluster ls",
        "firestream cluster logs deployment/web -f",
        "firestream cluster rm --yes",
      ),
      commands: [
        {
          name: "create",
          description: "create the cluster described by firestream.toml (flags override it)",
          options: [
            opt("--name <name>", "cluster name"),
            opt("--servers <count>", "server nodes", { parse: int("--servers") }),
            opt("--agents <count>", "agent nodes", { parse: int("--agents") }),
            opt("--k3s-version <version>", "k3s image tag, e.g. v1.31.2-k3s1"),
            DEV_MODE,
            opt("--clean", "delete the existing cluster first, then create"),
            opt("--config <file>", "config file (same as the global -c)"),
            FORCE_ROUTES,
            SKIP_HOST,
            opt("--strict", "a failed DNS test is an error, not a warning"),
          ],
          after: examples(
            "firestream cluster create",
            "firestream cluster create --name my-cluster --servers 1 --agents 3",
            "firestream cluster create --dev-mode",
            "firestream cluster create --clean",
            "firestream cluster create --config k3d-cluster.toml",
          ),
          run: async (c) => (await import("./cluster_create.ts")).create(globals(c), c.opts),
        },
        {
          name: "delete",
          aliases: ["rm"],
          description:
            "delete a cluster and undo everything firestream did for it (lists what it will undo, then asks)",
          arguments: [NAME_ARG],
          options: [
            opt("--keep-registry", "keep the registry even when no other cluster uses it"),
            opt("--purge-certs", "remove the cluster's certificate files too"),
          ],
          after: examples(
            "firestream cluster delete my-cluster",
            "firestream cluster delete",
            "firestream cluster rm --yes --purge-certs",
          ),
          run: async (c) =>
            (await import("./cluster.ts")).remove(
              globals(c),
              c.args[0] as string | undefined,
              c.opts,
            ),
        },
        {
          name: "stop",
          description:
            "stop a cluster; its nameserver leaves resolv.conf until `cluster start` starts it again",
          arguments: [NAME_ARG],
          after: examples("firestream cluster stop", "firestream cluster start   # start again"),
          run: async (c) =>
            (await import("./cluster.ts")).stop(globals(c), c.args[0] as string | undefined),
        },
        {
          name: "start",
          description:
            "start a stopped cluster as recorded: routes, cluster DNS and forwards come back with it",
          arguments: [NAME_ARG],
          after: examples("firestream cluster start", "firestream cluster start my-cluster"),
          run: async (c) =>
            (await import("./cluster.ts")).start(globals(c), c.args[0] as string | undefined),
        },
        {
          name: "list",
          aliases: ["ls"],
          description: "managed clusters, and k3d clusters that can be imported",
          options: [NO_HEADERS],
          after: examples(
            "firestream cluster list",
            "firestream cluster ls --no-headers",
            "firestream cluster list -o yaml",
          ),
          run: async (c) => (await import("./cluster.ts")).list(globals(c)),
        },
        {
          name: "info",
          description: "state and live view of a cluster",
          arguments: [NAME_ARG],
          options: [
            opt("--watch", "print the view again every interval, as plain text"),
            INTERVAL,
          ],
          after: examples(
            "firestream cluster info my-cluster",
            "firestream cluster info",
            "firestream cluster info --watch --interval 5",
          ),
          run: async (c) =>
            c.opts.watch
              ? (await import("./info_watch.ts")).watchInfo(
                globals(c),
                c.args[0] as string | undefined,
                c.opts,
              )
              : (await import("./cluster.ts")).info(globals(c), c.args[0] as string | undefined),
        },
        {
          name: "port-forward",
          description: "forward service ports to localhost with an offset (8080 → 18080)",
          arguments: [{
            name: "[service]",
            description: "one service, as NAME (with -n) or NAME.NAMESPACE",
          }],
          options: [
            opt("--offset <n>", "added to each service port", { parse: int("--offset") }),
            opt("-n, --namespace <ns>", "namespace of SERVICE"),
            opt("--detach", "run the supervisor in the background"),
            opt("--list", "show mappings and their status"),
            opt("--no-headers", "with --list: the table without its header line"),
            opt("--stop", "stop a detached supervisor"),
          ],
          after: examples(
            "firestream cluster port-forward",
            "firestream cluster port-forward --offset 20000",
            "firestream cluster port-forward my-service",
          ),
          run: async (c) =>
            (await import("./port_forward.ts")).portForward(
              globals(c),
              c.args[0] as string | undefined,
              c.opts,
            ),
        },
        {
          name: "logs",
          description:
            "logs of pods, a deployment or a service (kubectl's forms: TYPE NAME, TYPE/NAME, or a pod name)",
          arguments: [
            {
              name: "[target]",
              description: "pod | deployment | service, TYPE/NAME (deployment/web), or a pod name",
            },
            { name: "[name]", description: "object name, after TYPE" },
          ],
          options: [
            opt("-n, --namespace <ns>", "namespace", { default: "default" }),
            opt("-A, --all-namespaces", "every namespace"),
            opt("-l, --selector <labels>", "pods with these labels, e.g. app=web,tier!=db"),
            opt("-f, --follow", "stream new lines"),
            opt(
              "-c, --container <name>",
              "one container (after `logs`, -c is the container, as in kubectl; the global -c/--config goes before `cluster`)",
            ),
            opt("--all-containers", "every container of each pod"),
            opt("-p, --previous", "the previous container instance"),
            opt("--tail <lines>", "lines from the end", { parse: int("--tail") }),
            opt("--since <duration>", "only newer than, e.g. 10m"),
            opt("--timestamps", "prefix each line with its time"),
          ],
          after: `
With --json (or -o json) each line is one JSON object:
namespace, pod, container, timestamp, message.
${
            examples(
              "firestream cluster logs",
              "firestream cluster logs pod my-pod -c main",
              "firestream cluster logs deployment/web -f",
              "firestream cluster logs deployment my-deployment",
              "firestream cluster logs service my-service --follow",
              "firestream cluster logs pod my-pod --all-containers",
              "firestream cluster logs pod my-pod --previous",
              "firestream cluster logs -l app=web -A --json",
              "firestream cluster logs -n kube-system",
            )
          }`,
          run: async (c) =>
            (await import("./observe.ts")).logs(
              globals(c),
              c.args[0] as string | undefined,
              c.args[1] as string | undefined,
              c.opts as LogsFlags,
            ),
        },
        {
          name: "diagnostics",
          description: "nodes, pods, services and events in one report",
          options: [
            opt("--nodes", "node status"),
            opt("--pods", "pod status"),
            opt("--services", "services"),
            opt("--events", "recent events"),
            opt("--all", "every section"),
            opt("-n, --namespace <ns>", "namespace, or `all`", { default: "default" }),
            opt("-A, --all-namespaces", "every namespace (as `-n all`)"),
          ],
          after: examples(
            "firestream cluster diagnostics",
            "firestream cluster diagnostics --all",
            "firestream cluster diagnostics --nodes --pods",
            "firestream cluster diagnostics --services --events",
            "firestream cluster diagnostics --pods -n default",
            "firestream cluster diagnostics --pods -n all",
          ),
          run: async (c) =>
            (await import("./observe.ts")).diagnostics(
              globals(c),
              c.opts as DiagnosticsFlags,
            ),
        },
        {
          name: "trust",
          description:
            "install the local CA in the OS trust store and, where certutil is present, the NSS databases of Chrome and Firefox (prints each command first)",
          options: [
            opt("--uninstall", "remove it again from every store"),
            opt("--store <store...>", "only these stores (default: every one present)", {
              choices: ["system", "nss"],
            }),
            opt("--dry-run", "print the commands without running them"),
          ],
          after: examples(
            "firestream cluster trust --dry-run",
            "firestream cluster trust",
            "firestream cluster trust --uninstall",
          ),
          run: async (c) => (await import("./trust.ts")).trust(globals(c), c.opts),
        },
      ],
    },
    {
      name: "profiles",
      description: "list the config's profiles and the keys each one changes",
      after: examples(
        "firestream profiles",
        "firestream profiles --json",
        "firestream plan --profile ci",
      ),
      run: async (c) => (await import("./profiles.ts")).profiles(globals(c)),
    },
    {
      name: "ui",
      description:
        "full-screen live view: cluster, host network (ok or drift), registry, forwards, pods and their logs, with keys to plan, apply and restart",
      options: [INTERVAL],
      after: `
Bare \`firestream\` on a terminal opens it too. Keys: Enter logs, / filter,
n namespace, p plan, a apply (after showing the plan and asking), r restart
a forward, d diagnostics to a file, ? help, q quit. Without a terminal:
\`firestream cluster info --json\` or \`firestream cluster info --watch\`.
${examples("firestream ui", "firestream ui --interval 5")}`,
      run: async (c) => (await import("./ui.ts")).ui(globals(c), c.opts),
    },
    {
      name: "state",
      description: "inspect and repair the state file",
      synonyms: {
        list: "show",
        ls: "show",
        pull: "show --json",
        rm: "`firestream cluster delete NAME`",
      },
      after: examples("firestream state show", "firestream state backups"),
      commands: [
        {
          name: "show",
          description: "print the state document",
          after: examples("firestream state show", "firestream state show --json"),
          run: async (c) => (await import("./state.ts")).show(globals(c)),
        },
        {
          name: "backups",
          description: "list kept previous versions of the state",
          options: [NO_HEADERS],
          after: examples("firestream state backups", "firestream state backups --json"),
          run: async (c) => (await import("./state.ts")).backups(globals(c)),
        },
        {
          name: "restore",
          description: "put a backup back in place (as a new serial)",
          arguments: [{
            name: "<serial>",
            description: "serial of the backup",
            parse: int("SERIAL"),
          }],
          after: examples("firestream state restore 12"),
          run: async (c) => (await import("./state.ts")).restore(globals(c), c.args[0] as number),
        },
        {
          name: "unlock",
          description: "remove the state lock left by a crashed run",
          options: [opt("--force", "remove it even when its holder may be alive")],
          after: examples("firestream state unlock", "firestream state unlock --force"),
          run: async (c) => (await import("./state.ts")).unlock(globals(c), c.opts),
        },
        {
          name: "rm",
          description:
            "stop managing a cluster without touching it (another folder can then import it)",
          arguments: [{ name: "<cluster>", description: "a cluster this state manages" }],
          after: examples("firestream state rm firestream-local"),
          run: async (c) => (await import("./state.ts")).rm(globals(c), c.args[0] as string),
        },
      ],
    },
    {
      name: "schema",
      description:
        "print the JSON Schema of firestream.toml, for editors (Taplo, Even Better TOML) and CI checks",
      after: `
Editors (Taplo) read it when this is the first line of firestream.toml:
  #:schema ./firestream.schema.json
${examples("firestream schema > firestream.schema.json")}`,
      run: async () => {
        const { configJsonSchemaText } = await import("../config/json_schema.ts");
        const { Output } = await import("../ui/output.ts");
        new Output().line(configJsonSchemaText().trimEnd());
      },
    },
    {
      name: "__supervise",
      hidden: true,
      arguments: [{ name: "<spec>", description: "supervisor settings (JSON)" }],
      run: async (c) => (await import("./port_forward.ts")).supervise(c.args[0] as string),
    },
    {
      name: "__complete",
      hidden: true,
      arguments: [
        {
          name: "<kind>",
          description:
            "clusters | serials | profiles | services | forwardable | pods | deployments | namespaces | containers",
        },
        { name: "[target]", description: "containers: the pods of this `cluster logs` target" },
        { name: "[name]", description: "containers: the object name after TYPE" },
      ],
      options: [opt("-n, --namespace <ns>", "namespace of services, pods and deployments")],
      run: async (c) =>
        (await import("./completions.ts")).completeNames(
          globals(c),
          c.args[0] as string,
          c.args[1] as string | undefined,
          c.args[2] as string | undefined,
        ),
    },
    {
      name: "completions",
      aliases: ["completion"],
      description:
        "print a shell completion script (commands, flags, flag values, files, and cluster, service, pod and namespace names)",
      arguments: [{ name: "<shell>", description: "bash | zsh | fish" }],
      after: examples(
        "source <(firestream completions bash)",
        "firestream completion zsh > ~/.zfunc/_firestream",
        "firestream completions fish | source",
      ),
      run: async (c) =>
        (await import("./completions.ts")).completions(PROGRAM, c.args[0] as string),
    },
    {
      name: "version",
      description: "print version, Deno version and platform (same as --version)",
      after: examples("firestream version", "firestream version --json"),
      run: async (c) => {
        const out = (await import("./session.ts")).outputFor(globals(c));
        if (!out.json) return out.line(versionLine());
        out.data({
          version: VERSION,
          deno: Deno.version.deno,
          os: Deno.build.os,
          arch: Deno.build.arch,
        });
      },
    },
  ],
};
