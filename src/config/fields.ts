// The keys the Python DeepCompressor (with the ModelScope fork's `use_modelscope` / `modelscope_cache_dir`)
// reads in `model:` (LlmModelConfig) and `pipeline:` (DiffusionPipelineConfig), with their types, which
// decide how omniconfig reads `--model-*` / `--pipeline-*` flags. `revision` is ours (consumed, never
// handed to Python). Unknown keys are warnings, unknown flags errors, both with a "did you mean".
import type { SectionName } from "./types.js";

/** str: kept as written; bool: omniconfig's optional true/false; float: Python float(); other: the Python side converts it. */
export type FieldType = "str" | "bool" | "float" | "other" | "section";

export const FIELDS: Record<SectionName, Record<string, FieldType>> = {
  model: {
    name: "str",
    family: "str",
    path: "str",
    root: "str",
    local_path: "str",
    local_root: "str",
    use_modelscope: "bool",
    modelscope_cache_dir: "str",
    dtype: "other",
    orig_dtype: "other",
    fast_tokenizer: "bool",
    revision: "str",
  },
  pipeline: {
    name: "str",
    path: "str",
    dtype: "other",
    device: "str",
    shift_activations: "bool",
    task: "str",
    enable_lora: "bool",
    lora: "section",
    "lora.path": "str",
    "lora.weight_name": "str",
    "lora.alpha": "float",
    use_modelscope: "bool",
    modelscope_cache_dir: "str",
    revision: "str",
  },
};

/** Keys of ours that the Python tool does not know (never handed on). */
export const OUR_ONLY_KEYS = new Set(["revision"]);

/** The flag omniconfig gives a key: `--model-fast-tokenizer`, `--pipeline-lora-weight-name`. */
export function flagOf(section: SectionName, key: string): string {
  return `--${section}-${key.replace(/\./g, "_").replace(/_/g, "-")}`;
}

/** Every flag of a section, keyed by flag. */
export function flagsOf(section: SectionName): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, type] of Object.entries(FIELDS[section])) if (type !== "section") out.set(flagOf(section, key), key);
  return out;
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest of `choices` to `word`, if it is a near miss (a typo, not another word). */
export function didYouMean(word: string, choices: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of choices) {
    const d = distance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 4)) ? best : undefined;
}
