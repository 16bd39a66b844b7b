// `deepcompressor ptq llm|diffusion CFG... [-- ARGS]`: check the Python package is there, resolve the
// model, then run the Python DeepCompressor (`python -m deepcompressor.app.<kind>.ptq`) on the same configs
// with the local folder passed as `--model-path` / `--pipeline-path` (and `--model-use-modelscope false`
// when the config turns ModelScope on): every argument is one omniconfig accepts.
import { spawn, spawnSync } from "node:child_process";
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { overrideToArgs } from "../../config/index.js";
import { unknownFlagError } from "../../config/overrides.js";
import { OUR_ONLY_KEYS } from "../../config/fields.js";
import type { LoadedConfig, ResolvedSection, SectionName } from "../../config/index.js";
import { t } from "../messages.js";
import { action, lang } from "../run.js";
import { cliState, collect, configArgs, errorContext, load, resolveForCli, type ConfigFlags, type ResolveFlags } from "./dc-config.js";

const KINDS: Record<string, SectionName> = { llm: "model", diffusion: "pipeline" };
/** Keys we act on ourselves; their overrides are replaced by the local folder once the section is resolved. */
const SOURCE_KEYS = new Set(["path", "use_modelscope", "modelscope_cache_dir"]);

export function pythonInterpreter(env: NodeJS.ProcessEnv = process.env): string {
  return env.DEEPCOMPRESSOR_PYTHON?.trim() || "python3";
}

export function buildPythonArgs(kind: string, config: LoadedConfig, cfgArgs: string[], resolved: ResolvedSection | undefined, passthrough: string[]): string[] {
  const section = KINDS[kind]!;
  const args = ["-m", `deepcompressor.app.${kind}.ptq`, ...cfgArgs];
  const local = resolved && (resolved.kind === "modelscope" || resolved.kind === "local") ? resolved.localPath : undefined;
  for (const o of config.overrides) {
    if (OUR_ONLY_KEYS.has(o.key)) continue;
    if (local && o.section === section && SOURCE_KEYS.has(o.key)) continue;
    args.push(...overrideToArgs(o));
  }
  if (local) {
    args.push(`--${section}-path`, local);
    const data = config.data[section] as Record<string, unknown> | undefined;
    if (data?.use_modelscope === true) args.push(`--${section}-use-modelscope`, "false");
  }
  args.push(...passthrough);
  return args;
}

/** Whether the interpreter has the `deepcompressor` package (found, not imported: a second, not minutes). */
function checkPackage(python: string, cwd: string): void {
  const r = spawnSync(python, ["-c", "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('deepcompressor') else 3)"], { cwd, stdio: ["ignore", "ignore", "pipe"], timeout: 60_000 });
  const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT" || code === "EACCES") throw new UsageError(t(lang, "dcPythonNotFound", { python }), t(lang, "dcPythonNotFoundFix"));
  if (r.status === 3) throw new UsageError(t(lang, "dcPackageMissing", { python }), t(lang, "dcPackageMissingFix", { python }));
}

/** Runs the interpreter; stderr is passed through and watched for a missing package. */
function runPython(python: string, args: string[], cwd: string): Promise<{ code: number; missingPackage: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { cwd, stdio: ["inherit", "inherit", "pipe"] });
    let tail = "";
    child.stderr.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      tail = (tail + chunk.toString("utf8")).slice(-8192);
    });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const onInt = forward("SIGINT");
    const onTerm = forward("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    child.on("error", (err: NodeJS.ErrnoException) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      if (err.code === "ENOENT" || err.code === "EACCES") reject(new UsageError(t(lang, "dcPythonNotFound", { python }), t(lang, "dcPythonNotFoundFix")));
      else reject(err);
    });
    child.on("close", (code, signal) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      const missingPackage = code !== 0 && /No module named '?deepcompressor(\.|'|\s|$)/.test(tail);
      resolve({ code: code ?? (signal === "SIGINT" ? 130 : 1), missingPackage });
    });
  });
}

export function registerPtqCommand(program: Command): void {
  program
    .command("ptq")
    .description("resolve the model, then run the Python DeepCompressor's post-training quantization on the same configs")
    .argument("<kind>", "llm or diffusion")
    .argument("[cfgs...]", "config files, as for the Python tool")
    .option("--config <file>", "a config file (repeatable)", collect)
    .option("--offline", "no network: the model must be cached")
    .option("--endpoint <url>", "hub URL")
    .addHelpText("after", "\nArguments after -- go to the Python tool unchanged. The interpreter is $DEEPCOMPRESSOR_PYTHON, else python3.")
    .action(
      action(async (kind: string, cfgs: string[], flags: ConfigFlags & ResolveFlags) => {
        const section = KINDS[kind];
        if (!section) throw new UsageError(`Unknown ptq kind '${kind}'`, "use `deepcompressor ptq llm CFG...` or `deepcompressor ptq diffusion CFG...`", { key: "badPtqKind", vars: { kind } });
        const stray = cliState.overrides.find((o) => o.section !== section);
        if (stray) throw unknownFlagError(stray.flag, section, `is not a flag of \`ptq ${kind}\``);
        const config = load(cfgs, flags);
        const python = pythonInterpreter();
        checkPackage(python, config.cwd);
        const { resolved } = await resolveForCli(config, flags, [section]);
        const r = resolved.find((x) => x.section === section);
        if (r) process.stderr.write(`${r.kind === "untouched" ? t(lang, "dcUntouched", { section, reason: r.reason }) : t(lang, "dcLocal", { section, path: r.localPath ?? "" })}\n`);
        const args = buildPythonArgs(kind, config, configArgs(cfgs, flags), r, cliState.passthrough);
        process.stderr.write(`${t(lang, "dcRunning", { command: [python, ...args].map(shellQuote).join(" ") })}\n`);
        const { code, missingPackage } = await runPython(python, args, config.cwd);
        if (missingPackage) throw new UsageError(t(lang, "dcPackageMissing", { python }), t(lang, "dcPackageMissingFix", { python }));
        return code;
      }, errorContext),
    );
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
