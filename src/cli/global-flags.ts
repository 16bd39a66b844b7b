// The official CLI takes `--token` and `--endpoint` before the command (`modelscope --endpoint URL download
// ID`); ours takes them on each command. Before commander parses, the ones written before the command are
// moved behind it, where the command takes them; a command without such a flag gets it through the
// environment variable of the same meaning instead (the process's own copy: nothing is written anywhere).
import type { Command } from "commander";

const GLOBALS: Record<string, string> = { "--token": "MODELSCOPE_API_TOKEN", "--endpoint": "MODELSCOPE_ENDPOINT" };

/** argv with leading `--token T` / `--endpoint URL` (or `--flag=value`) moved to the command they precede. */
export function hoistGlobalFlags(program: Command, argv: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const head = argv.slice(0, 2);
  const rest = argv.slice(2);
  const hoisted: [string, string][] = [];
  while (rest.length > 0) {
    const arg = rest[0]!;
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!(flag in GLOBALS)) break;
    if (eq > 0) {
      hoisted.push([flag, arg.slice(eq + 1)]);
      rest.shift();
    } else {
      // `--token` with no value left: commander says so, as it would for the command's own flag.
      if (rest.length < 2) break;
      hoisted.push([flag, rest[1]!]);
      rest.splice(0, 2);
    }
  }
  if (hoisted.length === 0) return argv;
  const command = commandAt(program, rest);
  const moved: string[] = [];
  for (const [flag, value] of hoisted) {
    if (command?.options.some((o) => o.long === flag)) moved.push(`${flag}=${value}`);
    else env[GLOBALS[flag]!] = value;
  }
  return [...head, ...rest, ...moved];
}

/** The (sub)command the words name, following `cache verify`-style paths; undefined for none. */
function commandAt(program: Command, words: string[]): Command | undefined {
  let cmd: Command | undefined;
  let level = program;
  for (const w of words) {
    const next = level.commands.find((c) => c.name() === w || c.aliases().includes(w));
    if (!next) break;
    cmd = next;
    level = next;
  }
  return cmd;
}
