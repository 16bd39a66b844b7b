// resolveModels: each `model:` / `pipeline:` section to a local folder. ModelScope sources go through the
// download engine (and so through the token chain: public models need no sign-in, private ones use it).
import { snapshotDownload } from "../download/index.js";
import { HubApi } from "../hub/api.js";
import { ConfigError } from "../errors.js";
import { classifyAll } from "./classify.js";
import type { LoadedConfig, ResolveOptions, ResolvedSection } from "./types.js";
import { SECTION_NAMES } from "./types.js";

/** Resolves every section the config names. Throws the download engine's typed errors unchanged. */
export async function resolveModels(config: LoadedConfig, options: ResolveOptions = {}): Promise<ResolvedSection[]> {
  const env = options.env ?? process.env;
  const { resolved, problems } = classifyAll(config, options.sections ?? SECTION_NAMES, env);
  if (problems.length > 0) throw new ConfigError(problems);
  const api = options.api ?? new HubApi({ env });
  const out: ResolvedSection[] = [];
  for (const r of resolved) {
    if (r.kind !== "modelscope" || !r.modelId) {
      out.push(r);
      continue;
    }
    options.onResolve?.(r);
    const section = r.section;
    const snap = await snapshotDownload(r.modelId, {
      revision: r.revision,
      cacheDir: r.cacheDir,
      offline: options.offline,
      dryRun: options.dryRun,
      signal: options.signal,
      api,
      onProgress: options.onProgress ? (e) => options.onProgress!(section, e) : undefined,
    });
    out.push({ ...r, revision: snap.revision, localPath: snap.path, files: snap.files.map((f) => ({ path: f.path, size: f.size, status: f.status })) });
  }
  return out;
}
