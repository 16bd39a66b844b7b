// Issue 10 item 11 and the alias bomb of item 16: a token hiding from the config check (in a URL's user
// part, a comment, a key, `!!binary`, an `Authorization: Bearer ...` string) is refused without being
// repeated, and `fetch --output` never writes one; a YAML alias bomb is one clear line, with bounded work.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { cleanEnv, deepcompressor, tempDir } from "./helpers/hub.js";

const TOKEN = "ms-0123abcd-4567-89ab-cdef-0123456789ab";
const OPAQUE = "Zx81kQ2vLp0aTq7RmNc4Ws9e"; // no token shape of its own: only where it sits gives it away

function tree(files: Record<string, string>): string {
  const cwd = tempDir("dc-sec-");
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(cwd, rel)), { recursive: true });
    fs.writeFileSync(path.join(cwd, rel), text);
  }
  return cwd;
}

const env = () => cleanEnv(tempDir("dc-home-"), { MODELSCOPE_ENDPOINT: "http://127.0.0.1:9" });
const BASE = "model:\n  name: qwen-7b\n  use_modelscope: false\n  path: x/y\n";

describe("credentials hiding in a config", () => {
  const cases: [string, string, string, RegExp][] = [
    ["a URL's user part", `data:\n  url: https://${TOKEN}@hub.example.com/repo.git\n`, TOKEN, /data\.url: the value looks like a token/],
    ["a URL with a password", `data:\n  url: https://user:${OPAQUE}@hub.example.com/x\n`, OPAQUE, /data\.url: the value looks like a token/],
    ["a comment", `data:\n  x: 1  # token: ${TOKEN}\n`, TOKEN, /:6:\d+: a comment looks like it holds a token/],
    ["a whole-line comment", `# MODELSCOPE_API_TOKEN=${TOKEN}\ndata: 1\n`, TOKEN, /:5:1: a comment looks like it holds a token/],
    ["a key", `data:\n  ${TOKEN}: 1\n`, TOKEN, /a key looks like a token/],
    ["!!binary", `data:\n  blob: !!binary ${Buffer.from(TOKEN).toString("base64")}\n`, Buffer.from(TOKEN).toString("base64"), /data\.blob: the value looks like a token/],
    ["an Authorization header", `data:\n  headers: "Authorization: Bearer ${OPAQUE}"\n`, OPAQUE, /data\.headers: the value looks like a token/],
    ["a header list", `data:\n  headers: ["Authorization: Bearer ${OPAQUE}"]\n`, OPAQUE, /a list item looks like a token/],
  ];
  for (const [what, extra, secret, re] of cases) {
    test(`${what}: refused without repeating it, and fetch --output writes nothing`, async () => {
      const cwd = tree({ "configs/a.yaml": BASE + extra });
      const v = await deepcompressor(["config", "validate", "configs/a.yaml"], { cwd, env: env() });
      assert.equal(v.code, 2, v.stderr);
      assert.match(v.stderr, re);
      assert.ok(!v.stderr.includes(secret) && !v.stdout.includes(secret), "never repeated");
      const f = await deepcompressor(["fetch", "configs/a.yaml", "--output", "resolved/a.yaml"], { cwd, env: env() });
      assert.equal(f.code, 2);
      assert.ok(!fs.existsSync(path.join(cwd, "resolved")), "no file written");
    });
  }

  test("what only looks near a token is fine (tokenizer keys, URLs without credentials, plain comments)", async () => {
    const cwd = tree({ "configs/a.yaml": `${BASE}  pad_token: "<pad>"\ndata:\n  url: https://hub.example.com/x  # see https://user@example.com\n  note: bearer of news\n` });
    const r = await deepcompressor(["config", "validate", "configs/a.yaml"], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
  });
});

describe("a YAML alias bomb", () => {
  test("one clear line naming the file and the fix, exit 2, and the work is bounded", async () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 12; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(",")}]`);
    const cwd = tree({ "configs/bomb.yaml": `${BASE}${levels.join("\n")}\n` });
    const r = await deepcompressor(["config", "validate", "configs/bomb.yaml"], { cwd, env: env() });
    assert.equal(r.code, 2);
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("Error: "));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0]!, /configs.bomb\.yaml:\d+:\d+: its aliases \(\*name\) expand to more than 100000 values, which looks like an alias bomb/);
    assert.doesNotMatch(r.stderr, /this is a bug/);
  });

  test("ordinary aliases and merge keys are fine", async () => {
    const cwd = tree({ "configs/a.yaml": `${BASE}base: &b {w: 4, g: [1, 128]}\nquant:\n  <<: *b\n  w: 8\nother: *b\n` });
    const r = await deepcompressor(["config", "validate", "configs/a.yaml"], { cwd, env: env() });
    assert.equal(r.code, 0, r.stderr);
  });
});
