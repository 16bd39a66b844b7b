// `deepcompressor ptq` and `check-auth` as real processes. The Python DeepCompressor is played by a
// stand-in interpreter (DEEPCOMPRESSOR_PYTHON) that records the arguments and working folder it got.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanEnv, deepcompressor, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

let hub: TestHub;
before(async () => {
  hub = await startTestHub({ models: { "qwen/Qwen-7B-Chat": { "config.json": "{}" }, "acme/sd": { "model_index.json": "{}" } }, users: ["alice"] });
});
after(() => hub.close());

/** A stand-in interpreter: writes {argv, cwd, overlay text} to $RECORD, or plays a missing package. */
function standIn(dir: string, mode: "record" | "missing"): string {
  const file = path.join(dir, `python-${mode}.mjs`);
  const body =
    mode === "record"
      ? `const fs = await import("node:fs");
const args = process.argv.slice(2);
const overlay = args.find((a) => a.startsWith(".deepcompressor/"));
fs.writeFileSync(process.env.RECORD, JSON.stringify({ args, cwd: process.cwd(), overlay: overlay ? fs.readFileSync(overlay, "utf8") : null }));
process.exit(Number(process.env.EXIT_WITH ?? 0));`
      : `process.stderr.write("/usr/bin/python3: Error while finding module specification for 'deepcompressor.app.llm.ptq' (ModuleNotFoundError: No module named 'deepcompressor')\\n");
process.exit(1);`;
  fs.writeFileSync(file, `#!${process.execPath}\n${body}\n`, { mode: 0o755 });
  return file;
}

function setup(files: Record<string, string>, mode: "record" | "missing" = "record") {
  const cwd = tempDir("dc-ptq-");
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(cwd, rel)), { recursive: true });
    fs.writeFileSync(path.join(cwd, rel), text);
  }
  const home = tempDir("dc-home-");
  const record = path.join(tempDir("dc-rec-"), "record.json");
  const env = cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, DEEPCOMPRESSOR_PYTHON: standIn(tempDir("dc-py-"), mode), RECORD: record });
  return { cwd, home, env, record };
}

