// `deepcompressor ptq` and `check-auth` as real processes. The Python DeepCompressor is played by a
// stand-in interpreter (DEEPCOMPRESSOR_PYTHON) that records the arguments and working folder it got.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { FIELDS, OUR_ONLY_KEYS } from "../src/config/fields.js";
import { REPO_ROOT, cleanEnv, deepcompressor, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

let hub: TestHub;
before(async () => {
  hub = await startTestHub({ models: { "qwen/Qwen-7B-Chat": { "config.json": "{}" }, "acme/sd": { "model_index.json": "{}" } }, users: ["alice"] });
});
after(() => hub.close());

/**
 * A stand-in interpreter that records every call ({args, cwd}, one JSON line each) to $RECORD. The package
 * check (`-c ...`) exits 0, or 3 ("not installed") in "missing" mode.
 */
function standIn(dir: string, mode: "record" | "missing"): string {
  const file = path.join(dir, `python-${mode}.mjs`);
  const body = `const fs = await import("node:fs");
const args = process.argv.slice(2);
fs.appendFileSync(process.env.RECORD, JSON.stringify({ args, cwd: process.cwd() }) + "\\n");
if (args[0] === "-c") process.exit(${mode === "missing" ? 3 : 0});
process.exit(Number(process.env.EXIT_WITH ?? 0));`;
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
  const record = path.join(tempDir("dc-rec-"), "record.jsonl");
  const env = cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, DEEPCOMPRESSOR_PYTHON: standIn(tempDir("dc-py-"), mode), RECORD: record });
  const calls = (): { args: string[]; cwd: string }[] => (fs.existsSync(record) ? fs.readFileSync(record, "utf8").trim().split("\n").map((l) => JSON.parse(l)) : []);
  return { cwd, home, env, record, calls };
}

/**
 * The recorded argv through Python's real argparse, set up as omniconfig sets it up for the section's
 * fields (positional configs; a boolean: nargs="?" with choices true/false; others: one value), plus
 * `extra` flags of the Python tool. Returns argparse's unknown arguments and the parsed values.
 */
