// `modelscope upload REPO_ID [LOCAL_PATH] [PATH_IN_REPO]`: a thin shell over uploadFolder / uploadFile.
// A terminal gets a progress bar on stderr; stdout gets one summary line (or JSON with --json).
import fs from "node:fs";
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { HubApi } from "../../hub/api.js";
import type { UploadEvent, UploadResult } from "../../upload/types.js";
import { t } from "../messages.js";
import { action, interruptSignal, lang, writeJson } from "../run.js";
import { parseRepoType } from "./create.js";
import { noOptimisingCompiler, parseWorkers, youngGenerationCollector } from "./download.js";

interface UploadFlags {
  repoType?: string;
  repo_type?: string;
  revision?: string;
  commitMessage?: string;
  commitDescription?: string;
  include?: string[];
  exclude?: string[];
  maxWorkers?: string;
  createRepo?: boolean;
  dryRun?: boolean;
  json?: boolean;
  cache?: boolean;
  disableTqdm?: boolean;
  endpoint?: string;
  token?: string;
}

/** With no local path: a file or folder named like the repo, else the current folder (the official rule). */
function defaultLocalPath(repoId: string): string {
  const name = repoId.split("/").pop() ?? "";
  return name && fs.existsSync(name) ? name : ".";
}

export function registerUploadCommand(program: Command): void {
  let endpointForErrors: string | undefined;
  program
    .command("upload <repo_id> [local_path] [path_in_repo]")
    .description("upload a folder or a file to a repository in one commit; only what the hub lacks is sent")
    .option("--repo-type <type>", "model or dataset (default: model)")
    .option("--repo_type <type>", "same as --repo-type")
    .option("--revision <branch>", "branch to commit to (default: master)")
    .option("--commit-message <text>", "commit message")
    .option("--commit-description <text>", "commit description")
    .option("--include <glob...>", "only files matching these globs (relative to the folder; `*` crosses `/`)")
    .option("--exclude <glob...>", "skip files matching these globs")
    .option("--max-workers <n>", "blobs sent at once (default 4)")
    .option("--create-repo", "create the repository (private) if it does not exist")
    .option("--dry-run", "hash and compare with the hub; send and commit nothing")
    .option("--json", "print a JSON summary")
    .option("--no-cache", "hash every file again (ignore the saved hashes)")
    .option("--disable-tqdm", "no progress bar")
    .option("--endpoint <url>", "hub URL (default: MODELSCOPE_ENDPOINT or https://modelscope.cn)")
    .option("--token <token>", "use this token instead of the saved one (prefer MODELSCOPE_API_TOKEN)")
    .action(
      action(
        async (repoId: string, localPath: string | undefined, pathInRepo: string | undefined, flags: UploadFlags) => {
          noOptimisingCompiler();
          const repoType = parseRepoType(flags.repoType ?? flags.repo_type);
          const maxWorkers = parseWorkers(flags.maxWorkers);
          const api = new HubApi({ endpoint: flags.endpoint, token: flags.token });
          endpointForErrors = api.endpoint;
          const local = localPath ?? defaultLocalPath(repoId);
          const st = fs.statSync(local, { throwIfNoEntry: false });
          if (!st) throw new UsageError(`${local} does not exist`, "give an existing file or folder", { key: "noSuchLocalPath", vars: { path: local } });
          if (flags.cache === false) {
            const { stateFilePath } = await import("../../upload/state.js");
            fs.rmSync(stateFilePath(api.home, { endpoint: api.endpoint, repoType, repoId, revision: flags.revision ?? "master" }).file, { force: true });
          }
          const { uploadFolder, uploadFile } = await import("../../upload/index.js");
          const { createProgress, humanBytes } = await import("../progress.js");
          const progress = await createProgress(!!process.stderr.isTTY && !flags.json && !flags.dryRun && !flags.disableTqdm);
          // A small file goes out as one fresh buffer (held until written; big files use reused ones): collect often.
          const collect = youngGenerationCollector();
          const onProgress = (e: UploadEvent) => {
            if (e.type === "bytes" && e.bytes > 0) collect(e.bytes);
            // The download bar, fed with upload events: "cached" files are the ones the hub already has.
            if (e.type === "plan") progress.onEvent({ type: "plan", modelId: repoId, revision: flags.revision ?? "master", files: e.files.map((f) => ({ path: f.path, size: f.size, cached: !f.send })) });
            else if (e.type === "bytes") progress.onEvent({ type: "bytes", path: e.path, bytes: e.bytes });
            else if (e.type === "file-done" && e.status === "uploaded") progress.onEvent({ type: "file-done", path: e.path, status: "downloaded" });
          };
          const opts = {
            api,
            repoType,
            revision: flags.revision,
            commitMessage: flags.commitMessage,
            commitDescription: flags.commitDescription,
            maxWorkers,
            createRepo: flags.createRepo,
            dryRun: flags.dryRun,
            signal: interruptSignal(),
            onProgress,
          };
          let res: UploadResult;
          try {
            res = st.isDirectory()
              ? await uploadFolder(repoId, local, { ...opts, pathInRepo, include: flags.include, exclude: flags.exclude })
              : await uploadFile(repoId, local, { ...opts, pathInRepo });
          } finally {
            progress.stop();
          }
          const count = (s: string) => res.files.filter((f) => f.status === s).length;
          if (flags.json) return writeJson({ ...res, files: res.files.map(({ localPath: _l, ...f }) => f) });
          if (res.createdRepo) process.stderr.write(`${t(lang, "upCreatedRepo", { id: repoId })}\n`);
          const base = { id: repoId, revision: res.revision, files: String(res.files.length), same: String(count("unchanged")) };
          if (res.dryRun) {
            for (const f of res.files) process.stdout.write(`${f.status === "unchanged" ? "same  " : "upload"} ${humanBytes(f.size).padStart(10)}  ${f.path}\n`);
            const todo = res.files.filter((f) => f.status !== "unchanged");
            process.stderr.write(`${t(lang, "upWould", { ...base, count: String(todo.length), size: humanBytes(todo.reduce((a, f) => a + f.size, 0)) })}\n`);
            return;
          }
          if (!res.committed) return void process.stdout.write(`${t(lang, "upNothing", base)}\n`);
          process.stdout.write(`${t(lang, "upCommitted", { ...base, sent: String(count("uploaded")), bytes: humanBytes(res.bytesSent), commit: res.commitId })}\n`);
        },
        () => ({ endpoint: endpointForErrors }),
      ),
    );
}
