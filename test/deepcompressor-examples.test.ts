// The shipped examples (the seed's YAML) resolve against the local hub with one command each:
// public without signing in, private after `modelscope login`.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { REPO_ROOT, cleanEnv, deepcompressor, modelscope, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

let hub: TestHub;
before(async () => {
  hub = await startTestHub({
    models: { "qwen/Qwen-7B-Chat": { "config.json": "{}" }, "your-org/private-model-name": { "config.json": "{}" }, "black-forest-labs/FLUX.1-schnell": { "model_index.json": "{}" } },
    users: ["alice"],
    private: { "your-org/private-model-name": ["alice"] },
  });
});
after(() => hub.close());

/** Run from the repository, as the Python tool requires (configs in a subfolder of the working folder). */
const ex = (p: string) => path.join("examples", p);

test("examples: public LLM and diffusion configs resolve signed out, the private one after modelscope login", async () => {
  const env = cleanEnv(tempDir("dc-home-"), { MODELSCOPE_ENDPOINT: hub.url });
  const cwd = REPO_ROOT;
  for (const cfg of ["llm/qwen-7b-chat.yaml", "diffusion/flux-schnell.yaml"]) {
    const r = await deepcompressor(["fetch", ex(cfg)], { cwd, env });
    assert.equal(r.code, 0, `${cfg}: ${r.stderr}`);
    assert.ok(fs.statSync(r.stdout.trim()).isDirectory());
  }
  const signedOut = await deepcompressor(["fetch", ex("llm/private-model.yaml")], { cwd, env });
  assert.equal(signedOut.code, 1);
  assert.match(signedOut.stderr, /modelscope login/);
  assert.equal((await modelscope(["login", "--token-stdin"], { env, input: hub.tokens.alice! })).code, 0);
  const signedIn = await deepcompressor(["fetch", ex("llm/private-model.yaml"), "--json"], { cwd, env });
  assert.equal(signedIn.code, 0, signedIn.stderr);
  const section = JSON.parse(signedIn.stdout).sections[0];
  assert.equal(section.modelId, "your-org/private-model-name");
});

test("examples: the __default__.yaml beside them is merged in", async () => {
  const r = await deepcompressor(["config", "validate", "--json", "examples/llm/qwen-7b-chat.yaml"], { cwd: REPO_ROOT, env: cleanEnv(tempDir()) });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.files.map((f: string) => path.relative(REPO_ROOT, f)), [path.join("examples", "llm", "__default__.yaml"), path.join("examples", "llm", "qwen-7b-chat.yaml")]);
});