function realArgparse(args: string[], section: "model" | "pipeline", extra: string[]): { unknown: string[]; values: Record<string, unknown> } {
  const fields = Object.entries(FIELDS[section]).filter(([k, t]) => t !== "section" && !OUR_ONLY_KEYS.has(k));
  const spec = fields.map(([k, t]) => [`--${section}-${k.replace(/[._]/g, "-")}`, t === "bool"]);
  const script = `import argparse, json, sys
class Bool(argparse.Action):
    def __init__(self, option_strings, dest, **kw):
        super().__init__(option_strings, dest, nargs="?", type=str, choices=["true", "false"], default=argparse.SUPPRESS)
    def __call__(self, parser, ns, values, option_string=None):
        setattr(ns, self.dest, values != "false")
p = argparse.ArgumentParser(exit_on_error=False)
p.add_argument("cfgs", nargs="*", default=[])
spec, extra, argv = json.loads(sys.stdin.read())
for flag, is_bool in spec:
    p.add_argument(flag, action=Bool) if is_bool else p.add_argument(flag, type=str, default=argparse.SUPPRESS)
for flag in extra:
    p.add_argument(flag)
ns, unknown = p.parse_known_args(argv)
print(json.dumps({"unknown": unknown, "values": vars(ns)}))`;
  const r = spawnSync("/usr/bin/python3", ["-c", script], { input: JSON.stringify([spec, extra, args]), encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { unknown: string[]; values: Record<string, unknown> };
}

describe("deepcompressor ptq", () => {
  test("the issue's command: an argv omniconfig accepts (booleans as `--flag false`, no overlay), the package checked before the download", async () => {
    const c = setup({});
    fs.cpSync(path.join(REPO_ROOT, "examples"), path.join(c.cwd, "examples"), { recursive: true });
    const r = await deepcompressor(["ptq", "llm", "examples/llm/qwen-7b-chat.yaml", "--model-fast-tokenizer", "false", "--", "--seed", "7"], { cwd: c.cwd, env: c.env });
    assert.equal(r.code, 0, r.stderr);
    const [check, run] = c.calls();
    assert.equal(check!.args[0], "-c", "the package is looked for first");
    assert.match(check!.args[1]!, /find_spec\('deepcompressor'\)/);
    const local = fs.realpathSync(path.join(c.home, ".cache", "modelscope", "models", "qwen--Qwen-7B-Chat", "snapshots", "master"));
    assert.equal(fs.realpathSync(run!.cwd), fs.realpathSync(c.cwd));
    assert.deepEqual(run!.args.slice(0, 5), ["-m", "deepcompressor.app.llm.ptq", "examples/llm/qwen-7b-chat.yaml", "--model-fast-tokenizer", "false"]);
    assert.equal(run!.args[5], "--model-path");
    assert.equal(fs.realpathSync(run!.args[6]!), local);
    assert.deepEqual(run!.args.slice(7), ["--model-use-modelscope", "false", "--seed", "7"]);
    const real = realArgparse(run!.args.slice(2), "model", ["--seed"]);
    assert.deepEqual(real.unknown, [], "Python's argparse, set up as omniconfig does, finds no unknown argument");
    assert.deepEqual(real.values.cfgs, ["examples/llm/qwen-7b-chat.yaml"]);
    assert.equal(real.values.model_fast_tokenizer, false);
    assert.equal(real.values.model_use_modelscope, false);
    assert.equal(real.values.seed, "7");
    assert.ok(!run!.args.some((a) => a.startsWith("--no-")), "omniconfig has no --no- flags");
    assert.ok(!fs.existsSync(path.join(c.cwd, ".deepcompressor")), "no overlay config");
  });

  test("--model-revision is ours (consumed, never handed on); a bare boolean flag means true; other overrides are handed on as written", async () => {
    const c = setup({ "configs/qwen-7b-chat.yaml": 'model:\n  name: qwen-7b-chat\n  path: "qwen/Qwen-7B-Chat"\n' });
    const r = await deepcompressor(["ptq", "llm", "configs/qwen-7b-chat.yaml", "--model-family", "007", "--model-revision", "master", "--model-fast-tokenizer", "--model-root", "null"], { cwd: c.cwd, env: c.env });
    assert.equal(r.code, 0, r.stderr);
    const run = c.calls()[1]!;
    assert.deepEqual(run.args.slice(2, 9), ["configs/qwen-7b-chat.yaml", "--model-family", "007", "--model-fast-tokenizer", "true", "--model-root", "null"]);
    assert.ok(!run.args.includes("--model-revision"));
    assert.ok(!run.args.includes("--model-use-modelscope"), "not turned off where the config never turned it on");
    const real = realArgparse(run.args.slice(2), "model", []);
    assert.deepEqual(real.unknown, []);
    assert.deepEqual([real.values.model_family, real.values.model_root, real.values.model_fast_tokenizer], ["007", "null", true]);
  });

  test("diffusion: the pipeline is resolved and passed as --pipeline-path; the interpreter's exit code is returned", async () => {
    const c = setup({ "configs/flux.yaml": "pipeline:\n  name: sd\n  path: acme/sd\n  dtype: torch.bfloat16\n" });
    const r = await deepcompressor(["ptq", "diffusion", "configs/flux.yaml"], { cwd: c.cwd, env: { ...c.env, EXIT_WITH: "3" } });
    assert.equal(r.code, 3);
    const run = c.calls()[1]!;
    assert.deepEqual(run.args.slice(0, 4), ["-m", "deepcompressor.app.diffusion.ptq", "configs/flux.yaml", "--pipeline-path"]);
    assert.equal(run.args.length, 5, "no use_modelscope flag when the config does not set it");
    assert.ok(fs.existsSync(path.join(run.args[4]!, "model_index.json")));
  });

  test("use_modelscope: false: nothing fetched, the config goes to Python as it is", async () => {
    const c = setup({ "configs/hf.yaml": "model:\n  use_modelscope: false\n  path: meta-llama/Llama-2-7b-hf\n" });
    const r = await deepcompressor(["ptq", "llm", "configs/hf.yaml", "--model-name", "llama-2-7b"], { cwd: c.cwd, env: { ...c.env, MODELSCOPE_ENDPOINT: "http://127.0.0.1:9" } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(c.calls()[1]!.args, ["-m", "deepcompressor.app.llm.ptq", "configs/hf.yaml", "--model-name", "llama-2-7b"]);
  });

  test("unknown or wrong-section override flags are refused with the valid ones (exit 2), nothing run", async () => {
    const c = setup({ "configs/q.yaml": "model:\n  name: qwen-7b\n  path: qwen/Qwen-7B-Chat\n" });
    const cases: [string[], RegExp][] = [
      [["ptq", "llm", "configs/q.yaml", "--model-foo", "x"], /--model-foo is not a flag of the Python DeepCompressor[\s\S]*valid flags for model: --model-name/],
      [["ptq", "llm", "configs/q.yaml", "--model-pth", "x"], /did you mean --model-path\?/],
      [["ptq", "llm", "configs/q.yaml", "--pipeline-path", "x"], /--pipeline-path is not a flag of `ptq llm`[\s\S]*valid flags for model/],
      [["fetch", "configs/q.yaml", "--model-foo", "x"], /--model-foo is not a flag/],
      [["ptq", "llm", "configs/q.yaml", "--no-model-use-modelscope"], /no --no- flags[\s\S]*--model-use-modelscope false/],
      [["ptq", "llm", "configs/q.yaml", "--model-use-modelscope", "yes"], /takes true or false, not 'yes'/],
      [["ptq", "llm", "--model-fast-tokenizer", "configs/q.yaml"], /takes true or false, not 'configs\/q.yaml'/],
    ];
    for (const [args, re] of cases) {
      const r = await deepcompressor(args, { cwd: c.cwd, env: c.env });
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, re, args.join(" "));
    }
    assert.deepEqual(c.calls(), [], "Python never ran");
  });

  test("a missing Python package is found before anything is downloaded, and explained", async () => {
    const c = setup({ "configs/q.yaml": "model:\n  name: qwen-7b-chat\n  path: qwen/Qwen-7B-Chat\n" }, "missing");
    const r = await deepcompressor(["ptq", "llm", "configs/q.yaml"], { cwd: c.cwd, env: c.env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Error: The Python DeepCompressor is not installed/);
    assert.match(r.stderr, /pip install/);
    assert.match(r.stderr, /DEEPCOMPRESSOR_PYTHON/);
    assert.equal(c.calls().length, 1, "only the check ran");
    assert.ok(!fs.existsSync(path.join(c.home, ".cache", "modelscope", "models")), "nothing was downloaded");
  });

  test("a missing interpreter is explained", async () => {
    const c = setup({ "configs/hf.yaml": "model:\n  use_modelscope: false\n  path: x/y\n" });
    const r = await deepcompressor(["ptq", "llm", "configs/hf.yaml"], { cwd: c.cwd, env: { ...c.env, DEEPCOMPRESSOR_PYTHON: path.join(c.cwd, "no-such-python") } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Python interpreter '.*no-such-python' not found/);
  });

  test("a config directly in the working folder is refused before Python runs (omniconfig would assert)", async () => {
    const c = setup({ "q.yaml": "model:\n  name: qwen-7b\n  use_modelscope: false\n" });
    const r = await deepcompressor(["ptq", "llm", "q.yaml"], { cwd: c.cwd, env: c.env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /q\.yaml: is directly in the working folder/);
    assert.deepEqual(c.calls(), []);
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