describe("deepcompressor ptq", () => {
  test("llm: fetches the model, then runs python -m deepcompressor.app.llm.ptq on the same configs with --model-path and ModelScope off", async () => {
    const c = setup({
      "configs/__default__.yaml": "quant:\n  wbits: 4\n",
      "configs/qwen-7b-chat.yaml": 'model:\n  name: qwen-7b-chat\n  use_modelscope: true\n  path: "qwen/Qwen-7B-Chat"  # 公开模型\n',
    });
    const r = await deepcompressor(["ptq", "llm", "configs/qwen-7b-chat.yaml", "--model-name", "qwen-7b-chat", "--model-revision", "master", "--", "--save-model", "out"], { cwd: c.cwd, env: c.env });
    assert.equal(r.code, 0, r.stderr);
    const rec = JSON.parse(fs.readFileSync(c.record, "utf8"));
    const local = fs.realpathSync(path.join(c.home, ".cache", "modelscope", "models", "qwen--Qwen-7B-Chat", "snapshots", "master"));
    assert.equal(fs.realpathSync(rec.cwd), fs.realpathSync(c.cwd));
    const [m, mod, cfg, overlay, ...rest] = rec.args;
    assert.deepEqual([m, mod, cfg], ["-m", "deepcompressor.app.llm.ptq", "configs/qwen-7b-chat.yaml"]);
    assert.match(overlay, /^\.deepcompressor\/ptq-.*\.yaml$/, "an overlay config in a subfolder of the working folder turns use_modelscope off");
    assert.match(rec.overlay, /use_modelscope: false/);
    assert.equal(rest[0], "--model-name", "other overrides are handed on");
    assert.equal(rest[1], "qwen-7b-chat");
    assert.equal(rest[2], "--model-path");
    assert.equal(fs.realpathSync(rest[3]), local);
    assert.deepEqual(rest.slice(4), ["--save-model", "out"], "arguments after -- are passed through unchanged");
    assert.ok(!rest.includes("--model-revision"), "our own keys are not handed on once the model is local");
    assert.ok(!fs.existsSync(path.join(c.cwd, ".deepcompressor")), "the overlay is removed afterwards");
  });

  test("diffusion: the pipeline is resolved and passed as --pipeline-path; the interpreter's exit code is returned", async () => {
    const c = setup({ "configs/flux.yaml": "pipeline:\n  name: sd\n  path: acme/sd\n  dtype: torch.bfloat16\n" });
    const r = await deepcompressor(["ptq", "diffusion", "configs/flux.yaml"], { cwd: c.cwd, env: { ...c.env, EXIT_WITH: "3" } });
    assert.equal(r.code, 3);
    const rec = JSON.parse(fs.readFileSync(c.record, "utf8"));
    assert.deepEqual(rec.args.slice(0, 4), ["-m", "deepcompressor.app.diffusion.ptq", "configs/flux.yaml", "--pipeline-path"]);
    assert.equal(rec.args.length, 5, "no overlay when use_modelscope is not set");
    assert.ok(fs.existsSync(path.join(rec.args[4], "model_index.json")));
  });

  test("use_modelscope: false: nothing fetched, the config goes to Python as it is", async () => {
    const c = setup({ "configs/hf.yaml": "model:\n  use_modelscope: false\n  path: meta-llama/Llama-2-7b-hf\n" });
    const r = await deepcompressor(["ptq", "llm", "configs/hf.yaml", "--model-name", "llama-2-7b"], { cwd: c.cwd, env: { ...c.env, MODELSCOPE_ENDPOINT: "http://127.0.0.1:9" } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(fs.readFileSync(c.record, "utf8")).args, ["-m", "deepcompressor.app.llm.ptq", "configs/hf.yaml", "--model-name", "llama-2-7b"]);
  });

  test("a missing Python package is explained with how to install it", async () => {
    const c = setup({ "configs/hf.yaml": "model:\n  use_modelscope: false\n  path: x/y\n" }, "missing");
    const r = await deepcompressor(["ptq", "llm", "configs/hf.yaml"], { cwd: c.cwd, env: c.env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Error: The Python DeepCompressor is not installed/);
    assert.match(r.stderr, /pip install/);
    assert.match(r.stderr, /DEEPCOMPRESSOR_PYTHON/);
  });

  test("a missing interpreter is explained", async () => {
    const c = setup({ "configs/hf.yaml": "model:\n  use_modelscope: false\n  path: x/y\n" });
    const r = await deepcompressor(["ptq", "llm", "configs/hf.yaml"], { cwd: c.cwd, env: { ...c.env, DEEPCOMPRESSOR_PYTHON: path.join(c.cwd, "no-such-python") } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Python interpreter '.*no-such-python' not found/);
  });

  test("an unknown kind is a usage error", async () => {
    const c = setup({ "configs/hf.yaml": "model:\n  path: x/y\n" });
    const r = await deepcompressor(["ptq", "vlm", "configs/hf.yaml"], { cwd: c.cwd, env: c.env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unknown ptq kind 'vlm'/);
  });
});

describe("deepcompressor check-auth", () => {
  test("signed out: exit 1 and the `modelscope login` remedy; signed in with the env var: exit 0", async () => {
    const home = tempDir("dc-home-");
    const out = await deepcompressor(["check-auth"], { env: cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url }) });
    assert.equal(out.code, 1);
    assert.match(out.stdout, /Not logged in/);
    assert.match(out.stdout, /modelscope login/);
    const inn = await deepcompressor(["check-auth", "--json"], { env: cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, MODELSCOPE_API_TOKEN: hub.tokens.alice }) });
    assert.equal(inn.code, 0, inn.stderr);
    const status = JSON.parse(inn.stdout);
    assert.equal(status.signedIn, true);
    assert.equal(status.user.username, "alice");
  });
});
