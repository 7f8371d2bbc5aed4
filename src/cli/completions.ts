/**
 * `firestream completions bash|zsh|fish`: scripts generated from the command tree itself. Names
 * (clusters, services, pods, namespaces) come from `firestream __complete KIND` at completion time.
 */
import { type CommandSpec, flagOf } from "./args.ts";
import { FirestreamError } from "../errors.ts";
import { Output } from "../ui/output.ts";
import type { GlobalFlags } from "./session.ts";
import { kubeconfigContext } from "../tools/k3d_names.ts";
import { getJson } from "../tools/kubectl.ts";

/** What the value of a flag completes from. */
export type ValueKind =
  | { words: readonly string[] }
  | "config"
  | "dir"
  | "files"
  | "namespaces"
  | "containers"
  | "profiles"
  | "switch"
  | "free";

/** One command path: its subcommands, its flags (every spelling) and what its operands are. */
export interface CompletionEntry {
  commands: string[];
  /** every flag spelling the parser accepts here → what its value completes from */
  flags: Record<string, ValueKind>;
  /** what an operand of this command is */
  operand?: OperandKind;
}

/** Operands that complete from live names or files. */
export type OperandKind =
  | "clusters"
  | "forwardable"
  | "logs"
  | "files"
  | "shells"
  | "serials";

const OPERANDS: Record<string, OperandKind> = {
  "cluster delete": "clusters",
  "cluster info": "clusters",
  "cluster stop": "clusters",
  // the services port-forward would forward: never `kubernetes` itself
  "cluster port-forward": "forwardable",
  "cluster logs": "logs",
  "state restore": "serials",
  apply: "files",
  completions: "shells",
};

/** What the value of `flag` completes from, at `path`. */
function valueKind(flag: ReturnType<typeof flagOf>): ValueKind {
  if (!flag.value) return "switch";
  if (flag.spec.choices) return { words: flag.spec.choices };
  switch (flag.long) {
    case "--config":
      return "config";
    case "--state-dir":
      return "dir";
    case "--out":
      return "files";
    case "--namespace":
      return "namespaces";
    case "--container":
      return "containers";
    case "--profile":
      return "profiles";
  }
  return "free";
}

/**
 * Every command path (aliases too) with its subcommands and flags, e.g. "cluster" → create, …; a
 * flag's meaning is the parser's at that place (after `cluster logs`, `-c` is `--container`).
 */
export function completionTable(program: CommandSpec): Map<string, CompletionEntry> {
  const table = new Map<string, CompletionEntry>();
  const walk = (cmd: CommandSpec, path: string[], above: CommandSpec[], operand?: OperandKind) => {
    const chain = [...above, cmd];
    const flags: Record<string, ValueKind> = { "--help": "switch", "-h": "switch" };
    // the command's own flags win over those of the commands above it, as in the parser
    for (const c of chain) {
      for (const o of c.options ?? []) {
        const f = flagOf(o);
        for (const name of f.short ? [f.long, f.short] : [f.long]) flags[name] = valueKind(f);
      }
    }
    const subs = (cmd.commands ?? []).filter((s) => !s.hidden);
    table.set(path.join(" "), {
      commands: subs.map((s) => s.name),
      flags,
      ...(operand ? { operand } : {}),
    });
    for (const s of subs) {
      const canonical = [...path, s.name].join(" ");
      for (const name of [s.name, ...(s.aliases ?? [])]) {
        walk(s, [...path, name], chain, OPERANDS[canonical]);
      }
    }
  };
  walk(program, [], []);
  return table;
}

function kindText(kind: ValueKind): string {
  return typeof kind === "string" ? kind : `words:${kind.words.join(" ")}`;
}

/** `case` arms: `"PATH|FLAG"` patterns grouped by what they give; one for all paths as `*"|FLAG"`. */
function flagCases(table: Map<string, CompletionEntry>): string {
  const byFlag = new Map<string, Map<string, string[]>>();
  for (const [path, entry] of table) {
    for (const [flag, kind] of Object.entries(entry.flags)) {
      const kinds = byFlag.get(flag) ?? new Map<string, string[]>();
      const text = kindText(kind);
      kinds.set(text, [...(kinds.get(text) ?? []), path]);
      byFlag.set(flag, kinds);
    }
  }
  const specific: string[] = [];
  const general: string[] = [];
  for (const [flag, kinds] of byFlag) {
    const sorted = [...kinds].sort((a, b) => a[1].length - b[1].length);
    sorted.forEach(([text, paths], i) => {
      // the meaning most paths give is the fallback; the others are named path by path
      if (i === sorted.length - 1) general.push(`    *"|${flag}") echo "${text}" ;;`);
      else specific.push(`    ${paths.map((p) => `"${p}|${flag}"`).join("|")}) echo "${text}" ;;`);
    });
  }
  return [...specific, ...general].join("\n");
}

