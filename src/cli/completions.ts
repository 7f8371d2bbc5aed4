/**
 * `firestream completions bash|zsh|fish`: scripts generated from the command tree itself. Names
 * (clusters, services, pods, namespaces) come from `firestream __complete KIND` at completion time.
 */
import { type CommandSpec, flagOf, type OptionSpec } from "./args.ts";
import { FirestreamError } from "../errors.ts";
import { exec } from "../tools/exec.ts";
import { Output } from "../ui/output.ts";
import type { GlobalFlags } from "./session.ts";
import { kubeconfigContext } from "../tools/k3d_names.ts";
import { kubectlArgv } from "../tools/kubectl.ts";

/** One command path: its subcommands, options, option values and what its operands are. */
export interface CompletionEntry {
  commands: string[];
  options: string[];
  /** option → its fixed values (enum flags) */
  values: Record<string, string[]>;
  /** options whose value is a file */
  files: string[];
  /** what an operand of this command is */
  operand?: OperandKind;
}

/** Operands that complete from live names or files. */
export type OperandKind = "clusters" | "services" | "logs" | "files" | "shells";

const OPERANDS: Record<string, OperandKind> = {
  "cluster delete": "clusters",
  "cluster info": "clusters",
  "cluster port-forward": "services",
  "cluster logs": "logs",
  apply: "files",
  completions: "shells",
};

const FILE_OPTIONS = new Set(["--config", "--out"]);

/** Every command path (aliases too) with its subcommands and options, e.g. "cluster" → ["create", …]. */
export function completionTable(program: CommandSpec): Map<string, CompletionEntry> {
  const table = new Map<string, CompletionEntry>();
  const walk = (
    cmd: CommandSpec,
    path: string[],
    inherited: OptionSpec[],
    operand?: OperandKind,
  ) => {
    const own = cmd.options ?? [];
    const all = [...own, ...inherited];
    const flags = (o: OptionSpec) => {
      const f = flagOf(o);
      return f.short ? [f.long, f.short] : [f.long];
    };
    const values: Record<string, string[]> = {};
    const files: string[] = [];
    for (const o of all) {
      if (o.choices) { for (const f of flags(o)) values[f] = [...o.choices]; }
      if (FILE_OPTIONS.has(flagOf(o).long)) files.push(...flags(o));
    }
    const subs = (cmd.commands ?? []).filter((s) => !s.hidden);
    table.set(path.join(" "), {
      commands: subs.map((s) => s.name),
      options: [...new Set([...all.flatMap(flags), "--help"])],
      values,
      files: [...new Set(files)],
      ...(operand ? { operand } : {}),
    });
    for (const s of subs) {
      const next = path.length === 0 ? own : inherited;
      const canonical = [...path, s.name].join(" ");
      for (const name of [s.name, ...(s.aliases ?? [])]) {
        walk(s, [...path, name], next, OPERANDS[canonical]);
      }
    }
  };
  walk(program, [], []);
  return table;
}

function bash(table: Map<string, CompletionEntry>): string {
  const cases = [...table].map(([path, v]) =>
    `    "${path}") words="${[...v.commands, ...v.options].join(" ")}"; operand="${
      v.operand ?? ""
    }" ;;`
  ).join("\n");
  const values = new Map<string, string>();
  const files = new Set<string>();
  for (const v of table.values()) {
    for (const [flag, list] of Object.entries(v.values)) values.set(flag, list.join(" "));
    for (const f of v.files) files.add(f);
  }
  const valueCases = [...values].map(([flag, list]) =>
    `    ${flag}) COMPREPLY=($(compgen -W "${list}" -- "$cur")); return ;;`
  ).join("\n");
  return `# bash completion for firestream; load with: source <(firestream completions bash)
_firestream() {
  local cur prev path="" w i words operand="" names="" positional=() scope=()
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    ${[...files].join("|")}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
${valueCases}
    -n|--namespace)
      COMPREPLY=($(compgen -W "$(_firestream_names namespaces)" -- "$cur")); return ;;
  esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      -c|--config|--state-dir) scope+=("$w" "\${COMP_WORDS[i+1]}"); i=$((i + 1)); continue ;;
      -n|--namespace) scope+=("$w" "\${COMP_WORDS[i+1]}"); i=$((i + 1)); continue ;;
      --log-level|-o|--output|--out|--offset|--tail|--since|-l|--selector|--name|--servers|--agents|--k3s-version|--registry-port|--domain) i=$((i + 1)); continue ;;
      -*) continue ;;
    esac
    if _firestream_has "\${path:+$path }$w"; then path="\${path:+$path }$w"; else positional+=("$w"); fi
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  if [[ "$cur" != -* ]]; then
    case "$operand" in
      files) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      shells) words="bash zsh fish" ;;
      clusters) words="$(_firestream_names clusters)" ;;
      services) words="$(_firestream_names services)" ;;
      logs)
        case "\${positional[-1]:-}" in
          pod|pods|po) words="$(_firestream_names pods)" ;;
          service|services|svc) words="$(_firestream_names services)" ;;
          deployment|deployments|deploy) words="$(_firestream_names deployments)" ;;
          *) [[ \${#positional[@]} -eq 0 ]] && words="pod deployment service $(_firestream_names pods)" ;;
        esac ;;
    esac
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
_firestream_names() {
  "\${COMP_WORDS[0]}" __complete "$1" "\${scope[@]}" 2>/dev/null
}
_firestream_has() {
  case "$1" in
${[...table.keys()].filter(Boolean).map((p) => `    "${p}") return 0 ;;`).join("\n")}
  esac
  return 1
}
complete -o filenames -F _firestream firestream
`;
}

