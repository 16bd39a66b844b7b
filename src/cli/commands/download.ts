// `modelscope download MODEL_ID [FILES...]`: a thin shell over snapshotDownload / downloadFiles.
// stdout: the local folder (or one path per requested file), or a JSON summary with --json.
// stderr: a progress bar only on a terminal.
import type { Command } from "commander";
import v8 from "node:v8";
import vm from "node:vm";
import { UsageError } from "../../errors.js";
import { HubApi } from "../../hub/api.js";
import { t } from "../messages.js";
import { action, interruptSignal, lang, writeJson } from "../run.js";

interface DownloadFlags {
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

export function registerDownloadCommand(program: Command): void {
  let endpointForErrors: string | undefined;
  program
    .command("download <model_id> [files...]")
    .description("download a model (or some of its files) into the cache or --local-dir, verified by sha256; prints the local folder")
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
        async (modelId: string, files: string[], flags: DownloadFlags) => {
          const maxWorkers = parseWorkers(flags.maxWorkers);
          // undici's HTTP parser is WebAssembly; V8's optimising compile of it briefly costs ~35 MB of
          // peak RSS, for a parser that mostly hands over body spans. The baseline compiler is plenty.
          // Likewise for JavaScript: the bytes are hashed, copied and written by native code, and
          // TurboFan's background compiles took ~15% of a 200-small-file download's CPU, on cores the
          // hashing and writing threads need (scenario 1: -9% wall time without them).
          // (Set before the first request; this process only ever runs this one command.)
          v8.setFlagsFromString("--liftoff-only");
          v8.setFlagsFromString("--no-opt");
          if (files.length > 0 && (flags.include?.length || flags.exclude?.length)) {
            throw new UsageError("Name files or use --include/--exclude, not both", "e.g. `modelscope download owner/name config.json` or `--include '*.json'`", { key: "filesAndGlobs" });
          }
          const api = new HubApi({ endpoint: flags.endpoint, token: flags.token });
          endpointForErrors = api.endpoint;
          const { snapshotDownload, downloadFiles } = await import("../../download/index.js");
          const { createProgress, humanBytes } = await import("../progress.js");
          const progress = await createProgress(!!process.stderr.isTTY && !flags.json && !flags.dryRun);
          const collect = youngGenerationCollector();
          const opts = {
            api,
            revision: flags.revision,
            include: flags.include,
            exclude: flags.exclude,
            localDir: flags.localDir,
            cacheDir: flags.cacheDir,
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
          let res;
          try {
            res = files.length > 0 ? await downloadFiles(modelId, files, opts) : await snapshotDownload(modelId, opts);
          } finally {
            progress.stop();
          }
          if (flags.json) {
            const bytes = (s: string) => res.files.filter((f) => f.status === s).reduce((a, f) => a + f.size, 0);
            writeJson({
              modelId: res.modelId,
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
            for (const f of res.files) process.stdout.write(`${f.status === "cached" ? "cached " : "fetch  "} ${humanBytes(f.size).padStart(10)}  ${f.path}\n`);
            const todo = res.files.filter((f) => f.status === "planned");
            const size = humanBytes(todo.reduce((a, f) => a + f.size, 0));
            process.stderr.write(`${t(lang, "dlWouldDownload", { count: String(todo.length), size, path: res.path })}\n`);
            return;
          }
          if (files.length > 0) for (const f of res.files) process.stdout.write(`${f.localPath}\n`);
          else process.stdout.write(`${res.path}\n`);
        },
        () => ({ endpoint: endpointForErrors }),
      ),
    );
}
