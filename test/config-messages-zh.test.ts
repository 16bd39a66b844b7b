// Config problems are errors users see: under a zh locale every one of them reads in Chinese.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { configProblemZh } from "../src/cli/messages.js";
import { loadConfig } from "../src/config/index.js";
import { ConfigError } from "../src/errors.js";
import { cleanEnv, deepcompressor, tempDir } from "./helpers/hub.js";

/** Configs that between them produce every kind of problem the loader reports. */
const BROKEN: Record<string, string> = {
  "types.yaml": "model:\n  name: x\n  path: 5\n  use_modelscope: maybe\n  revision: ''\npipeline: [1]\n",
  "secret.yaml": "model:\n  path: qwen/Qwen-7B-Chat\n  token: abc\n  extra: ms-12345678-1234-1234-1234-123456789012\n  list: [ms-12345678-1234-1234-1234-123456789012]\n",
  "local-under-ms.yaml": "model:\n  path: /abs/folder\n  use_modelscope: true\n",
  "no-path.yaml": "model:\n  name: qwen/Qwen-7B-Chat\n  use_modelscope: true\n",
  "no-path-no-id.yaml": "pipeline:\n  name: flux\n  use_modelscope: true\n",
  "not-an-id.yaml": "model:\n  path: a/b/c\n  use_modelscope: true\n",
  "missing-local.yaml": "model:\n  path: ./nowhere\n",
  "neither.yaml": "model:\n  path: nope\n",
  "syntax.yaml": "model:\n  path: [unclosed\n",
  "scalar-top.yaml": "just a string\n",
  "config.toml": "x = 1\n",
  "list.txt": "missing.yaml\nlist.txt\n",
  "list2.txt": "# c\n\nconfigs/x.yaml\nnot-a-config.txt\n",
  "empty.yaml": "# nothing\n",
  "null-model.yaml": "model:\n",
  "tags.yaml": "a: !!python/none x\nb: =\nc: 0b_\nd: *nope\ne:\n  <<: 1\n",
  "key.yaml": "? [1]\n: 2\n",
  "bomb.yaml": "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
  "hidden.yaml": "# ms-12345678-1234-1234-1234-123456789012\n? ms-12345678-1234-1234-1234-123456789012\n: 1\n",
  "name.yaml": "model:\n  name: my-private-model\n  use_modelscope: false\n",
  "syntax.toml": "x = \n",
  "UPPER.YAML": "x: 1\n",
};

function problemsOf(dir: string, file: string): string[] {
  try {
    loadConfig([path.join(dir, file)], [], { cwd: dir });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.message);
    throw err;
  }
  return [];
}

test("every config problem the loader reports has a Chinese rendering", () => {
  const dir = tempDir("dc-zh-");
  for (const [name, text] of Object.entries(BROKEN)) fs.writeFileSync(path.join(dir, name), text);
  const messages = [...Object.keys(BROKEN).flatMap((f) => problemsOf(dir, f)), ...problemsOf(dir, "does-not-exist.yaml")];
  assert.ok(messages.length >= Object.keys(BROKEN).length, `expected problems, got ${messages.length}`);
  const untranslated = messages.filter((m) => configProblemZh(m) === m);
  assert.deepEqual(untranslated, [], "problems with no Chinese rendering in src/cli/messages.ts CONFIG_PROBLEMS_ZH");
});

test("`deepcompressor config validate` under LANG=zh_CN reports every problem in Chinese, with file:line:key", async () => {
  const dir = tempDir("dc-zh-cli-");
  fs.writeFileSync(path.join(dir, "bad.yaml"), BROKEN["types.yaml"]!);
  const res = await deepcompressor(["config", "validate", "bad.yaml"], { cwd: dir, env: cleanEnv(tempDir(), { LANG: "zh_CN.UTF-8" }) });
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /错误：bad\.yaml:3:3: model\.path: path 必须是文本/);
  assert.match(res.stderr, /错误：bad\.yaml:4:3: model\.use_modelscope: use_modelscope 必须是 true 或 false/);
  assert.match(res.stderr, /错误：bad\.yaml:6:1: pipeline: pipeline 必须是键值映射/);
  assert.match(res.stderr, /解决：/);
  assert.doesNotMatch(res.stderr, /must be|Error:/);
});
