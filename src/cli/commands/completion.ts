// `modelscope completion bash|zsh|fish`: a completion script made from the command tree itself, so new
// commands and flags complete without editing a script. Install: `modelscope completion bash >> ~/.bashrc`,
// or `source <(modelscope completion zsh)`, or `modelscope completion fish > ~/.config/fish/completions/modelscope.fish`.
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { action } from "../run.js";

interface Node {
  /** "" for the program, "cache ls" for a subcommand. */
  path: string;
  subcommands: { name: string; description: string }[];
  options: { flags: string[]; description: string }[];
}

function walk(cmd: Command, prefix = ""): Node[] {
  const visible = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
  const options = cmd.options.filter((o) => !o.hidden).map((o) => ({ flags: [o.short, o.long].filter((f): f is string => !!f), description: o.description }));
  options.push({ flags: ["-h", "--help"], description: "display help for command" });
  const node: Node = { path: prefix, subcommands: visible.map((c) => ({ name: c.name(), description: c.description() })), options };
  return [node, ...visible.flatMap((c) => walk(c, prefix ? `${prefix} ${c.name()}` : c.name()))];
}

const shellWord = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function bash(name: string, nodes: Node[]): string {
  const fn = `_${name.replace(/\W/g, "_")}`;
  const cases = nodes.map((n) => `    ${shellWord(n.path)}) echo ${shellWord([...n.subcommands.map((s) => s.name), ...n.options.flatMap((o) => o.flags)].join(" "))} ;;`);
  return `# ${name} completion for bash (and zsh through bashcompinit)
${fn}_words() {
  case "$1" in
${cases.join("\n")}
  esac
}
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    [[ " $(${fn}_words "$path") " == *" $w "* ]] && path="\${path:+$path }$w"
  done
  COMPREPLY=($(compgen -W "$(${fn}_words "$path")" -- "$cur"))
}
complete -o default -F ${fn} ${name}
`;
}

function zsh(name: string, nodes: Node[]): string {
  return `# ${name} completion for zsh
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bash(name, nodes).split("\n").slice(1).join("\n")}`;
}

function fish(name: string, nodes: Node[]): string {
  const desc = (d: string) => shellWord(d.replace(/\s+/g, " "));
  const lines = [`# ${name} completion for fish`, `complete -c ${name} -f`];
  for (const n of nodes) {
    const words = n.path.split(" ").filter(Boolean);
    const last = words[words.length - 1];
    // At the top: no subcommand yet. Below: the last word of the path was typed (good enough for two levels).
    const cond = last ? `__fish_seen_subcommand_from ${last}` : "__fish_use_subcommand";
    for (const s of n.subcommands) lines.push(`complete -c ${name} -n ${shellWord(cond)} -a ${shellWord(s.name)} -d ${desc(s.description)}`);
    for (const o of n.options) {
      const parts = o.flags.map((f) => (f.startsWith("--") ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`)).join(" ");
      lines.push(`complete -c ${name} -n ${shellWord(cond)} ${parts} -d ${desc(o.description)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export function registerCompletionCommand(program: Command): void {
  program
    .command("completion <shell>")
    .description("print a shell completion script (bash, zsh or fish)")
    .action(
      action(async (shell: string) => {
        const nodes = walk(program);
        const make = { bash, zsh, fish }[shell as "bash" | "zsh" | "fish"];
        if (!make) throw new UsageError(`Unknown shell '${shell}'`, "use bash, zsh or fish, e.g. `modelscope completion bash >> ~/.bashrc`", { key: "badShell", vars: { shell } });
        process.stdout.write(make(program.name(), nodes));
      }),
    );
}
