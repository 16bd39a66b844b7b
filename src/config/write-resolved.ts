// The merged config with each resolved `path` replaced by its local folder, comments and key order kept,
// ready for the Python DeepCompressor to run with no network.
import fs from "node:fs";
import path from "node:path";
import { Pair, Scalar, isMap, isScalar, type YAMLMap } from "yaml";
import { writeFileAtomic } from "../util/atomic-write.js";
import { pairAt } from "./merge.js";
import type { LoadedConfig, ResolvedSection } from "./types.js";

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
        old.value = r.localPath;
        old.type = "QUOTE_DOUBLE";
      } else pathPair.value = new Scalar(r.localPath);
    } else {
      section.items.push(new Pair(new Scalar("path"), new Scalar(r.localPath)));
    }
    const usePair = pairAt(doc, [r.section, "use_modelscope"]);
    if (usePair && isScalar(usePair.value) && usePair.value.value === true) usePair.value.value = false;
    notes.push(r.kind === "modelscope" ? ` ${r.section}.path: ${r.modelId}@${r.revision ?? "master"} -> ${r.localPath}` : ` ${r.section}.path: ${String(r.originalPath)} -> ${r.localPath}`);
  }
  const header = [" Resolved by `deepcompressor fetch` from:", ...[...config.defaultFiles, ...config.configFiles].map((f) => `   ${f}`), ...notes].join("\n");
  doc.commentBefore = doc.commentBefore ? `${header}\n\n${doc.commentBefore}` : header;
  // No %YAML directive: the Python side reads it with safe_load either way.
  return doc.toString({ directives: false, lineWidth: 0 });
}

export async function writeResolved(config: LoadedConfig, resolved: readonly ResolvedSection[], outFile: string): Promise<string> {
  const abs = path.resolve(config.cwd, outFile);
  await fs.promises.mkdir(path.dirname(abs), { recursive: true });
  await writeFileAtomic(abs, renderResolved(config, resolved));
  return abs;
}
