// `modelscope create REPO_ID` (also `modelscope repo create`): a thin shell over createRepo.
// Private unless --visibility says otherwise. stdout: the repo's URL.
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { HubApi } from "../../hub/api.js";
import type { RepoType, Visibility } from "../../hub/repo-api.js";
import { t } from "../messages.js";
import { action, interruptSignal, lang, writeJson } from "../run.js";

interface CreateFlags {
  repoType?: string;
  visibility?: string;
  license?: string;
  chineseName?: string;
  description?: string;
  existOk?: boolean;
  json?: boolean;
  endpoint?: string;
  token?: string;
}

export function parseRepoType(v: string | undefined): RepoType {
  if (v === undefined || v === "model" || v === "dataset") return v ?? "model";
  throw new UsageError(`Invalid --repo-type '${v}'`, "use model or dataset", { key: "badRepoType", vars: { value: v } });
}

function parseVisibility(v: string | undefined): Visibility {
  const map: Record<string, Visibility> = { private: "private", internal: "internal", public: "public", "1": "private", "3": "internal", "5": "public" };
  if (v === undefined) return "private";
  const out = map[v.toLowerCase()];
  if (!out) throw new UsageError(`Invalid --visibility '${v}'`, "use private, internal or public", { key: "badVisibility", vars: { value: v } });
  return out;
}

function defineCreate(cmd: Command): void {
  let endpointForErrors: string | undefined;
  cmd
    .description("create a model or dataset repository on the hub (private unless --visibility public)")
    .option("--repo-type <type>", "model or dataset (default: model)")
    .option("--repo_type <type>", "same as --repo-type")
    .option("--visibility <v>", "private (default), internal or public")
    .option("--license <license>", "license id (default: apache-2.0)")
    .option("--chinese-name <name>", "display name in Chinese")
    .option("--description <text>", "short description")
    .option("--exist-ok", "an existing repository is not an error")
    .option("--json", "print a JSON summary")
    .option("--endpoint <url>", "hub URL (default: MODELSCOPE_ENDPOINT or https://modelscope.cn)")
    .option("--token <token>", "use this token instead of the saved one (prefer MODELSCOPE_API_TOKEN)")
    .action(
      action(
        async (repoId: string, flags: CreateFlags & { repo_type?: string }) => {
          const repoType = parseRepoType(flags.repoType ?? flags.repo_type);
          const visibility = parseVisibility(flags.visibility);
          const api = new HubApi({ endpoint: flags.endpoint, token: flags.token });
          endpointForErrors = api.endpoint;
          const { createRepo } = await import("../../upload/index.js");
          const res = await createRepo(repoId, {
            api,
            repoType,
            visibility,
            license: flags.license,
            chineseName: flags.chineseName,
            description: flags.description,
            existOk: flags.existOk,
            signal: interruptSignal(),
          });
          if (flags.json) return writeJson({ ...res, visibility: res.created ? visibility : undefined });
          const vis = lang === "zh" ? { private: "私有", internal: "内部", public: "公开" }[visibility] : visibility;
          process.stderr.write(`${t(lang, res.created ? "repoCreated" : "repoExisted", { id: res.repoId, url: res.url, visibility: vis })}\n`);
          process.stdout.write(`${res.url}\n`);
        },
        () => ({ endpoint: endpointForErrors }),
      ),
    );
}

export function registerCreateCommand(program: Command): void {
  defineCreate(program.command("create <repo_id>"));
  const repo = program.command("repo").description("repository commands (create)");
  defineCreate(repo.command("create <repo_id>"));
}