function zsh(table: Map<string, CompletionEntry>): string {
  return `#compdef firestream
# zsh completion for firestream; load with: source <(firestream completions zsh)
autoload -U +X bashcompinit && bashcompinit
${bash(table)}`;
}

function fish(table: Map<string, CompletionEntry>): string {
  const lines = [
    "# fish completion for firestream; load with: firestream completions fish | source",
    "complete -c firestream -f",
  ];
  const dynamic: Record<OperandKind, string> = {
    clusters: "(firestream __complete clusters 2>/dev/null)",
    services: "(firestream __complete services 2>/dev/null)",
    logs: "'pod deployment service' (firestream __complete pods 2>/dev/null)",
    files: "(__fish_complete_path)",
    shells: "'bash zsh fish'",
  };
  for (const [path, v] of table) {
    const words = path ? path.split(" ") : [];
    const cond = words.length === 0
      ? "__fish_use_subcommand"
      : `__fish_seen_subcommand_from ${words[words.length - 1]}`;
    for (const c of v.commands) lines.push(`complete -c firestream -n '${cond}' -a '${c}'`);
    if (v.operand && words.length) {
      lines.push(`complete -c firestream -n '${cond}' -a "${dynamic[v.operand]}"`);
    }
    for (const o of v.options.filter((o) => o.startsWith("--"))) {
      const choices = v.values[o] ? ` -x -a '${v.values[o].join(" ")}'` : "";
      const file = v.files.includes(o) ? " -r -F" : "";
      const ns = o === "--namespace"
        ? ` -x -a "(firestream __complete namespaces 2>/dev/null)"`
        : "";
      lines.push(`complete -c firestream -n '${cond}' -l '${o.slice(2)}'${choices}${file}${ns}`);
    }
  }
  return [...new Set(lines)].join("\n") + "\n";
}

/** Prints the script for `shell`. */
export function completions(program: CommandSpec, shell: string): void {
  const table = completionTable(program);
  const make = { bash, zsh, fish }[shell as "bash" | "zsh" | "fish"];
  if (!make) {
    throw new FirestreamError(`unknown shell "${shell}"`, { hint: "use bash, zsh or fish" });
  }
  new Output().line(make(table).trimEnd());
}

const KUBE_KINDS: Record<string, string> = {
  services: "services",
  pods: "pods",
  deployments: "deployments",
  namespaces: "namespaces",
};

/**
 * `__complete KIND`: names for the shell, one a line. Never an error: with no config, no state or
 * no running cluster it prints nothing, and a cluster that does not answer is given up on quickly.
 */
export async function completeNames(flags: GlobalFlags, kind: string): Promise<void> {
  const out = new Output();
  let names: string[] = [];
  try {
    // the config and state only here: generating a script loads nothing but the command tree
    const { openSession } = await import("./session.ts");
    const session = await openSession({ ...flags, json: false, quiet: true });
    if (kind === "clusters") {
      names = Object.keys((await session.store.read()).clusters);
    } else if (KUBE_KINDS[kind]) {
      const context = kubeconfigContext(session.loaded.config.cluster.k3d.name);
      const ns = (flags as { namespace?: string }).namespace;
      const scope = kind === "namespaces" ? [] : ["-n", ns ?? "default"];
      const r = await exec(
        kubectlArgv(context, [
          "--request-timeout=2s",
          "get",
          KUBE_KINDS[kind],
          ...scope,
          "-o",
          "name",
        ]),
        { check: false, timeoutMs: 3000 },
      );
      if (r.code === 0) {
        names = r.stdout.split("\n").filter(Boolean).map((l) => l.slice(l.indexOf("/") + 1));
      }
    }
  } catch {
    // completion stays silent: no config, no state, no cluster
  }
  for (const n of names.sort()) out.line(n);
}
