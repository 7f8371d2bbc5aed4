/** `firestream completions bash|zsh|fish`: scripts generated from the command tree itself. */
import type { Command } from "@commander-js/extra-typings";
import { FirestreamError } from "../errors.ts";

/** Every command path with its subcommands and options, e.g. "cluster" → ["create", …, "--help"]. */
export function completionTable(
  program: Command,
): Map<string, { commands: string[]; options: string[] }> {
  const table = new Map<string, { commands: string[]; options: string[] }>();
  const walk = (cmd: Command, path: string[], inherited: string[]) => {
    // deno-lint-ignore no-explicit-any
    const c = cmd as any;
    const own: string[] = c.options.flatMap((
      o: { long?: string; short?: string; hidden?: boolean },
    ) => (o.hidden ? [] : [o.long, o.short].filter(Boolean)));
    const options = [...new Set([...own, ...inherited, "--help"])];
    const subs = (c.commands as Command[]).filter((s) =>
      !(s as unknown as { _hidden: boolean })._hidden
    );
    table.set(path.join(" "), { commands: subs.map((s) => s.name()), options });
    for (const s of subs) walk(s, [...path, s.name()], path.length === 0 ? own : inherited);
  };
  walk(program, [], []);
  return table;
}

function bash(table: ReturnType<typeof completionTable>): string {
  const cases = [...table].map(([path, v]) =>
    `    "${path}") words="${[...v.commands, ...v.options].join(" ")}" ;;`
  ).join("\n");
  return `# bash completion for firestream; load with: source <(firestream completions bash)
_firestream() {
  local cur path="" w i words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    if _firestream_has "\${path:+$path }$w"; then path="\${path:+$path }$w"; fi
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
_firestream_has() {
  case "$1" in
${[...table.keys()].filter(Boolean).map((p) => `    "${p}") return 0 ;;`).join("\n")}
  esac
  return 1
}
complete -F _firestream firestream
`;
}

function zsh(table: ReturnType<typeof completionTable>): string {
  return `#compdef firestream
# zsh completion for firestream; load with: source <(firestream completions zsh)
autoload -U +X bashcompinit && bashcompinit
${bash(table)}`;
}

function fish(table: ReturnType<typeof completionTable>): string {
  const lines = [
    "# fish completion for firestream; load with: firestream completions fish | source",
    "complete -c firestream -f",
  ];
  for (const [path, v] of table) {
    const words = path ? path.split(" ") : [];
    const cond = words.length === 0
      ? "__fish_use_subcommand"
      : `__fish_seen_subcommand_from ${words[words.length - 1]}`;
    for (const c of v.commands) lines.push(`complete -c firestream -n '${cond}' -a '${c}'`);
    for (const o of v.options.filter((o) => o.startsWith("--"))) {
      lines.push(`complete -c firestream -n '${cond}' -l '${o.slice(2)}'`);
    }
  }
  return lines.join("\n") + "\n";
}

/** Prints the script for `shell`. */
export function completions(program: Command, shell: string): void {
  const table = completionTable(program);
  const make = { bash, zsh, fish }[shell as "bash" | "zsh" | "fish"];
  if (!make) {
    throw new FirestreamError(`unknown shell "${shell}"`, { hint: "use bash, zsh or fish" });
  }
  console.log(make(table));
}
