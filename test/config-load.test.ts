// Loading DeepCompressor configs the way the Python tool (omniconfig) does: the __default__.yaml cascade,
// import lists, later-wins deep merge, kebab-case overrides; and every mistake reported at once with its
// file, line and key. Library calls plus real `deepcompressor config validate` processes.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { loadConfig, extractOverrides } from "../src/config/index.js";
import { ConfigError, ConfigSecretError } from "../src/errors.js";
import { cleanEnv, deepcompressor, secrets, tempDir } from "./helpers/hub.js";

function write(root: string, rel: string, text: string): string {
  const abs = path.join(root, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, text);
  return abs;
}

/** configs/__default__.yaml < configs/llm/__default__.yaml < configs/llm/a.yaml < configs/llm/b.yaml */
function cascadeTree(): string {
  const cwd = tempDir("dc-cfg-");
  write(cwd, "__default__.yaml", "model:\n  dtype: from-cwd-default\n"); // omniconfig never reads the working folder's own
  write(cwd, "configs/__default__.yaml", "# outer defaults\nmodel:\n  dtype: torch.float16\n  fast_tokenizer: true\n  path: outer/model\nquant:\n  wbits: 4\n  list: [1, 2, 3]\n");
  write(cwd, "configs/llm/__default__.yaml", "model:\n  dtype: torch.bfloat16\n  use_modelscope: false\n");
  write(cwd, "configs/llm/a.yaml", "model:\n  name: a-7b\n  path: acme/a\nquant:\n  list: [9]\n");
  write(cwd, "configs/llm/b.yaml", "model:\n  path: acme/b  # b wins\n");
  return cwd;
}

describe("the __default__.yaml cascade and merge order", () => {
  test("defaults from the first subfolder down to the file's folder, outermost first, then the files in order; later wins", () => {
    const cwd = cascadeTree();
    const c = loadConfig(["configs/llm/a.yaml", "configs/llm/b.yaml"], [], { cwd });
    assert.deepEqual(c.defaultFiles, [path.join(cwd, "configs/__default__.yaml"), path.join(cwd, "configs/llm/__default__.yaml")]);
    assert.deepEqual(c.configFiles, [path.join(cwd, "configs/llm/a.yaml"), path.join(cwd, "configs/llm/b.yaml")]);
    const model = c.data.model as Record<string, unknown>;
    assert.equal(model.dtype, "torch.bfloat16", "inner default beats outer default; the working folder's own default is not read");
    assert.equal(model.fast_tokenizer, true, "keys only in an outer default survive (deep merge)");
    assert.equal(model.name, "a-7b");
    assert.equal(model.path, "acme/b", "the later file wins");
    assert.equal(model.use_modelscope, false);
    assert.deepEqual(c.data.quant, { wbits: 4, list: [9] }, "lists are replaced, not merged");
    assert.deepEqual(c.locate(["model", "path"]), { file: path.join("configs", "llm", "b.yaml"), line: 2, column: 3 });
    assert.deepEqual(c.locate(["model", "dtype"]), { file: path.join("configs", "llm", "__default__.yaml"), line: 2, column: 3 });
    assert.deepEqual(c.locate(["quant", "wbits"]), { file: path.join("configs", "__default__.yaml"), line: 7, column: 3 });
  });

  test("--model-path and friends override every file; the override's origin is the command line", () => {
    const cwd = cascadeTree();
    const { overrides, rest } = extractOverrides(["configs/llm/a.yaml", "--model-path", "over/ride", "--model-use-modelscope", "--pipeline-name=p", "--model-dtype", "float32"]);
    assert.deepEqual(rest, ["configs/llm/a.yaml"]);
    const c = loadConfig(rest, overrides, { cwd });
    const model = c.data.model as Record<string, unknown>;
    assert.equal(model.path, "over/ride");
    assert.equal(model.use_modelscope, true);
    assert.equal(model.dtype, "float32");
    assert.deepEqual(c.data.pipeline, { name: "p" });
    assert.match(c.locate(["model", "path"])!.file, /command line --model-path/);
  });

  test("a positional file that is not YAML is a list of config paths, placed before the positional configs", () => {
    const cwd = cascadeTree();
    write(cwd, "lists/run.txt", "configs/llm/b.yaml\n");
    const c = loadConfig(["configs/llm/a.yaml", "lists/run.txt"], [], { cwd });
    assert.deepEqual(c.configFiles, [path.join(cwd, "configs/llm/b.yaml"), path.join(cwd, "configs/llm/a.yaml")]);
    assert.equal((c.data.model as Record<string, unknown>).path, "acme/a", "a.yaml comes after the imported b.yaml, so it wins");
  });

  test("a config outside the working folder, or directly in it, is refused as omniconfig refuses it", () => {
    const elsewhere = cascadeTree();
    const cwd = tempDir("dc-cwd-");
    write(cwd, "here.yaml", "model:\n  name: a-7b\n");
    assert.throws(() => loadConfig([path.join(elsewhere, "configs/llm/a.yaml")], [], { cwd }), (e: ConfigError) => /is outside the working folder/.test(e.message));
    assert.throws(() => loadConfig(["here.yaml"], [], { cwd }), (e: ConfigError) => /here\.yaml: is directly in the working folder.*subfolder/.test(e.message));
  });

  test("`config validate` loads the cascade with overrides and says how each section resolves", async () => {
    const cwd = cascadeTree();
    const r = await deepcompressor(["config", "validate", "configs/llm/a.yaml", "--model-path", "acme/override", "--model-use-modelscope", "true", "--json"], { cwd, env: cleanEnv(tempDir()) });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.valid, true);
    assert.equal(out.sections[0].modelId, "acme/override");
    assert.equal(out.sections[0].kind, "modelscope");
  });
});

