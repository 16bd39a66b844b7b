// `modelscope download REPO_ID [FILES...]`: a thin shell over snapshotDownload / downloadFiles.
// Also takes the official CLI's spellings (protocol §6): --model/--dataset ID (a positional is then the
// first file), --repo-type/--repo_type, --local_dir, --cache_dir.
// stdout: the local folder (or one path per requested file), or a JSON summary with --json.
// stderr: a progress bar only on a terminal.
import { Option, type Command } from "commander";
import v8 from "node:v8";
import vm from "node:vm";
import { NotFoundError, OfflineCacheMissError, UsageError } from "../../errors.js";
import { HubApi } from "../../hub/api.js";
import type { RepoType } from "../../hub/types.js";
import { forTerminal } from "../../util/terminal-text.js";
import { checkPatterns, nearNames } from "../download-hints.js";
import { t, type ExplainContext } from "../messages.js";
import { warnIfTokenForOtherHub } from "./auth.js";
import { parseRepoType } from "./create.js";
import { action, explainForCli, interruptSignal, isQuiet, lang, note, progressWanted, writeJson } from "../run.js";

interface DownloadFlags {
  model?: string;
  dataset?: string;
  repoType?: string;
  repo_type?: string;
  local_dir?: string;
  cache_dir?: string;
  revision?: string;
  include?: string[];
  exclude?: string[];
  localDir?: string;
  cacheDir?: string;
  maxWorkers?: string;
  force?: boolean;
  offline?: boolean;
  dryRun?: boolean;
  json?: boolean;
  endpoint?: string;
  token?: string;
}

export function parseWorkers(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`Invalid --max-workers '${v}'`, "use a whole number from 1 to 64", { key: "badMaxWorkers", vars: { value: v } });
  return n;
}

/**
 * Received bytes arrive in fresh 64 KiB buffers that V8 frees only when it collects their (tiny) JS
 * wrappers; with few JS allocations per byte that happens rarely, so up to ~64 MB of dead buffers pile
 * up and then cost a full mark-compact. A young-generation collection every 16 MiB received frees them
 * for well under a millisecond each: peak RSS drops and the full collections mostly go away.
 */
export function youngGenerationCollector(): (bytes: number) => void {
  let gc: ((opts: { type: "minor" }) => void) | undefined;
  try {
    v8.setFlagsFromString("--expose-gc");
    gc = vm.runInNewContext("gc") as typeof gc;
  } catch {
    gc = undefined;
  }
  if (typeof gc !== "function") return () => undefined;
  const every = 16 * 1024 * 1024;
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < every) return;
    since = 0;
    gc!({ type: "minor" });
  };
}

/**
 * For commands whose bytes are hashed, copied and written by native code (download, upload): V8's
 * optimising compilers only take CPU from the threads that do the work. undici's HTTP parser is
 * WebAssembly; its optimising compile briefly costs ~35 MB of peak RSS, for a parser that mostly hands
 * over body spans: the baseline compiler is plenty. TurboFan's background compiles of JavaScript took
 * ~15% of a 200-small-file download's CPU (scenario 1: -9% wall time without them). Call before the
 * first request; these processes only ever run one command.
 */
export function noOptimisingCompiler(): void {
  v8.setFlagsFromString("--liftoff-only");
  v8.setFlagsFromString("--no-opt");
}

