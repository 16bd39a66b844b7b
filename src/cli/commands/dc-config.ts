// `deepcompressor fetch | config validate | check-auth`: thin shells over loadConfig / resolveModels.
import type { Command } from "commander";
import { ConfigError, UsageError, formatConfigProblem } from "../../errors.js";
import { HubApi } from "../../hub/api.js";
import { offlineFromEnv } from "../../settings.js";
import { forTerminal } from "../../util/terminal-text.js";
import { loadConfig, outputPlacementWarnings, resolveModels, writeResolved } from "../../config/index.js";
import type { ConfigOverride, LoadedConfig, ResolvedSection, SectionName } from "../../config/index.js";
import { classifyAll } from "../../config/classify.js";
import { configProblemZh, explain, t } from "../messages.js";
import { authStatus } from "./auth.js";
import { createProgress } from "../progress.js";
import { action, interruptSignal, lang, progressWanted, writeJson } from "../run.js";

/** Overrides taken out of argv before commander sees it (see deepcompressor.ts). */
export const cliState: { overrides: ConfigOverride[]; passthrough: string[]; endpoint?: string } = { overrides: [], passthrough: [] };

/** Error context: the hub in use, so a fix can link to the right model page. */
export const errorContext = () => ({ endpoint: cliState.endpoint ?? new HubApi().endpoint });

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export interface ConfigFlags {
  config?: string[];
  strict?: boolean;
}

/** Positional files first, then --config files, in the order given. */
export function configArgs(cfgs: string[], flags: ConfigFlags): string[] {
  return [...cfgs, ...(flags.config ?? [])];
}

export function load(cfgs: string[], flags: ConfigFlags): LoadedConfig {
  const files = configArgs(cfgs, flags);
  if (files.length === 0) {
    throw new UsageError("No config file given", "pass one or more DeepCompressor YAML files, e.g. `deepcompressor fetch examples/llm/qwen-7b-chat.yaml`", { key: "noConfig" });
  }
  const config = loadConfig(files, cliState.overrides, { strict: flags.strict });
  // What the Python tool would only warn about (and go on with its defaults): said here, before any run.
  for (const w of config.warnings) process.stderr.write(`${t(lang, "dcWarning", { problem: formatConfigProblem(lang === "zh" ? { ...w, message: configProblemZh(w.message) } : w) })}\n`);
  return config;
}

function where(config: LoadedConfig, section: SectionName): string {
  const o = config.locate([section, "path"]) ?? config.locate([section, "name"]) ?? config.locate([section]);
  if (!o) return "(config)";
  return [o.file, o.line, o.column].filter((x) => x !== undefined).join(":");
}

function progressLine(r: ResolvedSection): string {
  if (r.kind === "untouched") return t(lang, "dcUntouched", { section: r.section, reason: r.reason });
  if (r.kind === "local") return t(lang, "dcLocal", { section: r.section, path: r.localPath ?? "" });
  const count = (s: string) => String((r.files ?? []).filter((f) => f.status === s).length);
  return t(lang, "dcFetched", { section: r.section, id: `${r.modelId}@${r.revision ?? "master"}`, path: r.localPath ?? "", files: String(r.files?.length ?? 0), downloaded: count("downloaded"), cached: count("cached"), planned: count("planned") });
}

export interface ResolveFlags {
  offline?: boolean;
  dryRun?: boolean;
  endpoint?: string;
  json?: boolean;
}

/** Resolves the sections, saying on stderr what happens; a failure names the section and where it was set. */
export async function resolveForCli(config: LoadedConfig, flags: ResolveFlags, sections?: SectionName[]): Promise<{ resolved: ResolvedSection[]; api: HubApi }> {
  const api = new HubApi({ endpoint: flags.endpoint });
  cliState.endpoint = api.endpoint;
  let current: ResolvedSection | undefined;
  const progress = await createProgress(progressWanted() && !flags.json && !flags.dryRun);
  try {
    const resolved = await resolveModels(config, {
      api,
      offline: flags.offline || offlineFromEnv(),
      dryRun: flags.dryRun,
      signal: interruptSignal(),
      sections,
      onProgress: (_section, e) => progress.onEvent(e),
      onResolve: (r) => {
        current = r;
        if (!flags.json) process.stderr.write(`${t(lang, "dcFetching", { section: r.section, id: r.modelId ?? "", revision: r.revision ?? "master", reason: r.reason })}\n`);
      },
    });
    return { resolved, api };
  } catch (err) {
    progress.stop();
    if (current && !(err instanceof ConfigError)) process.stderr.write(`${t(lang, "dcResolving", { key: `${current.section}.path`, where: where(config, current.section) })}\n`);
    throw err;
  } finally {
    progress.stop();
  }
}