describe("every mistake at once, with file, line and key", () => {
  test("a config with several mistakes reports all of them with line numbers and exits 2", async () => {
    const cwd = tempDir("dc-cfg-");
    write(cwd, "configs/bad.yaml", ["model:", "  name: 12", "  use_modelscope: maybe", "  path: acme/x", "  revision: 1.0", "pipeline:", "  use_modelscope: true", "  path: not an id", "quant:", "  keep: me", ""].join("\n"));
    write(cwd, "configs/bad2.yaml", "model:\n  modelscope_cache_dir: [a]\n");
    const r = await deepcompressor(["config", "validate", "configs/bad.yaml", "configs/bad2.yaml"], { cwd, env: cleanEnv(tempDir()) });
    assert.equal(r.code, 2);
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("Error: "));
    const bad = path.join("configs", "bad.yaml");
    const bad2 = path.join("configs", "bad2.yaml");
    assert.deepEqual(
      lines.map((l) => l.split(": ").slice(1, 3).join(": ")),
      [`${bad}:2:3: model.name`, `${bad}:3:3: model.use_modelscope`, `${bad}:5:3: model.revision`, `${bad}:8:3: pipeline.path`, `${bad2}:2:3: model.modelscope_cache_dir`],
    );
    assert.match(r.stderr, /not a ModelScope ID/);
    assert.match(r.stderr, /Fix: /);
  });

  test("YAML syntax errors point at the line, and the other files are still checked", async () => {
    const cwd = tempDir("dc-cfg-");
    write(cwd, "configs/broken.yaml", "model:\n  name: x\n   path: [unclosed\n");
    write(cwd, "configs/other.yaml", "model:\n  use_modelscope: true\n");
    const r = await deepcompressor(["config", "validate", "configs/broken.yaml", "configs/other.yaml", "configs/missing.yaml"], { cwd, env: cleanEnv(tempDir()) });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /configs[/\\]missing\.yaml: no such file/);
    assert.match(r.stderr, /configs[/\\]broken\.yaml:\d+:\d+: YAML syntax error/);
    assert.match(r.stderr, /configs[/\\]other\.yaml:2:3: model\.use_modelscope: path is required when use_modelscope is true/);
  });

  test("the library throws one ConfigError holding every problem", () => {
    const cwd = tempDir("dc-cfg-");
    write(cwd, "configs/x.yaml", "model:\n  use_modelscope: true\n  path: ~/models/local\npipeline:\n  path: ./nowhere\n");
    assert.throws(
      () => loadConfig(["configs/x.yaml"], [], { cwd }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError && !(err instanceof ConfigSecretError));
        assert.equal(err.problems.length, 2);
        assert.deepEqual(err.problems.map((p) => [p.line, p.key]), [[3, "model.path"], [5, "pipeline.path"]]);
        assert.match(err.problems[0]!.message, /local folder .~.models.local. does not exist/);
        return true;
      },
    );
  });
});

describe("credentials never in configs", () => {
  const TOKEN = "ms-4f1c2a9e-0b7d-4c55-9a31-6d2e8f0b7c13";
  secrets.add(TOKEN);

  test("a token value under any key is refused with exit 2, pointing at modelscope login, without echoing it", async () => {
    const cwd = tempDir("dc-cfg-");
    write(cwd, "configs/leak.yaml", `model:\n  name: my-private-model\n  use_modelscope: true\n  path: "your-org/private-model-name"\n  extra:\n    something: ${TOKEN}\n`);
    const r = await deepcompressor(["fetch", "configs/leak.yaml"], { cwd, env: cleanEnv(tempDir(), { MODELSCOPE_ENDPOINT: "http://127.0.0.1:9" }) });
    assert.equal(r.code, 2);
    assert.ok(!(r.stdout + r.stderr).includes(TOKEN.slice(3, 20)), "no part of the token is printed");
    assert.match(r.stderr, /configs[/\\]leak\.yaml:6:16: model\.extra\.something: the value looks like a token/);
    assert.match(r.stderr, /modelscope login/);
    assert.match(r.stderr, /MODELSCOPE_API_TOKEN/);
  });

  test("a token-like key is refused whatever its value, even in a __default__ that a later file overrides", async () => {
    const cwd = tempDir("dc-cfg-");
    write(cwd, "configs/__default__.yaml", "model:\n  token: hunter2-not-a-token-shape\n");
    write(cwd, "configs/run.yaml", "model:\n  token: ''\n  path: acme/x\n  pad_token: '<pad>'\n");
    const r = await deepcompressor(["config", "validate", "configs/run.yaml"], { cwd, env: cleanEnv(tempDir()) });
    assert.equal(r.code, 2);
    assert.ok(!r.stderr.includes("hunter2"));
    assert.match(r.stderr, /configs[/\\]__default__\.yaml:2:3: model\.token: 'token' holds a credential/);
    assert.doesNotMatch(r.stderr, /pad_token/, "tokenizer settings such as pad_token are not credentials");
  });

  test("a token passed as an override is refused too", async () => {
    const cwd = tempDir("dc-cfg-");
    write(cwd, "configs/run.yaml", "model:\n  path: acme/x\n");
    const r = await deepcompressor(["config", "validate", "configs/run.yaml", "--model-path", TOKEN], { cwd, env: cleanEnv(tempDir()) });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--model-path: the value looks like a token/);
  });
});
