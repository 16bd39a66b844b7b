// The schema of the keys we read in `model:` / `pipeline:`. Every other key (and every other section) is
// kept untouched for the Python side. Type problems become ConfigProblems at the key's file and line.
import { z } from "zod";
import type { ConfigProblem } from "../errors.js";
import type { LoadedConfig } from "./types.js";

const text = (what: string) => z.string({ error: `${what} must be text (put it in quotes if YAML reads it as a number or boolean)` });

export const sectionSchema = z.looseObject({
  name: text("name").optional(),
  path: text("path").nullable().optional(),
  use_modelscope: z.boolean({ error: "use_modelscope must be true or false" }).nullable().optional(),
  modelscope_cache_dir: text("modelscope_cache_dir").nullable().optional(),
  revision: text("revision").min(1, { error: "revision must not be empty" }).optional(),
});

export const configSchema = z.looseObject({
  model: z.union([sectionSchema, z.null()], { error: "model must be a mapping of keys (name, path, ...)" }).optional(),
  pipeline: z.union([sectionSchema, z.null()], { error: "pipeline must be a mapping of keys (name, path, ...)" }).optional(),
});

/** Checks the types of the keys we read; every problem, with where it is. */
export function schemaProblems(config: Pick<LoadedConfig, "data" | "locate">): ConfigProblem[] {
  const result = configSchema.safeParse(config.data);
  if (result.success) return [];
  const problems: ConfigProblem[] = [];
  for (const issue of result.error.issues) {
    // A union failure on a section whose members failed deeper: report the deeper issues.
    const issues = issue.code === "invalid_union" && issue.errors.length > 0 ? pickUnionIssues(issue) : [issue];
    for (const i of issues) {
      const keyPath = i.path.map((p) => (typeof p === "symbol" ? String(p) : p));
      const where = config.locate(keyPath);
      problems.push({ file: where?.file ?? "(config)", line: where?.line, column: where?.column, key: keyPath.join("."), message: i.message });
    }
  }
  return problems;
}

type Issue = z.core.$ZodIssue;

function pickUnionIssues(issue: Extract<Issue, { code: "invalid_union" }>): Issue[] {
  // errors[0] are the mapping member's issues; if the value was a mapping they point at its keys.
  const deep = (issue.errors[0] ?? []).filter((e) => e.path.length > 0).map((e) => ({ ...e, path: [...issue.path, ...e.path] }));
  return deep.length > 0 ? (deep as Issue[]) : [issue];
}
