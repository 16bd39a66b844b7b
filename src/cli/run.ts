// Shared CLI plumbing: one way to run an action, print errors, set exit codes and handle Ctrl-C.
import { Command, CommanderError } from "commander";
import { closeDispatchers } from "../http/dispatcher.js";
import { messageLanguage, resolveEndpoint } from "../settings.js";
import { ConfigError } from "../errors.js";
import { forTerminal, jsonForTerminal, linesForTerminal } from "../util/terminal-text.js";
import { explain, explainParseError, type ExplainContext, type Lang } from "./messages.js";

export const lang: Lang = messageLanguage();

/** An AbortSignal that fires on the first Ctrl-C; a second Ctrl-C exits at once. */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  let count = 0;
  process.on("SIGINT", () => {
    count++;
    if (count > 1) process.exit(130);
    controller.abort();
  });
  process.on("SIGTERM", () => controller.abort());
  return controller.signal;
}

export function printError(err: unknown, ctx: ExplainContext = {}): number {
  // The fix links to the model's page on the hub in use, not always modelscope.cn.
  const e = explain(err, lang, { endpoint: resolveEndpoint().endpoint, ...ctx });
  // Messages carry outside text (a server's words, file names): escaped, one line stays one line (a
  // config error is one line per problem).
  process.stderr.write(`${err instanceof ConfigError ? linesForTerminal(e.line) : forTerminal(e.line)}\n`);
  process.stderr.write(`${lang === "zh" ? "  解决：" : "  Fix: "}${forTerminal(e.fix)}\n`);
  if (process.env.DEEPCOMPRESSOR_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return e.exitCode;
}

/** Wraps a command action: errors become one line plus a fix, and the right exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void | number>, ctx: () => ExplainContext = () => ({})) {
  return async (...args: A): Promise<void> => {
    let code = 0;
    try {
      code = (await fn(...args)) ?? 0;
    } catch (err) {
      code = printError(err, ctx());
    }
    await closeDispatchers();
    process.exitCode = code;
  };
}

/** Parses argv with usage errors mapped to exit code 2 (commander's own default is 1). */
export async function runProgram(program: Command, argv = process.argv): Promise<void> {
  program.exitOverride();
  if (resolveEndpoint().source === "MODELSCOPE_DOMAIN") {
    // As the official client: still honoured, but say once that it is on its way out.
    process.stderr.write(lang === "zh" ? "警告：环境变量 MODELSCOPE_DOMAIN 已弃用，请改用 MODELSCOPE_ENDPOINT。\n" : "Warning: MODELSCOPE_DOMAIN is deprecated, use MODELSCOPE_ENDPOINT instead.\n");
  }
  // commander's own usage errors, in our shape: one line and a fix naming the command's --help.
  for (const cmd of allCommands(program)) {
    cmd.configureOutput({
      outputError: (str, write) => {
        const e = explainParseError(str, lang, commandPath(cmd));
        write(`${e.line}\n${lang === "zh" ? "  解决：" : "  Fix: "}${e.fix}\n`);
      },
    });
  }
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      const benign = err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help";
      process.exitCode = benign ? 0 : 2;
      return;
    }
    process.exitCode = printError(err);
  }
}

/** "modelscope cache rm": the names from the program down to this command. */
function commandPath(cmd: Command): string {
  return cmd.parent ? `${commandPath(cmd.parent)} ${cmd.name()}` : cmd.name();
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

/** Applies exitOverride to a command and all its subcommands (commander copies settings only at creation). */
export function overrideExits(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) overrideExits(sub);
}

export function writeJson(value: unknown): void {
  process.stdout.write(`${jsonForTerminal(value)}\n`);
}