function bash(table: Map<string, CompletionEntry>): string {
  const paths = [...table];
  const commandCases = paths.map(([path, v]) =>
    `    "${path}") words="${v.commands.join(" ")}"; operand="${v.operand ?? ""}" ;;`
  ).join("\n");
  const optionCases = paths.map(([path, v]) =>
    `    "${path}") echo "${Object.keys(v.flags).join(" ")}" ;;`
  ).join("\n");
  return `# bash completion for firestream; load with: source <(firestream completions bash)
_firestream() {
  local cur prev flag="" kind path="" w i n words="" operand="" positional=() scope=()
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  # bash splits \`--flag=value\` at \`=\`: the flag is the word before it
  if [[ "$cur" == "=" ]]; then
    flag="$prev"
    cur=""
  elif [[ "$prev" == "=" && $COMP_CWORD -ge 2 ]]; then
    flag="\${COMP_WORDS[COMP_CWORD-2]}"
  fi
  # the command words, the operands, and the flags that say where names come from
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if [[ "$w" == --* && "\${COMP_WORDS[i+1]}" == "=" ]]; then
      ((i + 2 < COMP_CWORD)) && _firestream_scope "$path" "$w" "\${COMP_WORDS[i+2]}"
      i=$((i + 2))
      continue
    fi
    if [[ "$w" == -?* ]]; then
      if _firestream_takes "$path" "$w"; then
        ((i + 1 < COMP_CWORD)) && _firestream_scope "$path" "$w" "\${COMP_WORDS[i+1]}"
        i=$((i + 1))
      fi
      continue
    fi
    if _firestream_has "\${path:+$path }$w"; then path="\${path:+$path }$w"; else positional+=("$w"); fi
  done
  # the value of a flag
  if [[ -z "$flag" && "$prev" == -?* ]] && _firestream_takes "$path" "$prev"; then
    flag="$prev"
    [[ "$prev" != --* ]] && flag="-\${prev: -1}"
  fi
  if [[ -n "$flag" ]]; then
    kind="$(_firestream_kind "$path" "$flag")"
    case "$kind" in
      config|files) COMPREPLY=($(compgen -f -- "$cur")) ;;
      dir) COMPREPLY=($(compgen -d -- "$cur")) ;;
      namespaces) COMPREPLY=($(compgen -W "$(_firestream_names namespaces)" -- "$cur")) ;;
      containers) COMPREPLY=($(compgen -W "$(_firestream_names containers "\${positional[@]}")" -- "$cur")) ;;
      profiles) COMPREPLY=($(compgen -W "$(_firestream_names profiles)" -- "$cur")) ;;
      switch) COMPREPLY=($(compgen -W "true false" -- "$cur")) ;;
      words:*) COMPREPLY=($(compgen -W "\${kind#words:}" -- "$cur")) ;;
      *) COMPREPLY=() ;;
    esac
    return
  fi
  # a flag
  if [[ "$cur" == -* ]]; then
    words="$(_firestream_options "$path")"
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    # \`--tls\` where only \`--no-tls\` exists, and the other way round
    if [[ \${#COMPREPLY[@]} -eq 0 && "$cur" == --?* ]]; then
      if [[ "$cur" == --no-* ]]; then w="--\${cur#--no-}"; else w="--no-\${cur#--}"; fi
      COMPREPLY=($(compgen -W "$words" -- "$w"))
    fi
    return
  fi
  # a subcommand or an operand
  case "$path" in
${commandCases}
    *) words="" ;;
  esac
  n=\${#positional[@]}
  case "$operand" in
    files) [[ $n -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur")); return ;;
    shells) [[ $n -eq 0 ]] && words="bash zsh fish" ;;
    clusters) [[ $n -eq 0 ]] && words="$(_firestream_names clusters)" ;;
    forwardable) [[ $n -eq 0 ]] && words="$(_firestream_names forwardable)" ;;
    serials) [[ $n -eq 0 ]] && words="$(_firestream_names serials)" ;;
    logs)
      if [[ $n -eq 0 ]]; then
        words="pod deployment service $(_firestream_names pods)"
      elif [[ $n -eq 1 ]]; then
        case "\${positional[0]}" in
          pod|pods|po) words="$(_firestream_names pods)" ;;
          service|services|svc) words="$(_firestream_names services)" ;;
          deployment|deployments|deploy) words="$(_firestream_names deployments)" ;;
        esac
      fi ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
_firestream_names() {
  "\${COMP_WORDS[0]}" __complete "$@" "\${scope[@]}" 2>/dev/null
}
# whether word $2 at command path $1 takes the next word as its value (\`-qo json\`: it does)
_firestream_takes() {
  local w="$2" k kind
  case "$w" in
    --*=*) return 1 ;;
    --*) kind="$(_firestream_kind "$1" "$w")" && [[ "$kind" != switch ]]; return ;;
  esac
  for ((k = 1; k < \${#w}; k++)); do
    kind="$(_firestream_kind "$1" "-\${w:k:1}")" || return 1
    if [[ "$kind" != switch ]]; then
      ((k == \${#w} - 1))
      return
    fi
  done
  return 1
}
# config, state directory, profile and namespace go along to \`__complete\`
_firestream_scope() {
  case "$(_firestream_kind "$1" "$2")" in
    config|dir|profiles|namespaces) scope+=("$2" "$3") ;;
  esac
}
_firestream_kind() {
  case "$1|$2" in
${flagCases(table)}
    *) return 1 ;;
  esac
}
_firestream_options() {
  case "$1" in
${optionCases}
  esac
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
    forwardable: "(firestream __complete forwardable 2>/dev/null)",
    logs: "'pod deployment service' (firestream __complete pods 2>/dev/null)",
    files: "(__fish_complete_path)",
    shells: "'bash zsh fish'",
    serials: "(firestream __complete serials 2>/dev/null)",
  };
  const values: Partial<Record<string, string>> = {
    config: " -r -F",
    files: " -r -F",
    dir: " -r -a '(__fish_complete_directories)'",
    namespaces: ` -x -a "(firestream __complete namespaces 2>/dev/null)"`,
    containers: ` -x -a "(firestream __complete containers 2>/dev/null)"`,
    profiles: ` -x -a "(firestream __complete profiles 2>/dev/null)"`,
    free: " -x",
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
    for (const [o, kind] of Object.entries(v.flags).filter(([o]) => o.startsWith("--"))) {
      const value = typeof kind === "string"
        ? values[kind] ?? ""
        : ` -x -a '${kind.words.join(" ")}'`;
      lines.push(`complete -c firestream -n '${cond}' -l '${o.slice(2)}'${value}`);
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

/** kubectl's call for completion: bounded, so that a cluster that does not answer is given up on quickly. */
const QUICK = ["--request-timeout=2s"];

/**
 * `__complete KIND [TARGET] [NAME]`: names for the shell, one a line. KIND: clusters (from the
 * state), serials (of the state's backups), profiles (of the config), services, pods, deployments, namespaces, forwardable
 * (the services port-forward would forward, as NAME or NAME.NAMESPACE) and containers (of the pods
 * `cluster logs TARGET NAME` would read). Never an error: with no config, no state or no running
 * cluster it prints nothing.
 */
export async function completeNames(
  flags: GlobalFlags,
  kind: string,
  target?: string,
  name?: string,
): Promise<void> {
  const out = new Output();
  let names: string[] = [];
  try {
    // the config and state only here: generating a script loads nothing but the command tree
    const { openSession } = await import("./session.ts");
    const session = await openSession({ ...flags, json: false, quiet: true });
    const context = kubeconfigContext(session.loaded.config.cluster.k3d.name);
    const ns = (flags as { namespace?: string }).namespace;
    if (kind === "clusters") {
      names = Object.keys((await session.store.read()).clusters);
    } else if (kind === "profiles") {
      names = Object.keys(session.loaded.profiles);
    } else if (kind === "serials") {
      names = (await session.store.backups()).map((b) => String(b.serial)).reverse();
    } else if (kind === "forwardable") {
      const { selectPorts } = await import("../portforward/discovery.ts");
      const list = await getJson(context, [...QUICK, "services", ...(ns ? ["-n", ns] : ["-A"])]);
      const { ports } = selectPorts(list.items, { namespaces: ns ? [ns] : [] });
      names = ports.map((p) =>
        ns || p.namespace === "default" ? p.service : `${p.service}.${p.namespace}`
      );
    } else if (kind === "containers") {
      const { parseTarget, selectPods } = await import("../observe/logs.ts");
      const pods = await selectPods(context, {
        ...parseTarget(target, name),
        namespace: ns ?? "default",
      }, QUICK);
      names = pods.flatMap((p) => (p.spec?.containers ?? []).map((c: { name: string }) => c.name));
    } else if (KUBE_KINDS[kind]) {
      const scope = kind === "namespaces" ? [] : ["-n", ns ?? "default"];
      const list = await getJson(context, [...QUICK, KUBE_KINDS[kind], ...scope]);
      names = list.items.map((i: { metadata: { name: string } }) => i.metadata.name);
    }
  } catch {
    // completion stays silent: no config, no state, no cluster
  }
  const sorted = [...new Set(names)].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  for (const n of sorted) out.line(n);
}
