// What the Python DeepCompressor would do with a merged config that we can tell without Python: keys it
// does not know (it warns "Unused configurations" and goes on with its defaults), and an LLM name it
// cannot read a size and family from ("Cannot infer size"), which stops it.
import type { ConfigProblem } from "../errors.js";
import { FIELDS, didYouMean } from "./fields.js";
import type { LoadedConfig, SectionName } from "./types.js";
import { SECTION_NAMES } from "./types.js";

type Where = Pick<LoadedConfig, "data" | "locate">;

function problem(config: Where, keyPath: string[], message: string): ConfigProblem {
  const w = config.locate(keyPath);
  return { file: w?.file ?? "(config)", line: w?.line, column: w?.column, key: keyPath.join("."), message };
}

/** DeepCompressor's LlmModelConfig: `<family>-<size>[-<variant>]`, the size like 7b, 500m or 8x7b. */
export function llmNameParts(name: string): { family: string; size: string } | undefined {
  const parts = name.split("-");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!.toLowerCase();
    if (part === "") return undefined; // Python stops on part[-1] of an empty part
    if (part.endsWith("m") || part.endsWith("b")) {
      const digits = part.slice(0, -1).replace("x", "");
      if (/^[0-9]+$/.test(digits)) {
        const family = parts.slice(0, i).join("-");
        return family ? { family, size: part } : undefined;
      }
    }
  }
  return undefined;
}

/** Unknown keys in model:/pipeline: (warnings), and the model name check (an error; missing: a warning). */
export function pythonSideProblems(config: Where): { errors: ConfigProblem[]; warnings: ConfigProblem[] } {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  for (const section of SECTION_NAMES) {
    const data = config.data[section];
    if (!data || typeof data !== "object" || Array.isArray(data)) continue;
    const known = FIELDS[section as SectionName];
    const check = (obj: Record<string, unknown>, prefix: string[]) => {
      for (const key of Object.keys(obj)) {
        const dotted = [...prefix, key].join(".");
        if (known[dotted] === "section" && obj[key] && typeof obj[key] === "object") {
          check(obj[key] as Record<string, unknown>, [...prefix, key]);
          continue;
        }
        if (known[dotted]) continue;
        const siblings = Object.keys(known).filter((k) => k.split(".").length === prefix.length + 1 && k.startsWith(prefix.map((p) => `${p}.`).join(""))).map((k) => k.split(".").pop()!);
        const near = didYouMean(key, siblings);
        warnings.push(problem(config, [section, ...prefix, key], `is not a key of the Python DeepCompressor's ${section} config, which ignores it and uses its default${near ? `: did you mean '${near}'?` : ""}`));
      }
    };
    check(data as Record<string, unknown>, []);
  }
  const model = config.data.model as Record<string, unknown> | undefined;
  if (model && typeof model === "object") {
    if (model.name === undefined) warnings.push(problem(config, ["model"], "has no name, which the Python DeepCompressor needs (for example name: qwen-7b-chat)"));
    else if (typeof model.name === "string" && !llmNameParts(model.name)) {
      errors.push(problem(config, ["model", "name"], `'${model.name}' has no model size, which the Python DeepCompressor needs ("Cannot infer size"): name it <family>-<size>[-<variant>], for example my-model-7b or qwen-7b-chat`));
    }
  }
  return { errors, warnings };
}
