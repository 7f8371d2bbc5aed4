/** The command tree: every command, flag and example; actions load their module on demand. */
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { VERSION, versionLine } from "../version.ts";
import type { GlobalFlags } from "./session.ts";

/**
 * A command returns its exit code when it chooses one without throwing (plan --detailed-exitcode,
 * a failed doctor, an interrupted stream); it becomes the process's. Nothing returned: 0.
 */
function exitWith(code: number | void): void {
  if (typeof code === "number") Deno.exitCode = code;
}

function int(flag: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) {
      throw new InvalidArgumentError(`${flag} must be a whole number, got "${value}"`);
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
  "--log-level",
  "-o",
  "--output",
]);
/** Terraform's single-dash spellings that mean the same here. */
const TERRAFORM_FLAGS = new Set(["auto-approve", "detailed-exitcode", "out", "json", "no-color"]);

/**
 * Resolves the spellings other tools' users type: after `cluster logs`, `-c` is kubectl's
 * `--container` (before it, the global `-c/--config`); Terraform's `-auto-approve` (and `-out`,
 * `-detailed-exitcode`) mean their `--` forms, and `--auto-approve` outside `apply` is `--yes`.
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
    if (arg === "--auto-approve" && words[0] !== "apply") arg = "--yes";
    const inLogs = words[0] === "cluster" && words[1] === "logs";
    if (inLogs && /^-c(=|$|[^-])/.test(arg)) {
      const value = arg.slice(2).replace(/^=/, "");
      out.push("--container", ...(value ? [value] : []));
      continue;
    }
    out.push(arg);
    if (!arg.startsWith("-")) words.push(arg);
    else if (words.length < 2 && GLOBAL_VALUE_FLAGS.has(arg) && i + 1 < args.length) {
      out.push(args[++i]);
    }
  }
  return out;
}

/** Global flags of the command that is running (options given before or after the subcommand). */
// deno-lint-ignore no-explicit-any
function globals(cmd: any): GlobalFlags {
  return cmd.optsWithGlobals() as GlobalFlags;
}

