// Issue 10 item 17: `cache verify` on a corrupt file says what is wrong and how to fix it (the fix it
// shows works), and `cache verify --repair` downloads the bad files again.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { bytes, cleanEnv, modelscope, sha256, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

const X = bytes(5000, 1);
let hub: TestHub;
// Removed when this file's process ends (test/helpers/hub.ts).
const dir = () => tempDir("dc-verify-");

before(async () => {
  hub = await startTestHub({ models: { "acme/a": { "x.bin": X, "c.json": "{}" } } });
});
after(async () => {
  await hub.close();
});

const env = (home: string, extra: Record<string, string> = {}) => cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, ...extra });

/** A home whose cache (or `localDir`) holds acme/a, with x.bin's 11th byte flipped. */
async function corrupted(localDir?: string): Promise<{ home: string; file: string }> {
  const home = dir();
  const r = await modelscope(["download", "acme/a", ...(localDir ? ["--local-dir", localDir] : [])], { env: env(home) });
  assert.equal(r.code, 0, r.stderr);
  const file = path.join(r.stdout.trim(), "x.bin");
  const data = fs.readFileSync(file);
  data[10] = data[10]! ^ 1;
  fs.writeFileSync(file, data);
  return { home, file };
}

/** The command in a fix line's first backquotes, as argv after `modelscope`. */
function suggested(fix: string): string[] {
  const cmd = /`modelscope ([^`]+)`/.exec(fix)?.[1];
  assert.ok(cmd, `no command in the fix: ${fix}`);
  return cmd.split(" ");
}

describe("cache verify on a corrupt file", () => {
  test("says which file, what is wrong, and a fix that works (not 'nothing corrupt was kept')", async () => {
    const { home, file } = await corrupted();
    const r = await modelscope(["cache", "verify", "acme/a"], { env: env(home) });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^MISMATCH {2}x\.bin$/m);
    const [line, fix] = r.stderr.trimEnd().split("\n");
    assert.equal(line, "Error: 1 cached file(s) do not match the hub: x.bin (sha256 differs from the hub's)");
    assert.doesNotMatch(r.stderr, /nothing corrupt/);
    assert.match(fix!, /^ {2}Fix: download them again with `modelscope download acme\/a x\.bin --force` \(or `modelscope cache verify acme\/a --repair`\), or drop the model with `modelscope cache rm acme\/a`$/);
    const again = await modelscope(suggested(fix!), { env: env(home) });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(sha256(fs.readFileSync(file)), sha256(X));
    assert.equal((await modelscope(["cache", "verify", "acme/a"], { env: env(home) })).code, 0);
  });

  test("a file of the wrong size says so", async () => {
    const { home, file } = await corrupted();
    fs.truncateSync(file, 100);
    const r = await modelscope(["cache", "verify", "acme/a"], { env: env(home) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: 1 cached file\(s\) do not match the hub: x\.bin \(100 bytes, the hub says 5000\)$/m);
  });

  test("--repair downloads the bad files again: exit 0, the file is right, verify passes", async () => {
    const { home, file } = await corrupted();
    const r = await modelscope(["cache", "verify", "acme/a", "--repair"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^REPAIRED {2}x\.bin$/m);
    assert.match(r.stdout, /Verified 2 file\(s\)/);
    assert.match(r.stderr, /^Downloaded 1 corrupt file\(s\) of 'acme\/a' again\.$/m);
    assert.equal(sha256(fs.readFileSync(file)), sha256(X));
    const again = await modelscope(["cache", "verify", "acme/a"], { env: env(home) });
    assert.equal(again.code, 0, again.stderr);
  });

  test("--local-dir: the fix names the folder (and no cache rm); in Chinese too", async () => {
    const out = path.join(dir(), "out");
    const { home } = await corrupted(out);
    const r = await modelscope(["cache", "verify", "acme/a", "--local-dir", out], { env: env(home) });
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`\`modelscope download acme/a --local-dir ${out} x.bin --force\``), r.stderr);
    assert.doesNotMatch(r.stderr, /cache rm/);
    const zh = await modelscope(["cache", "verify", "acme/a", "--local-dir", out], { env: env(home, { LANG: "zh_CN.UTF-8" }) });
    assert.match(zh.stderr, /^错误：1 个缓存文件与服务器不一致：x\.bin（sha256 与服务器的不一致）$/m);
    assert.match(zh.stderr, /^ {2}解决：用 `modelscope download acme\/a --local-dir .* x\.bin --force`/m);
    const fixed = await modelscope(["cache", "verify", "acme/a", "--local-dir", out, "--repair", "--json"], { env: env(home) });
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.deepEqual(JSON.parse(fixed.stdout).repaired, ["x.bin"]);
  });
});
