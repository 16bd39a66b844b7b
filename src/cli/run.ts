// Shared CLI plumbing: one way to run an action, print errors, set exit codes and handle Ctrl-C.
import { Command, CommanderError } from "commander";
import { ConfigError, UsageError } from "../errors.js";
import { closeDispatchers } from "../http/dispatcher.js";
import { messageLanguage, progressBarsDisabled, resolveEndpoint } from "../settings.js";
import { forTerminal, jsonForTerminal, linesForTerminal } from "../util/terminal-text.js";
import { translateHelp } from "./help-zh.js";
import { setRetryNotice } from "../http/retry-notice.js";
import { explain, explainParseError, t, type ExplainContext, type Explained, type Lang } from "./messages.js";

export const lang: Lang = messageLanguage();

/** The command's -q/--quiet (set before its action runs): no progress bars, no notes, errors only. */
let quiet = false;
export function isQuiet(): boolean {
  return quiet;
}

/** Progress bars: on a terminal, unless -q or MODELSCOPE_DISABLE_PROGRESS_BARS. */
export function progressWanted(): boolean {
  return !!process.stderr.isTTY && !quiet && !progressBarsDisabled();
}

/** A note or summary on stderr; -q drops it (errors are printed by printError, always). */
export function note(text: string): void {
  if (!quiet) process.stderr.write(`${text}\n`);
}

/** The command runs on MODELSCOPE_API_TOKEN (no --token): a rejected token then names the variable. */
let tokenFromEnv = false;

/** The signal that ended the run: SIGTERM exits 143, as shells expect, Ctrl-C 130. */
let terminated = false;

/** Every signal handed out by interruptSignal(); one pair of process handlers aborts them all. */
const controllers: AbortController[] = [];

/**
 * An AbortSignal that fires on the first Ctrl-C or SIGTERM, so the command stops cleanly; a second one
 * exits at once (130 for Ctrl-C, 143 for SIGTERM).
 */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  if (controllers.length === 0) {
    let interrupted = false;
    process.on("SIGINT", () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      for (const c of controllers) c.abort();
    });
    process.on("SIGTERM", () => {
      if (terminated) process.exit(143);
      terminated = true;
      for (const c of controllers) c.abort();
    });
  }
  controllers.push(controller);
  return controller.signal;
}

/** An error as the CLI states it: the fix names the hub in use (not always modelscope.cn) and the token's source. */
export function explainForCli(err: unknown, ctx: ExplainContext = {}): Explained {
  return explain(err, lang, { endpoint: resolveEndpoint().endpoint, tokenFromEnv, ...ctx });
}

export function printError(err: unknown, ctx: ExplainContext = {}): number {
  const e = explainForCli(err, ctx);
  // Messages carry outside text (a server's words, file names): escaped, one line stays one line (a
  // config error is one line per problem).
  process.stderr.write(`${err instanceof ConfigError ? linesForTerminal(e.line) : forTerminal(e.line)}\n`);
  process.stderr.write(`${lang === "zh" ? "  解决：" : "  Fix: "}${forTerminal(e.fix)}\n`);
  if (process.env.DEEPCOMPRESSOR_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return e.exitCode;
}

/** Wraps a command action: errors become one line plus a fix, and the right exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void | number>, ctx: () => ExplainContext = () => ({}), onError?: (err: unknown) => void) {
  return async (...args: A): Promise<void> => {
    let code = 0;
    try {
      code = (await fn(...args)) ?? 0;
    } catch (err) {
      onError?.(err);
      code = printError(err, ctx());
    }
    if (terminated && code === 130) code = 143;
    await closeDispatchers();
    process.exitCode = code;
  };
}

/** Parses argv with usage errors mapped to exit code 2 (commander's own default is 1). */
export async function runProgram(program: Command, argv = process.argv): Promise<void> {
  program.exitOverride();
  quietClosedPipes();
  // A command that does not handle SIGTERM itself still ends with the shell's code for it.
  process.on("SIGTERM", () => {
    if (process.listenerCount("SIGTERM") === 1) process.exit(143);
  });
  for (const cmd of allCommands(program)) {
    // -q on every command that does something (not on groups such as `cache`, whose subcommands have it).
    const acts = cmd.commands.length === 0 || (cmd as unknown as { _actionHandler?: unknown })._actionHandler;
    if (acts && !cmd.options.some((o) => o.long === "--quiet")) cmd.option("-q, --quiet", "errors only: no progress bars, notes or summaries");
  }
  program.hook("preAction", (_root, actionCommand) => {
    const opts = actionCommand.opts();
    quiet = !!opts.quiet;
    // `login` checks the token it is given, never the env var's.
    tokenFromEnv = actionCommand.name() !== "login" && opts.token === undefined && !!process.env.MODELSCOPE_API_TOKEN?.trim();
    refuseFlagLikeValues(actionCommand);
  });
  if (lang === "zh") translateHelp(program);
  if (process.stderr.isTTY) {
    // On a terminal, say that a failing request is being retried rather than sit silent.
    setRetryNotice(({ attempt, of, delayMs, error }) => {
      if (quiet) return;
      const why = explain(error, lang).line.replace(/^(Error: |错误：)/, "");
      note(t(lang, "retrying", { why, delay: `${(delayMs / 1000).toFixed(1)}s`, attempt: String(attempt), of: String(of) }));
    });
  }
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
      // --help and --version end well; help shown because no command was given (bare `modelscope`) is a usage error.
      const benign = err.code === "commander.helpDisplayed" || err.code === "commander.version" || (err.code === "commander.help" && err.exitCode === 0);
      process.exitCode = benign ? 0 : 2;
      return;
    }
    process.exitCode = printError(err);
  }
}

/**
 * `modelscope cache ls | head -1`, `modelscope --help | true`: the reader went away, so there is nobody
 * left to tell anything. End quietly, with the code the command had so far.
 */
function quietClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (stream === process.stdout && stdoutLogOnly) {
        // A server whose standard output is only its log: the log ends, the server goes on.
        if (!stdoutLogOnly.closed) stdoutLogOnly.onClosed();
        stdoutLogOnly.closed = true;
        return;
      }
      if (err.code === "EPIPE") process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
      throw err;
    });
  }
}

let stdoutLogOnly: { onClosed: () => void; closed: boolean } | undefined;

/** For `serve`: standard output is its access log, and its reader going away must not stop the hub. */
export function keepRunningWithoutStdout(onClosed: () => void): void {
  stdoutLogOnly = { onClosed, closed: false };
}

/**
 * `--revision --json`: commander takes `--json` as the revision. A value that is spelled like a flag of
 * the command is almost always a missing value, so it is a usage error rather than a strange lookup.
 */
function refuseFlagLikeValues(cmd: Command): void {
  for (const opt of cmd.options) {
    if (!(opt.required || opt.optional) || cmd.getOptionValueSource(opt.attributeName()) !== "cli") continue;
    const raw: unknown = cmd.getOptionValue(opt.attributeName());
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      if (typeof value === "string" && /^(--[A-Za-z][\w-]*|-[A-Za-z])(=.*)?$/.test(value)) {
        const flag = opt.long ?? opt.flags;
        throw new UsageError(`${flag} needs a value, but got the flag ${value}`, `give ${flag} its value, e.g. ${flag} VALUE`, { key: "flagValueIsFlag", vars: { flag, value } });
      }
    }
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
