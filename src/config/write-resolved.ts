// The merged config with each resolved `path` replaced by its local folder, comments, key order and every
// other value's original text kept, ready for the Python DeepCompressor to run with no network.
import fs from "node:fs";
import path from "node:path";
import { Pair, Scalar, isMap, isScalar, type YAMLMap } from "yaml";
import { ConfigSecretError } from "../errors.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { cascadeFolders, findDefault, isConfigName, placementProblem } from "./cascade.js";
import { pairAt } from "./merge.js";
import { containsToken } from "./secrets.js";
import type { LoadedConfig, ResolvedSection } from "./types.js";
import { setScalar } from "./yaml11.js";

/** The resolved config as YAML text. The loaded document is not changed. */
export function renderResolved(config: LoadedConfig, resolved: readonly ResolvedSection[]): string {
  const doc = config.document.clone();
  const notes: string[] = [];
  for (const r of resolved) {
    if (!r.localPath || (r.kind !== "modelscope" && r.kind !== "local")) continue;
    const sectionPair = pairAt(doc, [r.section]);
    if (!sectionPair || !isMap(sectionPair.value)) continue;
    const section = sectionPair.value as YAMLMap;
    const pathPair = pairAt(doc, [r.section, "path"]);
    if (pathPair) {
      const old = pathPair.value;
      if (isScalar(old)) {
        setScalar(old, r.localPath);
        old.type = "QUOTE_DOUBLE";
      } else pathPair.value = new Scalar(r.localPath);
    } else {
      section.items.push(new Pair(new Scalar("path"), new Scalar(r.localPath)));
    }
    const usePair = pairAt(doc, [r.section, "use_modelscope"]);
    if (usePair && isScalar(usePair.value) && usePair.value.value === true) setScalar(usePair.value, false);
    notes.push(r.kind === "modelscope" ? ` ${r.section}.path: ${r.modelId}@${r.revision ?? "master"} -> ${r.localPath}` : ` ${r.section}.path: ${String(r.originalPath)} -> ${r.localPath}`);
  }
  const header = [" Resolved by `deepcompressor fetch` from:", ...[...config.defaultFiles, ...config.configFiles].map((f) => `   ${f}`), ...notes].join("\n");
  doc.commentBefore = doc.commentBefore ? `${header}\n\n${doc.commentBefore}` : header;
  // No %YAML directive: the Python side reads it with safe_load either way.
  return doc.toString({ directives: false, lineWidth: 0 });
}

/** Why the Python tool would not read the written file as this config: each a message key and its values. */
export function outputPlacementWarnings(config: Pick<LoadedConfig, "cwd" | "defaultFiles">, outFile: string): { key: "dcOutName" | "dcOutPlace" | "dcOutDefaults"; vars: Record<string, string> }[] {
  const abs = path.resolve(config.cwd, outFile);
  const shown = path.relative(config.cwd, abs) || abs;
  const out: { key: "dcOutName" | "dcOutPlace" | "dcOutDefaults"; vars: Record<string, string> }[] = [];
  if (!isConfigName(path.basename(abs))) out.push({ key: "dcOutName", vars: { file: shown } });
  if (placementProblem(abs, config.cwd)) out.push({ key: "dcOutPlace", vars: { file: shown, suggestion: path.join("resolved", path.basename(abs)) } });
  else {
    const extra = cascadeFolders(abs, config.cwd)
      .map(findDefault)
      .filter((d): d is string => !!d && !config.defaultFiles.includes(d));
    if (extra.length > 0) out.push({ key: "dcOutDefaults", vars: { file: shown, defaults: extra.map((d) => path.relative(config.cwd, d)).join(", "), suggestion: path.join("resolved", path.basename(abs)) } });
  }
  return out;
}

export async function writeResolved(config: LoadedConfig, resolved: readonly ResolvedSection[], outFile: string): Promise<string> {
  const abs = path.resolve(config.cwd, outFile);
  const text = renderResolved(config, resolved);
  // The loader refuses credentials; this makes sure none is ever written, whatever its way in.
  const lines = text.split("\n");
  const bad = lines.findIndex((l) => containsToken(l));
  if (bad >= 0) throw new ConfigSecretError([{ file: outFile, line: bad + 1, message: "the value looks like a token: credentials never belong in config files: remove it, then sign in with `modelscope login` or set MODELSCOPE_API_TOKEN" }]);
  await fs.promises.mkdir(path.dirname(abs), { recursive: true });
  await writeFileAtomic(abs, text);
  return abs;
}
