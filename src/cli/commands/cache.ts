// `modelscope cache ls | rm | verify | prune`: what is cached and how big, remove a model or revision,
// re-check hashes against the hub, clean leftovers of interrupted downloads.
import path from "node:path";
import { Option, type Command } from "commander";
import { CorruptCacheError, UsageError } from "../../errors.js";
import { HubApi } from "../../hub/api.js";
import type { RepoType } from "../../hub/types.js";
import { cacheRoot } from "../../settings.js";
import { forTerminal } from "../../util/terminal-text.js";
import { t } from "../messages.js";
import { isTempName } from "../../download/layout.js";
import { walkFiles } from "../../util/walk.js";
import { action, interruptSignal, lang, note, writeJson } from "../run.js";
import { warnIfTokenForOtherHub } from "./auth.js";
import { parseRepoType } from "./create.js";

/** Partial files of interrupted downloads in a revision folder (0: none). */
function partialFiles(dir: string): number {
  return walkFiles(dir).filter((f) => isTempName(path.basename(f.absPath))).length;
}

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
  return parseRepoType(flags.repoType ?? flags.repo_type);
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
        // A revision holding partial files is an interrupted download: say so, or it looks complete.
        const models = scanCache(root).map((m) => ({ ...m, revisions: m.revisions.map((r) => ({ ...r, incomplete: partialFiles(r.path) })) }));
        const total = models.reduce((a, m) => a + m.bytes, 0);
        if (flags.json) return writeJson({ cacheDir: root, bytes: total, models });
        process.stdout.write(`cache_dir: ${root}\ntotal    : ${humanBytes(total)} across ${models.length} repo(s)\n`);
        for (const m of models) {
          for (const r of m.revisions) {
            const id = m.repoType === "dataset" ? `${m.modelId} (dataset)` : m.modelId;
            const mark = r.incomplete ? `  ${t(lang, "cacheIncomplete", { count: String(r.incomplete) })}` : "";
            process.stdout.write(`${forTerminal(id).padEnd(40)} ${forTerminal(r.revision).padEnd(16)} ${humanBytes(r.bytes).padStart(10)} ${String(r.files).padStart(6)} file(s)  ${forTerminal(r.path)}${mark}\n`);
          }
        }
        if (models.some((m) => m.revisions.some((r) => r.incomplete))) note(t(lang, "cacheIncompleteFix"));
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
        const { removeFromCache, scanCache } = await import("../../download/cache-manage.js");
        const { humanBytes } = await import("../progress.js");
        const root = cacheRoot(flags.cacheDir);
        const named = flags.revision ? t(lang, "cacheRevisionScope", { id: modelId, revision: flags.revision }) : modelId;
        // What it frees, said before asking, so the answer is an informed one.
        const size = scanCache(root)
          .filter((m) => m.modelId === modelId && m.repoType === repoType)
          .flatMap((m): { bytes: number }[] => (flags.revision ? m.revisions.filter((r) => r.revision === flags.revision) : [m]))
          .reduce((a, x) => a + x.bytes, 0);
        const scope = size > 0 ? `${named} (${humanBytes(size)})` : named;
        if (!flags.yes) {
          if (!process.stdin.isTTY) throw new UsageError(`Refusing to remove ${scope} without confirmation`, "pass -y to remove without asking", { key: "rmNeedsYes", vars: { scope } });
          if (!(await confirm(t(lang, "cacheRemoveConfirm", { scope })))) {
            process.stderr.write(`${t(lang, "cacheAborted")}\n`);
            return 0;
          }
        }
        const res = await removeFromCache(root, modelId, flags.revision, repoType);
        if (flags.json) return writeJson(res);
        if (res.removed.length === 0) note(t(lang, "cacheNotInCache", { scope }));
        else process.stdout.write(`${t(lang, "cacheFreed", { scope: named, size: humanBytes(res.bytes) })}\n`);
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
    .option("--repair", "download the files that do not match again")
    .option("--json", "machine-readable output")
    .option("--endpoint <url>", "hub URL")
    .option("--token <token>", "use this token instead of the saved one")
    .action(
      action(async (modelId: string, flags: { revision?: string; cacheDir?: string; localDir?: string; failOnMissingFiles?: boolean; repair?: boolean; json?: boolean; endpoint?: string; token?: string; repoType?: string; repo_type?: string }) => {
        const repoType = repoTypeOf(flags);
        const { verifyCache } = await import("../../download/cache-manage.js");
        const api = new HubApi({ endpoint: flags.endpoint, token: flags.token });
        warnIfTokenForOtherHub(api);
        const signal = interruptSignal();
        const report = await verifyCache(modelId, { revision: flags.revision, cacheDir: flags.cacheDir, localDir: flags.localDir, api, signal, repoType });
        let repaired: string[] = [];
        if (flags.repair && report.mismatched.length > 0) {
          // Fetched again like `download --force` of just those files: verified before they replace the bad ones.
          const { downloadFiles } = await import("../../download/index.js");
          const res = await downloadFiles(modelId, report.mismatched, { api, revision: flags.revision, cacheDir: flags.cacheDir, localDir: flags.localDir, force: true, signal, repoType });
          repaired = res.files.map((f) => f.path);
        }
        const bad = report.mismatched.filter((f) => !repaired.includes(f));
        if (flags.json) writeJson(flags.repair ? { ...report, repaired } : report);
        else {
          for (const f of report.mismatched) process.stdout.write(`${repaired.includes(f) ? "REPAIRED" : "MISMATCH"}  ${forTerminal(f)}\n`);
          for (const f of report.missing) process.stdout.write(`missing   ${forTerminal(f)}\n`);
          for (const f of report.unverified) process.stdout.write(`no hash   ${forTerminal(f)}\n`);
        }
        if (bad.length > 0) {
          const where = flags.localDir ? ` --local-dir ${flags.localDir}` : flags.cacheDir ? ` --cache-dir ${flags.cacheDir}` : "";
          if (!flags.json) throw new CorruptCacheError(bad.map((path) => ({ path, problem: report.problems[path] ?? "differs from the hub's" })), { modelId, revision: report.revision }, where);
          return 1;
        }
        if (repaired.length > 0 && !flags.json) process.stderr.write(`${t(lang, "cacheRepaired", { count: String(repaired.length), id: modelId })}\n`);
        if (flags.failOnMissingFiles && report.missing.length > 0) return 1;
        const count = String(report.ok.length + report.unverified.length + repaired.length);
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
        for (const p of [...report.partials, ...report.staleLocks, ...report.orphanRecords]) process.stdout.write(`${flags.dryRun ? "would remove" : "removed"} ${forTerminal(p)}\n`);
        const counts = { size: humanBytes(report.bytes), partials: String(report.partials.length), locks: String(report.staleLocks.length), orphans: String(report.orphanRecords.length) };
        note(t(lang, flags.dryRun ? "cacheWouldPrune" : "cachePruned", counts));
      }),
    );
}
