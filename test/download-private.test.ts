// Private models: downloadable signed in as a member, a 404 with the right fix signed out or as a
// non-member (as the real hub hides them), and the token never in any output (runCli checks every run).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { bytes, cleanEnv, hubStats, modelscope, sha256, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

const WEIGHTS = bytes(300 * 1024, 51);
let hub: TestHub;
before(async () => {
  hub = await startTestHub({
    models: { "acme/secret": { "config.json": "{}", "w.bin": WEIGHTS } },
    users: ["alice", "bob"],
    private: { "acme/secret": ["alice"] },
    testFaults: true,
    redirectThresholdBytes: 100 * 1024,
  });
});
after(() => hub.close());

const env = (home: string, extra: Record<string, string> = {}) => cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, MODELSCOPE_MAX_BACKOFF: "0.05", ...extra });

describe("private models", () => {
  test("a member signed in with `modelscope login` downloads it; the CDN never sees the token", async () => {
    const home = tempDir();
    const login = await modelscope(["login", "--token-stdin"], { env: env(home), input: hub.tokens.alice });
    assert.equal(login.code, 0, login.stderr);
    const r = await modelscope(["download", "acme/secret"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(fs.readFileSync(path.join(r.stdout.trim(), "w.bin"))), sha256(WEIGHTS));
    const cdn = (await hubStats(hub)).requests.filter((q) => q.path.startsWith("/__cdn__/"));
    assert.ok(cdn.length > 0 && cdn.every((q) => !q.credentials));
  });

  test("a member via MODELSCOPE_API_TOKEN downloads it", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "acme/secret", "config.json"], { env: env(home, { MODELSCOPE_API_TOKEN: hub.tokens.alice! }) });
    assert.equal(r.code, 0, r.stderr);
  });

  test("signed out: not found, and the fix says to sign in", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "acme/secret"], { env: env(home) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Not found: acme\/secret/);
    assert.match(r.stderr, /modelscope login/);
    assert.ok(!fs.existsSync(path.join(home, ".cache", "modelscope", "models", "acme--secret")));
  });

  test("a non-member: not found, and the fix says to ask the owner", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "acme/secret"], { env: env(home, { MODELSCOPE_API_TOKEN: hub.tokens.bob! }) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Not found: acme\/secret/);
    assert.match(r.stderr, /ask its owner/);
  });

  test("a bad token: Invalid token, nothing printed that contains it", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "acme/secret", "--token", "ms-not-a-real-token-123456"], { env: env(home) });
    assert.equal(r.code, 1);
    assert.ok(!(r.stdout + r.stderr).includes("ms-not-a-real-token-123456"));
  });
});
