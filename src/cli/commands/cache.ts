// `modelscope cache ls | rm | verify | prune`: what is cached and how big, remove a model or revision,
// re-check hashes against the hub, clean leftovers of interrupted downloads.
import path from "node:path";
import { Option, type Command } from "commander";
import { IntegrityError, UsageError } from "../../errors.js";
import { HubApi } from "../../hub/api.js";
import { REPO_TYPES, type RepoType } from "../../hub/types.js";
import { cacheRoot } from "../../settings.js";
import { t } from "../messages.js";
import { action, interruptSignal, lang, writeJson } from "../run.js";
import { warnIfTokenForOtherHub } from "./auth.js";

async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** `--repo-type` of cache rm / verify (default model). */
function repoTypeOf(flags: { repoType?: string; repo_type?: string }): RepoType {
  const v = flags.repoType ?? flags.repo_type ?? "model";
  if (!REPO_TYPES.includes(v as RepoType)) throw new UsageError(`Invalid --repo-type '${v}'`, "use model or dataset", { key: "badRepoType", vars: { value: v } });
  return v as RepoType;
}

export function registerCacheCommand(program: Command): void {
  const cache = program.command("cache").description("see and manage the local model and dataset cache");

  cache
    .command("ls")
    .description("list cached models and datasets, their revisions and sizes")
    .option("--cache-dir <dir>", "cache folder (default: MODELSCOPE_CACHE or ~/.cache/modelscope)")
    .option("--json", "machine-readable output")
    .action(
      action(async (flags: { cacheDir?: string; json?: boolean }) => {
        const { scanCache } = await import("../../download/cache-manage.js");
        const { humanBytes } = await import("../progress.js");
        const root = cacheRoot(flags.cacheDir);
        const models = scanCache(root);
        const total = models.reduce((a, m) => a + m.bytes, 0);
        if (flags.json) return writeJson({ cacheDir: root, bytes: total, models });
        process.stdout.write(`cache_dir: ${root}\ntotal    : ${humanBytes(total)} across ${models.length} repo(s)\n`);
        for (const m of models) {
          for (const r of m.revisions) {
            const id = m.repoType === "dataset" ? `${m.modelId} (dataset)` : m.modelId;
            process.stdout.write(`${id.padEnd(40)} ${r.revision.padEnd(16)} ${humanBytes(r.bytes).padStart(10)} ${String(r.files).padStart(6)} file(s)  ${r.path}\n`);
          }
        }
      }),
    );

  cache
    .command("rm <repo_id>")
    .description("remove a model or dataset (or one --revision of it) from the cache")
    .option("--repo-type <type>", "model or dataset (default: model)")
    .addOption(new Option("--repo_type <type>").hideHelp())
    .option("--revision <rev>", "only this revision")
    .option("--cache-dir <dir>", "cache folder")
    .option("-y, --yes", "do not ask")
    .option("--json", "machine-readable output")
    .action(
      action(async (modelId: string, flags: { revision?: string; cacheDir?: string; yes?: boolean; json?: boolean; repoType?: string; repo_type?: string }) => {
        const repoType = repoTypeOf(flags);
        const { removeFromCache } = await import("../../download/cache-manage.js");
        const { humanBytes } = await import("../progress.js");
        const scope = flags.revision ? t(lang, "cacheRevisionScope", { id: modelId, revision: flags.revision }) : modelId;
        if (!flags.yes) {
          if (!process.stdin.isTTY) throw new UsageError(`Refusing to remove ${scope} without confirmation`, "pass -y to remove without asking", { key: "rmNeedsYes", vars: { scope } });
          if (!(await confirm(t(lang, "cacheRemoveConfirm", { scope })))) {
            process.stderr.write(`${t(lang, "cacheAborted")}\n`);
            return 0;
          }
        }
        const res = await removeFromCache(cacheRoot(flags.cacheDir), modelId, flags.revision, repoType);
        if (flags.json) return writeJson(res);
        if (res.removed.length === 0) process.stderr.write(`${t(lang, "cacheNotInCache", { scope })}\n`);
        else process.stdout.write(`${t(lang, "cacheFreed", { size: humanBytes(res.bytes) })}\n`);
      }),
    );

  cache
    .command("verify <repo_id>")
    .description("re-hash cached files against the hub's sha256 (exit 1 on any mismatch)")
    .option("--repo-type <type>", "model or dataset (default: model)")
    .addOption(new Option("--repo_type <type>").hideHelp())
    .option("--revision <rev>", "branch, tag or commit (default: master)")
    .option("--cache-dir <dir>", "cache folder")
    .option("--local-dir <dir>", "verify this folder instead of the cache")
    .option("--fail-on-missing-files", "also exit 1 when files of the listing are not there")
    .option("--json", "machine-readable output")
    .option("--endpoint <url>", "hub URL")
    .option("--token <token>", "use this token instead of the saved one")
    .action(
      action(async (modelId: string, flags: { revision?: string; cacheDir?: string; localDir?: string; failOnMissingFiles?: boolean; json?: boolean; endpoint?: string; token?: string; repoType?: string; repo_type?: string }) => {
        const repoType = repoTypeOf(flags);
        const { verifyCache } = await import("../../download/cache-manage.js");
        const api = new HubApi({ endpoint: flags.endpoint, token: flags.token });
        warnIfTokenForOtherHub(api);
        const report = await verifyCache(modelId, { revision: flags.revision, cacheDir: flags.cacheDir, localDir: flags.localDir, api, signal: interruptSignal(), repoType });
        if (flags.json) writeJson(report);
        else {
          for (const f of report.mismatched) process.stdout.write(`MISMATCH  ${f}\n`);
          for (const f of report.missing) process.stdout.write(`missing   ${f}\n`);
          for (const f of report.unverified) process.stdout.write(`no hash   ${f}\n`);
        }
        if (report.mismatched.length > 0) {
          if (!flags.json) throw new IntegrityError(report.mismatched.join(", "), "sha256 differs from the hub's listing", { modelId });
          return 1;
        }
        if (flags.failOnMissingFiles && report.missing.length > 0) return 1;
        const count = String(report.ok.length + report.unverified.length);
        if (!flags.json) process.stdout.write(`${t(lang, "cacheVerified", { count, id: modelId, path: path.resolve(report.path) })}\n`);
      }),
    );

  cache
    .command("prune")
    .description("remove leftovers of interrupted downloads: partial files, stale locks, orphan records")
    .option("--cache-dir <dir>", "cache folder")
    .option("--dry-run", "only list what would be removed")
    .option("--json", "machine-readable output")
    .action(
      action(async (flags: { cacheDir?: string; dryRun?: boolean; json?: boolean }) => {
        const { pruneCache } = await import("../../download/cache-manage.js");
        const { humanBytes } = await import("../progress.js");
        const report = await pruneCache(cacheRoot(flags.cacheDir), { dryRun: flags.dryRun });
        if (flags.json) return writeJson(report);
        for (const p of [...report.partials, ...report.staleLocks, ...report.orphanRecords]) process.stdout.write(`${flags.dryRun ? "would remove" : "removed"} ${p}\n`);
        const counts = { size: humanBytes(report.bytes), partials: String(report.partials.length), locks: String(report.staleLocks.length), orphans: String(report.orphanRecords.length) };
        process.stderr.write(`${t(lang, flags.dryRun ? "cacheWouldPrune" : "cachePruned", counts)}\n`);
      }),
    );
}