/** Builds the whole `firestream` program. */
export function buildProgram(): Command {
  const program = new Command()
    .name("firestream")
    .description(
      "State-managed local Kubernetes clusters on k3d: one firestream.toml, a plan before every change, rollback on failure.",
    )
    .version(versionLine(), "-V, --version", "print version, Deno version and platform")
    .option(
      "-c, --config <file>",
      "config file (default: ./firestream.toml); after `cluster logs`, -c is --container",
    )
    .option(
      "--state-dir <dir>",
      "state directory (default: .firestream next to the config; env FIRESTREAM_STATE_DIR)",
    )
    .option("-y, --yes", "answer yes to every confirmation")
    .option("--json", "machine-readable output on stdout (same as -o json)")
    .addOption(
      new Option("-o, --output <format>", "structured output on stdout").choices(["json", "yaml"]),
    )
    .option("-q, --quiet", "print only errors and the final result")
    .option("-v, --verbose", "debug logging (same as --log-level debug)")
    .addOption(
      new Option("--log-level <level>", "log level").choices(["error", "warn", "info", "debug"]),
    )
    .option("--no-color", "never color output (NO_COLOR is honoured too)")
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .addHelpText(
      "after",
      examples(
        "firestream init",
        "firestream plan",
        "firestream apply --yes",
        "firestream cluster info",
        "firestream cluster list -o yaml",
      ),
    )
    .hook("preAction", async (_program, action) => {
      if ((action.optsWithGlobals() as GlobalFlags).output === "yaml") {
        const { stringify } = await import("yaml");
        (await import("../ui/output.ts")).useYaml((v) => stringify(v));
      }
    });

  program.command("init")
    .description(
      "create firestream.toml by answering a few questions (defaults without a terminal)",
    )
    .option("--force", "overwrite an existing firestream.toml")
    .option("--name <name>", "cluster name")
    .option("--servers <count>", "server nodes", int("--servers"))
    .option("--agents <count>", "agent nodes", int("--agents"))
    .option("--k3s-version <version>", "k3s image tag, e.g. v1.31.2-k3s1")
    .option("--no-registry", "do not create a local registry")
    .option("--registry-port <port>", "local registry port", int("--registry-port"))
    .option("--no-tls", "do not generate certificates")
    .option("--domain <domain>", "TLS wildcard domain, e.g. firestream.local")
    .option("--no-host-network", "do not configure routes, DNS or /etc/hosts")
    .option("--dev-mode", "forward every service port after create")
    .option("--offset <n>", "dev-mode port offset", int("--offset"))
    .addHelpText(
      "after",
      examples("firestream init", "firestream init --yes --name demo --agents 1"),
    )
    .action(async (opts, cmd) =>
      exitWith(await (await import("./init.ts")).init(globals(cmd), opts))
    );

  program.command("plan")
    .description("show what apply would change: create, update in place, replace, delete")
    .option("--out <file>", "save the plan for `firestream apply FILE`")
    .option("--detailed-exitcode", "exit 0 when there are no changes, 2 when there are, 1 on error")
    .addHelpText(
      "after",
      examples("firestream plan", "firestream plan --out tf.plan --detailed-exitcode"),
    )
    .action(async (opts, cmd) =>
      exitWith(await (await import("./plan.ts")).plan(globals(cmd), opts))
    );

  program.command("apply")
    .description("make the machine match firestream.toml (or apply a saved plan)")
    .argument("[planfile]", "a plan saved with `firestream plan --out`")
    .option("--auto-approve", "apply without asking (same as --yes)")
    .option("--force", "replace conflicting host routes")
    .option("--skip-host-network", "skip routes, DNS and /etc/hosts")
    .addHelpText(
      "after",
      examples("firestream apply", "firestream apply --auto-approve", "firestream apply tf.plan"),
    )
    .action(async (planfile, opts, cmd) =>
      exitWith(await (await import("./plan.ts")).apply(globals(cmd), planfile, opts))
    );

  program.command("rollback")
    .description("undo the last failed or interrupted run from its journal")
    .addHelpText("after", examples("firestream rollback"))
    .action(async (_opts, cmd) =>
      exitWith(await (await import("./plan.ts")).rollback(globals(cmd)))
    );

  program.command("doctor")
    .description(
      "check the machine without changing anything: docker, k3d, kubectl, ports, sudo, certificates, lock",
    )
    .addHelpText("after", examples("firestream doctor", "firestream doctor --json"))
    .action(async (_opts, cmd) =>
      exitWith(await (await import("./doctor.ts")).doctor(globals(cmd)))
    );

  const imp = program.command("import").description("bring existing resources under management")
    .addHelpText("after", examples("firestream import cluster firestream-local --write-config"));
  imp.command("cluster")
    .description("record a k3d cluster created elsewhere as managed")
    .argument("<name>", "k3d cluster name")
    .option("--write-config", "write its [cluster.k3d] table into firestream.toml")
    .addHelpText("after", examples("firestream import cluster firestream-local"))
    .action(async (name, opts, cmd) =>
      exitWith(await (await import("./cluster.ts")).importCluster(globals(cmd), name, opts))
    );

  const cluster = program.command("cluster").description("create, inspect and delete k3d clusters")
    .addHelpText(
      "after",
      examples(
        "firestream cluster create",
        "firestream cluster ls",
        "firestream cluster logs deployment/web -f",
        "firestream cluster rm --yes",
      ),
    );
  cluster.command("create")
    .description("create the cluster described by firestream.toml (flags override it)")
    .option("--name <name>", "cluster name")
    .option("--servers <count>", "server nodes", int("--servers"))
    .option("--agents <count>", "agent nodes", int("--agents"))
    .option("--k3s-version <version>", "k3s image tag, e.g. v1.31.2-k3s1")
    .option("--dev-mode", "forward every service port after create")
    .option("--clean", "delete the existing cluster first, then create")
    .option("--config <file>", "config file (same as the global -c)")
    .option("--force", "replace conflicting host routes")
    .option("--skip-host-network", "skip routes, DNS and /etc/hosts")
    .option("--strict", "a failed DNS test is an error, not a warning")
    .addHelpText(
      "after",
      examples(
        "firestream cluster create",
        "firestream cluster create --name my-cluster --servers 1 --agents 3",
        "firestream cluster create --dev-mode",
        "firestream cluster create --clean",
        "firestream cluster create --config k3d-cluster.toml",
      ),
    )
    .action(async (opts, cmd) =>
      exitWith(await (await import("./cluster.ts")).create(globals(cmd), opts))
    );

  cluster.command("delete")
    .alias("rm")
    .description(
      "delete a cluster and undo everything firestream did for it (lists what it will undo, then asks)",
    )
    .argument("[name]", "cluster name (default: the config's cluster)")
    .option("--keep-registry", "keep the registry even when no other cluster uses it")
    .option("--purge-certs", "remove the cluster's certificate files too")
    .addHelpText(
      "after",
      examples(
        "firestream cluster delete my-cluster",
        "firestream cluster delete",
        "firestream cluster rm --yes --purge-certs",
      ),
    )
    .action(async (name, opts, cmd) =>
      exitWith(await (await import("./cluster.ts")).remove(globals(cmd), name, opts))
    );

  cluster.command("stop")
    .description(
      "stop a cluster; its nameserver leaves resolv.conf until `apply` starts it again",
    )
    .argument("[name]", "cluster name (default: the config's cluster)")
    .addHelpText("after", examples("firestream cluster stop", "firestream apply   # start again"))
    .action(async (name, _opts, cmd) =>
      exitWith(await (await import("./cluster.ts")).stop(globals(cmd), name))
    );

  cluster.command("list")
    .alias("ls")
    .description("managed clusters, and k3d clusters that can be imported")
    .option("--no-headers", "print the table without its header line")
    .addHelpText(
      "after",
      examples(
        "firestream cluster list",
        "firestream cluster ls --no-headers",
        "firestream cluster list -o yaml",
      ),
    )
    .action(async (_opts, cmd) =>
      exitWith(await (await import("./cluster.ts")).list(globals(cmd)))
    );

  cluster.command("info")
    .description("state and live view of a cluster")
    .argument("[name]", "cluster name (default: the config's cluster)")
    .addHelpText("after", examples("firestream cluster info my-cluster", "firestream cluster info"))
    .action(async (name, _opts, cmd) =>
      exitWith(await (await import("./cluster.ts")).info(globals(cmd), name))
    );

  cluster.command("port-forward")
    .description("forward service ports to localhost with an offset (8080 → 18080)")
    .argument("[service]", "one service, as NAME (with -n) or NAME.NAMESPACE")
    .option("--offset <n>", "added to each service port", int("--offset"))
    .option("-n, --namespace <ns>", "namespace of SERVICE")
    .option("--detach", "run the supervisor in the background")
    .option("--list", "show mappings and their status")
    .option("--no-headers", "with --list: the table without its header line")
    .option("--stop", "stop a detached supervisor")
    .addHelpText(
      "after",
      examples(
        "firestream cluster port-forward",
        "firestream cluster port-forward --offset 20000",
        "firestream cluster port-forward my-service",
      ),
    )
    .action(async (service, opts, cmd) =>
      exitWith(await (await import("./port_forward.ts")).portForward(globals(cmd), service, opts))
    );

  cluster.command("logs")
    .description(
      "logs of pods, a deployment or a service (kubectl's forms: TYPE NAME, TYPE/NAME, or a pod name)",
    )
    .argument("[target]", "pod | deployment | service, TYPE/NAME (deployment/web), or a pod name")
    .argument("[name]", "object name, after TYPE")
    .option("-n, --namespace <ns>", "namespace", "default")
    .option("-A, --all-namespaces", "every namespace")
    .option("-l, --selector <labels>", "pods with these labels, e.g. app=web,tier!=db")
    .option("-f, --follow", "stream new lines")
    .option(
      "-c, --container <name>",
      "one container (after `logs`, -c is the container, as in kubectl; the global -c/--config goes before `cluster`)",
    )
    .option("--all-containers", "every container of each pod")
    .option("--previous", "the previous container instance")
    .option("--tail <lines>", "lines from the end", int("--tail"))
    .option("--since <duration>", "only newer than, e.g. 10m")
    .option("--timestamps", "prefix each line with its time")
    .addHelpText(
      "after",
      `
With --json (or -o json) each line is one JSON object: namespace, pod, container, timestamp, message.
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
    )
    .action(async (target, name, opts, cmd) =>
      exitWith(await (await import("./observe.ts")).logs(globals(cmd), target, name, opts))
    );

  cluster.command("diagnostics")
    .description("nodes, pods, services and events in one report")
    .option("--nodes", "node status")
    .option("--pods", "pod status")
    .option("--services", "services")
    .option("--events", "recent events")
    .option("--all", "every section")
    .option("-n, --namespace <ns>", "namespace, or `all`", "default")
    .addHelpText(
      "after",
      examples(
        "firestream cluster diagnostics --all",
        "firestream cluster diagnostics --nodes --pods",
        "firestream cluster diagnostics --services --events",
        "firestream cluster diagnostics --pods -n default",
        "firestream cluster diagnostics --pods -n all",
      ),
    )
    .action(async (opts, cmd) =>
      exitWith(await (await import("./observe.ts")).diagnostics(globals(cmd), opts))
    );

  cluster.command("trust")
    .description(
      "install the local CA in the OS trust store and, where certutil is present, the NSS databases of Chrome and Firefox (prints each command first)",
    )
    .option("--uninstall", "remove it again from every store")
    .addOption(
      new Option("--store <store...>", "only these stores (default: every one present)").choices([
        "system",
        "nss",
      ]),
    )
    .option("--dry-run", "print the commands without running them")
    .addHelpText(
      "after",
      examples(
        "firestream cluster trust --dry-run",
        "firestream cluster trust",
        "firestream cluster trust --uninstall",
      ),
    )
    .action(async (opts, cmd) =>
      exitWith(await (await import("./trust.ts")).trust(globals(cmd), opts))
    );

  const state = program.command("state").description("inspect and repair the state file")
    .addHelpText("after", examples("firestream state show", "firestream state backups"));
  state.command("show")
    .description("print the state document")
    .addHelpText("after", examples("firestream state show", "firestream state show --json"))
    .action(async (_o, cmd) => exitWith(await (await import("./state.ts")).show(globals(cmd))));
  state.command("backups")
    .description("list kept previous versions of the state")
    .option("--no-headers", "print the table without its header line")
    .addHelpText("after", examples("firestream state backups", "firestream state backups --json"))
    .action(async (_o, cmd) => exitWith(await (await import("./state.ts")).backups(globals(cmd))));
  state.command("restore")
    .description("put a backup back in place (as a new serial)")
    .argument("<serial>", "serial of the backup", int("SERIAL"))
    .addHelpText("after", examples("firestream state restore 12"))
    .action(async (serial, _o, cmd) =>
      exitWith(await (await import("./state.ts")).restore(globals(cmd), serial))
    );
  state.command("unlock")
    .description("remove the state lock left by a crashed run")
    .option("--force", "remove it even when its holder may be alive")
    .addHelpText("after", examples("firestream state unlock", "firestream state unlock --force"))
    .action(async (opts, cmd) =>
      exitWith(await (await import("./state.ts")).unlock(globals(cmd), opts))
    );

  program.command("__supervise", { hidden: true })
    .argument("<spec>", "supervisor settings (JSON)")
    .action(async (spec) => exitWith(await (await import("./port_forward.ts")).supervise(spec)));

  program.command("__complete", { hidden: true })
    .argument("<kind>", "clusters | services | pods | deployments | namespaces")
    .option("-n, --namespace <ns>", "namespace of services, pods and deployments")
    .action(async (kind, _opts, cmd) =>
      exitWith(await (await import("./completions.ts")).completeNames(globals(cmd), kind))
    );

  program.command("completions")
    .alias("completion")
    .description(
      "print a shell completion script (commands, flags, flag values, files, and cluster, service, pod and namespace names)",
    )
    .argument("<shell>", "bash | zsh | fish")
    .addHelpText(
      "after",
      examples(
        "source <(firestream completions bash)",
        "firestream completion zsh > ~/.zfunc/_firestream",
        "firestream completions fish | source",
      ),
    )
    .action(async (shell) =>
      exitWith(await (await import("./completions.ts")).completions(program, shell))
    );

  program.command("version")
    .description("print version, Deno version and platform (same as --version)")
    .addHelpText("after", examples("firestream version", "firestream version --json"))
    .action(async (_opts, cmd) => {
      const out = (await import("./session.ts")).outputFor(globals(cmd));
      if (!out.json) return out.line(versionLine());
      out.data({
        version: VERSION,
        deno: Deno.version.deno,
        os: Deno.build.os,
        arch: Deno.build.arch,
      });
    });

  return program;
}