function sectionJson(r: ResolvedSection) {
  return {
    section: r.section,
    kind: r.kind,
    reason: r.reason,
    modelId: r.modelId ?? null,
    revision: r.revision ?? null,
    originalPath: r.originalPath ?? null,
    path: r.localPath ?? null,
    cacheDir: r.cacheDir ?? null,
    files: r.files ?? null,
  };
}

export function registerConfigCommands(program: Command): void {
  program
    .command("fetch")
    .description("resolve every model source the configs name (model:, pipeline:), download what is missing, print the local folders")
    .argument("[cfgs...]", "config files (YAML), or files listing config paths; __default__.yaml files cascade as in DeepCompressor")
    .option("--config <file>", "a config file (repeatable; merged after the positional ones)", collect)
    .option("-o, --output <file>", "write the merged config with each path replaced by its local folder (comments and key order kept)")
    .option("--dry-run", "say what would be downloaded; write nothing")
    .option("--offline", "no network: use the cache or fail naming what is missing (also MODELSCOPE_OFFLINE=1)")
    .option("--json", "machine-readable output")
    .option("--endpoint <url>", "hub URL (default: MODELSCOPE_ENDPOINT or https://modelscope.cn)")
    .addHelpText("after", "\nOverrides (as the Python DeepCompressor): --model-path P, --model-name N, --model-use-modelscope [true|false],\n--model-modelscope-cache-dir D, --model-revision R (ours: the ModelScope revision), any other key of the\nsection (--model-fast-tokenizer false), and the same with --pipeline-... for diffusion configs.")
    .action(
      action(
        async (cfgs: string[], flags: ConfigFlags & ResolveFlags & { output?: string }) => {
          if (flags.output && flags.dryRun) throw new UsageError(t(lang, "dcOutputDryRun"));
          const config = load(cfgs, flags);
          if (!("model" in config.data) && !("pipeline" in config.data)) throw new UsageError(t(lang, "dcNothingToFetch"), t(lang, "dcNothingToFetchFix"));
          const { resolved } = await resolveForCli(config, flags);
          const output = flags.output ? await writeResolved(config, resolved, flags.output) : undefined;
          if (flags.json) {
            writeJson({ dryRun: !!flags.dryRun, offline: !!(flags.offline || offlineFromEnv()), sections: resolved.map(sectionJson), output: output ?? null });
            return;
          }
          for (const r of resolved) {
            process.stderr.write(`${progressLine(r)}\n`);
            if (r.localPath) process.stdout.write(`${forTerminal(r.localPath)}\n`);
          }
          if (output) process.stderr.write(`${t(lang, "dcWroteResolved", { path: output })}\n`);
          if (output) for (const w of outputPlacementWarnings(config, output)) process.stderr.write(`${t(lang, w.key, w.vars)}\n`);
        },
        errorContext,
      ),
    );

  const cfg = program.command("config").description("DeepCompressor configs");
  cfg
    .command("validate")
    .description("check configs (types, model sources, credentials) and report every problem at once, with file, line and key")
    .argument("[cfgs...]", "config files")
    .option("--config <file>", "a config file (repeatable)", collect)
    .option("--strict", "what the Python tool would only warn about (unknown keys, no model name) is an error too")
    .option("--json", "machine-readable output")
    .action(
      action(async (cfgs: string[], flags: ConfigFlags & { json?: boolean }) => {
        let config: LoadedConfig;
        try {
          config = load(cfgs, flags);
        } catch (err) {
          if (flags.json && err instanceof ConfigError) {
            const e = explain(err, lang);
            writeJson({ valid: false, problems: err.problems, fix: e.fix });
            return 2;
          }
          throw err;
        }
        const { resolved } = classifyAll(config);
        const files = [...config.defaultFiles, ...config.configFiles];
        if (flags.json) {
          writeJson({ valid: true, files, sections: resolved.map(sectionJson), warnings: config.warnings });
          return;
        }
        process.stdout.write(`${t(lang, "dcValid", { files: config.configFiles.join(", ") })}\n`);
        if (resolved.length === 0) process.stdout.write(`  ${t(lang, "dcNoSections")}\n`);
        for (const r of resolved) {
          const what = r.kind === "modelscope" ? `ModelScope ${r.modelId}${r.revision ? `@${r.revision}` : ""} (${r.reason})` : r.kind === "local" ? `local folder ${r.localPath}` : `left as is (${r.reason})`;
          process.stdout.write(`  ${r.section}: ${forTerminal(what)}\n`);
        }
      }),
    );

  program
    .command("check-auth")
    .description("are you signed in to ModelScope, with which token, does the hub accept it (exit 0 if signed in)")
    .option("--json", "machine-readable output")
    .option("--offline", "do not ask the hub; only say whether a token is present")
    .option("--endpoint <url>", "hub URL")
    .action(action((flags: { json?: boolean; offline?: boolean; endpoint?: string }) => authStatus(flags)));
}
