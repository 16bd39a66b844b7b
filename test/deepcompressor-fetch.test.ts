// `deepcompressor fetch` as a user runs it: real processes against a real local hub, a temp HOME and a
// temp working folder each. Public models need no sign-in; private ones use `modelscope login`.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanEnv, deepcompressor, modelscope, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

let hub: TestHub;
const PUBLIC_FILES = { "config.json": '{"model_type":"qwen"}', "model.safetensors": "weights-public" };
const PRIVATE_FILES = { "config.json": '{"model_type":"private"}' };

before(async () => {
  hub = await startTestHub({
    models: { "qwen/Qwen-7B-Chat": PUBLIC_FILES, "your-org/private-model-name": PRIVATE_FILES, "acme/by-name": { "a.txt": "by name" }, "acme/other": { "b.txt": "other" } },
    users: ["alice", "mallory"],
    private: { "your-org/private-model-name": ["alice"] },
  });
});
after(() => hub.close());

interface Ctx {
  cwd: string;
  home: string;
  env: Record<string, string>;
}

function setup(files: Record<string, string>, extraEnv: Record<string, string | undefined> = {}): Ctx {
  const cwd = tempDir("dc-cwd-");
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(cwd, rel)), { recursive: true });
    fs.writeFileSync(path.join(cwd, rel), text);
  }
  const home = tempDir("dc-home-");
  return { cwd, home, env: cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, ...extraEnv }) };
}

/** The seed's YAML, literally. */
const SEED_PUBLIC = 'model:\n  name: qwen-7b-chat\n  use_modelscope: true\n  path: "qwen/Qwen-7B-Chat"  # 公开模型\n';
const SEED_PRIVATE = 'model:\n  name: my-private-7b\n  use_modelscope: true\n  path: "your-org/private-model-name"\n';

function snapshotDir(home: string, id: string): string {
  return path.join(home, ".cache", "modelscope", "models", id.replace("/", "--"), "snapshots", "master");
}

