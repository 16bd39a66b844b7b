// `deepcompressor ptq llm|diffusion CFG... [-- ARGS]`: resolve the model, then run the Python
// DeepCompressor (`python -m deepcompressor.app.<kind>.ptq`) on the same configs with the local folder
// passed as --model-path / --pipeline-path and ModelScope switched off.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { overrideToArgs } from "../../config/index.js";
import type { LoadedConfig, ResolvedSection, SectionName } from "../../config/index.js";
import { t } from "../messages.js";
import { action, lang } from "../run.js";
import { cliState, collect, configArgs, errorContext, load, resolveForCli, type ConfigFlags, type ResolveFlags } from "./dc-config.js";

const KINDS: Record<string, SectionName> = { llm: "model", diffusion: "pipeline" };
/** Keys we act on ourselves; their overrides are not handed on once the section is resolved. */
const OUR_KEYS = new Set(["path", "use_modelscope", "modelscope_cache_dir", "revision"]);

export function pythonInterpreter(env: NodeJS.ProcessEnv = process.env): string {
  return env.DEEPCOMPRESSOR_PYTHON?.trim() || "python3";
}

/**
 * Writes the overlay that switches ModelScope off for the Python side when a config says
 * `use_modelscope: true` (a store_true flag cannot turn it back off). omniconfig only reads configs in a
 * subfolder of the working folder, so it goes in ./.deepcompressor/ and is removed afterwards.
 */
function writeOverlay(cwd: string, section: SectionName, localPath: string): string {
  const dir = path.join(cwd, ".deepcompressor");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `ptq-${process.pid}-${randomBytes(4).toString("hex")}.yaml`);
  const text = `# Written by \`deepcompressor ptq\` and removed when it ends: the ${section} was fetched to a local folder.\n${section}:\n  path: ${JSON.stringify(localPath)}\n  use_modelscope: false\n`;
  fs.writeFileSync(file, text);
  return file;
}

export function buildPythonArgs(kind: string, config: LoadedConfig, cfgArgs: string[], resolved: ResolvedSection | undefined, overlay: string | undefined, passthrough: string[]): string[] {
  const section = KINDS[kind]!;
  const args = ["-m", `deepcompressor.app.${kind}.ptq`, ...cfgArgs];
  if (overlay) args.push(path.relative(config.cwd, overlay));
  const local = resolved && (resolved.kind === "modelscope" || resolved.kind === "local") ? resolved.localPath : undefined;
  for (const o of config.overrides) {
    if (local && o.section === section && OUR_KEYS.has(o.key)) continue;
    args.push(...overrideToArgs(o));
  }
  if (local) args.push(`--${section}-path`, local);
  args.push(...passthrough);
  return args;
}

function insideSubfolder(file: string, cwd: string): boolean {
  const rel = path.relative(cwd, path.resolve(cwd, file));
  return !rel.startsWith("..") && !path.isAbsolute(rel) && rel.includes(path.sep);
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
        const config = load(cfgs, flags);
        const { resolved } = await resolveForCli(config, flags, [section]);
        const r = resolved.find((x) => x.section === section);
        if (r) process.stderr.write(`${r.kind === "untouched" ? t(lang, "dcUntouched", { section, reason: r.reason }) : t(lang, "dcLocal", { section, path: r.localPath ?? "" })}\n`);
        const cfgArgs = configArgs(cfgs, flags);
        for (const f of cfgArgs) if (!insideSubfolder(f, config.cwd)) process.stderr.write(`${t(lang, "dcOutsideCwd", { file: f })}\n`);
        const sectionData = config.data[section] as Record<string, unknown> | undefined;
        const needsOverlay = r?.kind === "modelscope" && sectionData?.use_modelscope === true && !!r.localPath;
        const overlay = needsOverlay ? writeOverlay(config.cwd, section, r.localPath!) : undefined;
        const python = pythonInterpreter();
        const args = buildPythonArgs(kind, config, cfgArgs, r, overlay, cliState.passthrough);
        process.stderr.write(`${t(lang, "dcRunning", { command: [python, ...args].map(shellQuote).join(" ") })}\n`);
        try {
          const { code, missingPackage } = await runPython(python, args, config.cwd);
          if (missingPackage) throw new UsageError(t(lang, "dcPackageMissing", { python }), t(lang, "dcPackageMissingFix", { python }));
          return code;
        } finally {
          if (overlay) {
            fs.rmSync(overlay, { force: true });
            try {
              fs.rmdirSync(path.dirname(overlay));
            } catch {
              // not empty: other runs' overlays
            }
          }
        }
      }, errorContext),
    );
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