/** The repo, its type and the files, from the official spellings and ours (the official meaning). */
export function downloadTarget(repoId: string | undefined, files: string[], flags: DownloadFlags): { id: string; repoType: RepoType; files: string[] } {
  if (flags.model !== undefined && flags.dataset !== undefined) {
    throw new UsageError("Use either --model or --dataset, not both", "e.g. `modelscope download --dataset owner/name`", { key: "modelAndDataset" });
  }
  const typeFlags = [flags.repoType, flags.repo_type].filter((v): v is string => v !== undefined).map(parseRepoType);
  let repoType = typeFlags[0] ?? "model";
  if (typeFlags.some((v) => v !== repoType)) throw new UsageError("--repo-type is given twice with different values", "give it once: model or dataset", { key: "repoTypeTwice" });
  let id = repoId;
  const named = flags.model ?? flags.dataset;
  if (named !== undefined) {
    const namedType: RepoType = flags.model !== undefined ? "model" : "dataset";
    if (typeFlags.length > 0 && repoType !== namedType) {
      throw new UsageError(`--${namedType} contradicts --repo-type ${repoType}`, `drop --repo-type, or use --${repoType} ID`, { key: "repoTypeContradicts", vars: { flag: `--${namedType}`, type: repoType } });
    }
    repoType = namedType;
    // As the official CLI: with --model/--dataset, a positional is the first file.
    if (id !== undefined) files = [id, ...files];
    id = named;
  }
  if (!id) throw new UsageError("No repo id given", "e.g. `modelscope download owner/name` or `modelscope download --dataset owner/name`", { key: "repoIdRequired" });
  return { id, repoType, files };
}