describe("public and private models", () => {
  test("the seed's public qwen-7b-chat config resolves with no sign-in and prints the local folder", async () => {
    const c = setup({ "configs/qwen-7b-chat.yaml": SEED_PUBLIC });
    const r = await deepcompressor(["fetch", "configs/qwen-7b-chat.yaml"], { cwd: c.cwd, env: c.env });
    assert.equal(r.code, 0, r.stderr);
    const folder = r.stdout.trim();
    assert.equal(fs.realpathSync(folder), fs.realpathSync(snapshotDir(c.home, "qwen/Qwen-7B-Chat")));
    assert.equal(fs.readFileSync(path.join(folder, "model.safetensors"), "utf8"), "weights-public");
    assert.match(r.stderr, /model: qwen\/Qwen-7B-Chat/);
  });

  test("the seed's private model, signed out: Not found and the `modelscope login` remedy, exit 1", async () => {
    const c = setup({ "configs/private-model.yaml": SEED_PRIVATE });
    const r = await deepcompressor(["fetch", "configs/private-model.yaml"], { cwd: c.cwd, env: c.env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error: Not found/);
    assert.match(r.stderr, /modelscope login/);
    assert.match(r.stderr, /while resolving model\.path \(configs[/\\]private-model\.yaml:4:3\)/);
    assert.equal(r.stdout, "");
  });

  test("the seed's private model after `modelscope login`: fetched", async () => {
    const c = setup({ "configs/private-model.yaml": SEED_PRIVATE });
    const login = await modelscope(["login", "--token-stdin"], { env: c.env, input: hub.tokens.alice! });
    assert.equal(login.code, 0, login.stderr);
    const r = await deepcompressor(["fetch", "configs/private-model.yaml", "--json"], { cwd: c.cwd, env: c.env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.sections[0].modelId, "your-org/private-model-name");
    assert.equal(fs.readFileSync(path.join(out.sections[0].path, "config.json"), "utf8"), PRIVATE_FILES["config.json"]);
  });

  test("the private model with MODELSCOPE_API_TOKEN of a non-member: refused, and told to ask the owner", async () => {
    const c = setup({ "configs/private-model.yaml": SEED_PRIVATE }, { MODELSCOPE_API_TOKEN: hub.tokens.mallory });
    const r = await deepcompressor(["fetch", "configs/private-model.yaml"], { cwd: c.cwd, env: c.env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error: (Not found|Access denied)/);
    assert.match(r.stderr, /ask its owner|make sure your account (on \S+ )?can access/);
  });
});

describe("how each section is resolved", () => {
  test("auto-detection: from path when use_modelscope is absent, and from name when path is empty", async () => {
    const c = setup({
      "configs/auto.yaml": "model:\n  path: qwen/Qwen-7B-Chat\n  dtype: torch.float16\npipeline:\n  name: acme/by-name\n  path: ''\n",
    });
    const r = await deepcompressor(["fetch", "configs/auto.yaml", "--json"], { cwd: c.cwd, env: c.env });
    assert.equal(r.code, 0, r.stderr);
    const [model, pipeline] = JSON.parse(r.stdout).sections;
    assert.equal(model.kind, "modelscope");
    assert.match(model.reason, /auto-detected from path/);
    assert.equal(pipeline.modelId, "acme/by-name");
    assert.match(pipeline.reason, /from name/);
    assert.ok(fs.existsSync(path.join(pipeline.path, "a.txt")));
  });

  test("use_modelscope: false is left exactly as written, and a local folder is used with no request at all", async () => {
    const c = setup({
      "configs/local.yaml": "model:\n  use_modelscope: false\n  path: meta-llama/Llama-2-7b-hf\npipeline:\n  path: ./weights/sd\n",
      "weights/sd/model_index.json": "{}",
    });
    // A hub that does not answer: any request would fail the command.
    const env = { ...c.env, MODELSCOPE_ENDPOINT: "http://127.0.0.1:9", MODELSCOPE_API_MAX_RETRIES: "0" };
    const r = await deepcompressor(["fetch", "configs/local.yaml", "--json"], { cwd: c.cwd, env });
    assert.equal(r.code, 0, r.stderr);
    const [model, pipeline] = JSON.parse(r.stdout).sections;
    assert.deepEqual([model.kind, model.path, model.originalPath], ["untouched", null, "meta-llama/Llama-2-7b-hf"]);
    assert.deepEqual([pipeline.kind, pipeline.path], ["local", path.join(c.cwd, "weights", "sd")]);
  });

  test("clear errors: a local path under use_modelscope: true, a malformed ID, a missing path", async () => {
    const c = setup({
      "configs/a.yaml": "model:\n  use_modelscope: true\n  path: /data/models/qwen\n",
      "configs/b.yaml": "model:\n  use_modelscope: true\n  path: qwen/Qwen/7B\n",
      "configs/c.yaml": "pipeline:\n  name: flux\n  use_modelscope: true\n",
    });
    for (const [file, line, text] of [
      ["a.yaml", "3:3: model.path", /local folder '\/data\/models\/qwen' does not exist/],
      ["b.yaml", "3:3: model.path", /not a ModelScope ID: use the form owner\/name/],
      ["c.yaml", "3:3: pipeline.use_modelscope", /path is required when use_modelscope is true/],
    ] as const) {
      const r = await deepcompressor(["fetch", `configs/${file}`], { cwd: c.cwd, env: c.env });
      assert.equal(r.code, 2, file);
      assert.ok(r.stderr.includes(`configs${path.sep}${file}:${line}`), r.stderr);
      assert.match(r.stderr, text);
    }
  });

  test("--offline: a cached model resolves with no network, an uncached one fails naming it", async () => {
    const c = setup({ "configs/qwen.yaml": SEED_PUBLIC, "configs/other.yaml": "model:\n  path: acme/other\n" });
    const first = await deepcompressor(["fetch", "configs/qwen.yaml"], { cwd: c.cwd, env: c.env });
    assert.equal(first.code, 0, first.stderr);
    const env = { ...c.env, MODELSCOPE_ENDPOINT: "http://127.0.0.1:9" };
    const cached = await deepcompressor(["fetch", "configs/qwen.yaml", "--offline"], { cwd: c.cwd, env });
    assert.equal(cached.code, 0, cached.stderr);
    assert.equal(cached.stdout, first.stdout);
    const uncached = await deepcompressor(["fetch", "configs/other.yaml", "--offline"], { cwd: c.cwd, env });
    assert.equal(uncached.code, 1);
    assert.match(uncached.stderr, /Offline, and not in the cache: .*acme\/other/);
  });

  test("--dry-run downloads nothing", async () => {
    const c = setup({ "configs/qwen.yaml": SEED_PUBLIC });
    const r = await deepcompressor(["fetch", "configs/qwen.yaml", "--dry-run", "--json"], { cwd: c.cwd, env: c.env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).dryRun, true);
    assert.ok(!fs.existsSync(path.join(snapshotDir(c.home, "qwen/Qwen-7B-Chat"), "model.safetensors")));
  });

  test("modelscope_cache_dir (with ~) decides where the files go; --model-path overrides the config", async () => {
    const c = setup({ "configs/qwen.yaml": SEED_PUBLIC.replace("  path:", "  modelscope_cache_dir: ~/my-cache\n  path:") });
    const r = await deepcompressor(["fetch", "configs/qwen.yaml", "--model-path", "acme/other"], { cwd: c.cwd, env: c.env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.realpathSync(r.stdout.trim()), fs.realpathSync(path.join(c.home, "my-cache", "models", "acme--other", "snapshots", "master")));
  });
});

describe("--output resolved.yaml", () => {
  test("keeps every other key and comment, points path at the local folder, and loads back offline", async () => {
    const c = setup({
      "configs/__default__.yaml": "# shared defaults\nmodel:\n  dtype: torch.float16  # half precision\n  fast_tokenizer: true\nquant:\n  wgts:\n    dtype: sint4\n",
      "configs/qwen-7b-chat.yaml": `# the seed's public model\n${SEED_PUBLIC}eval:\n  tasks: [wikitext]\n`,
    });
    const r = await deepcompressor(["fetch", "configs/qwen-7b-chat.yaml", "--output", "configs/resolved.yaml"], { cwd: c.cwd, env: c.env });
    assert.equal(r.code, 0, r.stderr);
    const text = fs.readFileSync(path.join(c.cwd, "configs", "resolved.yaml"), "utf8");
    for (const kept of ["# shared defaults", "# half precision", "# the seed's public model", "# 公开模型", "fast_tokenizer: true", "name: qwen-7b-chat", "dtype: sint4", "tasks: [ wikitext ]", "use_modelscope: false"]) {
      assert.ok(text.includes(kept), `resolved.yaml keeps ${kept}:\n${text}`);
    }
    const keys = [...text.matchAll(/^ {2}(\w+):/gm)].map((m) => m[1]);
    assert.deepEqual(keys.slice(0, 5), ["dtype", "fast_tokenizer", "name", "use_modelscope", "path"], "key order: defaults first, then the file's");
    assert.ok(text.includes(`path: "${r.stdout.trim()}"`));
    // Loads back with no network: the path is now an existing local folder.
    const back = await deepcompressor(["fetch", "configs/resolved.yaml", "--json", "--offline"], { cwd: c.cwd, env: { ...c.env, MODELSCOPE_ENDPOINT: "http://127.0.0.1:9" } });
    assert.equal(back.code, 0, back.stderr);
    const section = JSON.parse(back.stdout).sections[0];
    assert.equal(section.kind, "untouched", "use_modelscope: false in the resolved file: the Python side takes the path as is");
    assert.equal(section.originalPath, r.stdout.trim());
    const validate = await deepcompressor(["config", "validate", "configs/resolved.yaml"], { cwd: c.cwd, env: c.env });
    assert.equal(validate.code, 0, validate.stderr);
  });
});
