// The config rules of issue 11 as a user meets them through `deepcompressor fetch` / `config validate`:
// override flags read as omniconfig reads them, what the Python tool would ignore (warnings, errors under
// --strict), names it cannot read, `fetch --output` keeping every value's text (checked with the real
// PyYAML) and warning where the Python tool would not read the file as intended.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { extractOverrides, loadConfig } from "../src/config/index.js";
import { cleanEnv, deepcompressor, tempDir } from "./helpers/hub.js";

function tree(files: Record<string, string>): string {
  const cwd = tempDir("dc-rules-");
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(cwd, rel)), { recursive: true });
    fs.writeFileSync(path.join(cwd, rel), text);
  }
  return cwd;
}

const env = () => cleanEnv(tempDir("dc-home-"), { MODELSCOPE_ENDPOINT: "http://127.0.0.1:9" });

/** PyYAML's reading of a file, as JSON (floats and ints kept apart by their repr). */
function pyyaml(file: string): unknown {
  const script = "import json,sys,yaml\nd=yaml.safe_load(open(sys.argv[1]))\ndef e(v):\n  if isinstance(v,bool) or v is None or isinstance(v,str): return v\n  if isinstance(v,(int,float)): return {type(v).__name__: repr(v)}\n  if isinstance(v,dict): return {str(k): e(x) for k,x in v.items()}\n  if isinstance(v,list): return [e(x) for x in v]\n  return repr(v)\nprint(json.dumps(e(d)))";
  const r = spawnSync("/usr/bin/python3", ["-c", script, file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe("override flags as omniconfig reads them", () => {
  test("strings stay as written (--model-family 007, --model-root null); a bare boolean is true", () => {
    const cwd = tree({ "configs/a.yaml": "model:\n  name: qwen-7b\n  use_modelscope: false\n" });
    const { overrides, rest } = extractOverrides(["configs/a.yaml", "--model-family", "007", "--model-root", "null", "--model-fast-tokenizer", "--pipeline-lora-alpha", "0.5"]);
    const c = loadConfig(rest, overrides, { cwd });
    assert.deepEqual(c.data.model, { name: "qwen-7b", use_modelscope: false, family: "007", root: "null", fast_tokenizer: true });
    assert.deepEqual(c.data.pipeline, { lora: { alpha: 0.5 } });
  });

  test("`fetch --model-path /local/dir` over use_modelscope: true takes the local folder (as the Python tool does)", async () => {
    const cwd = tree({ "configs/a.yaml": "model:\n  name: qwen-7b\n  use_modelscope: true\n  path: qwen/Qwen-7B-Chat\n", "weights/config.json": "{}" });
    const r = await deepcompressor(["fetch", "configs/a.yaml", "--model-path", path.join(cwd, "weights"), "--output", "resolved/out.yaml"], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), path.join(cwd, "weights"));
    const out = pyyaml(path.join(cwd, "resolved/out.yaml")) as { model: Record<string, unknown> };
    assert.equal(out.model.path, path.join(cwd, "weights"));
    assert.equal(out.model.use_modelscope, false);
  });

  test("use_modelscope: n is text to PyYAML (which the Python fork takes as true): refused, not read as false", async () => {
    const cwd = tree({ "configs/a.yaml": "model:\n  name: qwen-7b\n  use_modelscope: n\n  path: qwen/Qwen-7B-Chat\n" });
    const r = await deepcompressor(["config", "validate", "configs/a.yaml"], { cwd, env: env() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /configs.a\.yaml:3:3: model\.use_modelscope: use_modelscope must be true or false/);
  });
});

describe("what the Python tool would ignore or refuse", () => {
  test("unknown keys are warnings with a did-you-mean (exit 0), errors under --strict", async () => {
    const cwd = tree({ "configs/a.yaml": "model:\n  name: qwen-7b-chat\n  pathh: qwen/Qwen-7B-Chat\n  use_modelscpe: true\n  revision: master\npipeline:\n  name: flux.1-schnell\n  lora:\n    alpah: 1\n" });
    const r = await deepcompressor(["config", "validate", "configs/a.yaml"], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Warning: configs.a\.yaml:3:3: model\.pathh: is not a key of the Python DeepCompressor's model config, which ignores it and uses its default: did you mean 'path'\?/);
    assert.match(r.stderr, /Warning: configs.a\.yaml:4:3: model\.use_modelscpe: .*did you mean 'use_modelscope'\?/);
    assert.match(r.stderr, /Warning: configs.a\.yaml:9:5: pipeline\.lora\.alpah: .*did you mean 'alpha'\?/);
    assert.doesNotMatch(r.stderr, /revision/, "revision is ours");
    const strict = await deepcompressor(["config", "validate", "--strict", "configs/a.yaml"], { cwd, env: env() });
    assert.equal(strict.code, 2);
    assert.equal(strict.stderr.split("\n").filter((l) => l.startsWith("Error: configs")).length, 3);
  });

  test("an LLM name without a size is an error (\"Cannot infer size\" in Python); the shipped example passes", async () => {
    const cwd = tree({ "configs/a.yaml": "model:\n  name: my-private-model\n  use_modelscope: true\n  path: your-org/private-model-name\n" });
    const r = await deepcompressor(["config", "validate", "configs/a.yaml"], { cwd, env: env() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /configs.a\.yaml:2:3: model\.name: 'my-private-model' has no model size.*my-model-7b/);
    for (const good of ["my-private-7b", "qwen-7b-chat", "mixtral-8x7b", "opt-125m", "llama-3-8b-instruct"]) {
      const c = loadConfig(["configs/a.yaml"], [{ section: "model", key: "name", value: good, flag: "--model-name" }], { cwd });
      assert.deepEqual(c.warnings, [], good);
    }
    const example = await deepcompressor(["config", "validate", "examples/llm/private-model.yaml"], { cwd: path.resolve(import.meta.dirname, ".."), env: env() });
    assert.equal(example.code, 0, example.stderr);
  });
});

describe("fetch --output", () => {
  const TEXT = [
    "# a comment that stays",
    "model:",
    "  name: qwen-7b-chat",
    "  path: ./weights  # local",
    "train:",
    "  lr: 1.0e-5",
    "  big: 3.0e+10",
    "  eps: 1e3",
    "  t: 1:20",
    "  neg: -1:30",
    "  huge: 123456789012345678901234567890",
    "  octal: 010",
    "  hex: 0x1F",
    "  flag: y",
    "  on_off: off",
    "  when: 2001-12-14",
    "  nothing: ~",
    "  inf: -.inf",
    "",
  ].join("\n");

  test("every value but path and use_modelscope keeps its text, and PyYAML reads the same values", async () => {
    const cwd = tree({ "configs/a.yaml": TEXT, "weights/config.json": "{}" });
    const r = await deepcompressor(["fetch", "configs/a.yaml", "--output", "resolved/a.yaml"], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
    const out = fs.readFileSync(path.join(cwd, "resolved/a.yaml"), "utf8");
    for (const line of TEXT.split("\n").slice(4).filter(Boolean)) assert.ok(out.includes(`${line}\n`), `kept: ${line}`);
    assert.match(out, /# a comment that stays/);
    const before = pyyaml(path.join(cwd, "configs/a.yaml")) as Record<string, Record<string, unknown>>;
    const after = pyyaml(path.join(cwd, "resolved/a.yaml")) as Record<string, Record<string, unknown>>;
    assert.deepEqual(after.train, before.train);
    assert.equal(after.model!.path, path.join(cwd, "weights"));
    assert.deepEqual((before.train as Record<string, unknown>).lr, { float: "1e-05" }, "a float to PyYAML");
  });

  test("override values are written so PyYAML reads them as the Python tool would (--model-family 007 stays text)", async () => {
    const cwd = tree({ "configs/a.yaml": "model:\n  name: qwen-7b\n  use_modelscope: false\n" });
    const r = await deepcompressor(["fetch", "configs/a.yaml", "--model-family", "007", "--model-root", "null", "--output", "resolved/a.yaml"], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
    const after = pyyaml(path.join(cwd, "resolved/a.yaml")) as { model: Record<string, unknown> };
    assert.equal(after.model.family, "007");
    assert.equal(after.model.root, "null");
  });

  test("warns where the Python tool would not read the file as this config, and says where to put it", async () => {
    const cwd = tree({ "configs/a.yaml": "model:\n  name: qwen-7b\n  use_modelscope: false\n", "other/__default__.yaml": "quant:\n  w: 8\n" });
    const cases: [string, RegExp][] = [
      ["resolved.yaml", /only reads configs in a subfolder of the working folder, so it will refuse resolved\.yaml: write it to resolved.resolved\.yaml/],
      ["other/out.yaml", /would merge other.__default__\.yaml into other.out\.yaml, which this config did not use: .*resolved.out\.yaml/],
      ["out/resolved.txt", /does not end in \.yaml/],
    ];
    for (const [out, re] of cases) {
      const r = await deepcompressor(["fetch", "configs/a.yaml", "--output", out], { cwd, env: env() });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, re, out);
    }
    const fine = await deepcompressor(["fetch", "configs/a.yaml", "--output", "resolved/ok.yaml"], { cwd, env: env() });
    assert.doesNotMatch(fine.stderr, /Warning/);
  });
});