export function registerDownloadCommand(program: Command): void {
  let errorContext: ExplainContext = {};
  let jsonWanted = false;
  program
    .command("download [repo_id] [files...]")
    .description("download a model or dataset (or some of its files) into the cache or --local-dir, verified by sha256; prints the local folder")
    .option("--repo-type <type>", "model or dataset (default: model; also --repo_type)")
    .option("--model <id>", "the model to download (official spelling; a positional is then the first file)")
    .option("--dataset <id>", "the dataset to download (a positional is then the first file)")
    .addOption(new Option("--repo_type <type>").hideHelp())
    .addOption(new Option("--local_dir <dir>").hideHelp())
    .addOption(new Option("--cache_dir <dir>").hideHelp())
    .option("--revision <rev>", "branch, tag or commit (default: master)")
    .option("--include <glob...>", "only files matching these globs (`*` crosses `/`; comma lists allowed)")
    .option("--exclude <glob...>", "skip files matching these globs")
    .option("--local-dir <dir>", "put the files here instead of the cache")
    .option("--cache-dir <dir>", "cache folder (default: MODELSCOPE_CACHE or ~/.cache/modelscope)")
    .option("--max-workers <n>", "files downloaded at once (default 8)")
    .option("--force", "download again even when cached")
    .option("--offline", "no network: use the cache or say what is missing (also MODELSCOPE_OFFLINE=1)")
    .option("--dry-run", "list what would be downloaded, write nothing")
    .option("--json", "print a JSON summary")
    .option("--endpoint <url>", "hub URL (default: MODELSCOPE_ENDPOINT or https://modelscope.cn)")
    .option("--token <token>", "use this token instead of the saved one (prefer MODELSCOPE_API_TOKEN)")
    .action(
      action(
        async (repoId: string | undefined, positionalFiles: string[], flags: DownloadFlags) => {
          jsonWanted = !!flags.json;
          const { id: modelId, repoType, files } = downloadTarget(repoId, positionalFiles, flags);
          const localDir = flags.localDir ?? flags.local_dir;
          const cacheDir = flags.cacheDir ?? flags.cache_dir;
          const maxWorkers = parseWorkers(flags.maxWorkers);
          noOptimisingCompiler();
          if (files.length > 0 && (flags.include?.length || flags.exclude?.length)) {
            throw new UsageError("Name files or use --include/--exclude, not both", "e.g. `modelscope download owner/name config.json` or `--include '*.json'`", { key: "filesAndGlobs" });
          }
          const api = new HubApi({ endpoint: flags.endpoint, token: flags.token });
          errorContext = { endpoint: api.endpoint };
          if (!flags.offline) warnIfTokenForOtherHub(api);
          const { snapshotDownload, downloadFiles } = await import("../../download/index.js");
          const { createProgress, humanBytes, humanDuration } = await import("../progress.js");
          const showBar = progressWanted() && !flags.json && !flags.dryRun;
          const progress = await createProgress(showBar);
          const t0 = Date.now();
          const collect = youngGenerationCollector();
          const opts = {
            api,
            repoType,
            revision: flags.revision,
            include: flags.include,
            exclude: flags.exclude,
            localDir,
            cacheDir,
            maxWorkers,
            force: flags.force,
            offline: flags.offline ? true : undefined,
            dryRun: flags.dryRun,
            signal: interruptSignal(),
            onProgress: (e: Parameters<typeof progress.onEvent>[0]) => {
              if (e.type === "bytes") collect(e.bytes);
              progress.onEvent(e);
            },
          };
          // Every file of the revision, without downloading: for the glob check and for near names.
          const allPaths = async () => (await snapshotDownload(modelId, { ...opts, include: undefined, exclude: undefined, dryRun: true, onProgress: undefined })).files.map((f) => f.path);
          let res;
          try {
            if (flags.include?.length || flags.exclude?.length) {
              // Offline with only part of the model cached there is no whole listing to check against.
              const paths = await allPaths().catch((err: unknown) => {
                if (err instanceof OfflineCacheMissError) return undefined;
                throw err;
              });
              if (paths) checkPatterns(paths, flags.include, flags.exclude);
            }
            res = files.length > 0 ? await downloadFiles(modelId, files, opts) : await snapshotDownload(modelId, opts);
          } catch (err) {
            if (err instanceof NotFoundError) errorContext.suggestions = await suggestionsFor(err, api, allPaths, flags.revision);
            throw err;
          } finally {
            progress.stop();
          }
          if (flags.json) {
            const bytes = (s: string) => res.files.filter((f) => f.status === s).reduce((a, f) => a + f.size, 0);
            writeJson({
              modelId: res.modelId,
              repoType: res.repoType,
              revision: res.revision,
              path: res.path,
              dryRun: !!flags.dryRun,
              files: res.files,
              downloaded: res.files.filter((f) => f.status === "downloaded").length,
              cached: res.files.filter((f) => f.status === "cached").length,
              planned: res.files.filter((f) => f.status === "planned").length,
              bytesDownloaded: bytes("downloaded"),
              bytesPlanned: bytes("planned"),
            });
            return;
          }
          if (flags.dryRun) {
            for (const f of res.files) process.stdout.write(`${f.status === "cached" ? "cached " : "fetch  "} ${humanBytes(f.size).padStart(10)}  ${forTerminal(f.path)}\n`);
            const todo = res.files.filter((f) => f.status === "planned");
            const size = humanBytes(todo.reduce((a, f) => a + f.size, 0));
            note(t(lang, "dlWouldDownload", { count: String(todo.length), size, path: res.path }));
            return;
          }
          if (files.length > 0) for (const f of res.files) process.stdout.write(`${forTerminal(f.localPath)}\n`);
          else process.stdout.write(`${forTerminal(res.path)}\n`);
          // Without a bar (piped, CI logs), one line at the end says what happened instead of silence.
          if (!showBar && !isQuiet()) {
            const got = res.files.filter((f) => f.status === "downloaded");
            const vars = { files: String(got.length), size: humanBytes(got.reduce((a, f) => a + f.size, 0)), time: humanDuration((Date.now() - t0) / 1000), cached: String(res.files.length - got.length) };
            note(t(lang, "dlSummary", vars));
          }
        },
        () => errorContext,
        (err) => {
          // --json: the failure as a JSON object on stdout too, so a script reading stdout sees it.
          if (!jsonWanted) return;
          const e = explainForCli(err, errorContext);
          writeJson({ error: { type: err instanceof Error ? err.name : "Error", message: e.line.replace(/^(Error: |错误：)/, ""), fix: e.fix, exitCode: e.exitCode } });
        },
      ),
    );
}

/** Near names for a missing file; the revisions there are for a missing revision (the model exists). */
async function suggestionsFor(err: NotFoundError, api: HubApi, allPaths: () => Promise<string[]>, revision: string | undefined): Promise<ExplainContext["suggestions"]> {
  try {
    if (err.subject.filePath) return { kind: "file", names: nearNames(err.subject.filePath, await allPaths()) };
    if (revision && err.subject.modelId) {
      const revs = await api.listRevisions(err.subject.modelId);
      return { kind: "revision", names: [...revs.branches, ...revs.tags].map((r) => r.name) };
    }
  } catch {
    // no hints then: the error itself is what matters
  }
  return undefined;
}
