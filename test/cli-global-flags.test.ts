// The official CLI's global flags: `modelscope --endpoint URL --token T COMMAND ...` (before the command),
// as its notes and scripts write them, mean the same here as the command's own flags.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanEnv, modelscope, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

let hub: TestHub;
before(async () => {
  hub = await startTestHub({
    models: { "acme/secret": { "config.json": '{"a":1}' } },
    datasets: { "acme/calib": { "data.jsonl": '{"text":"x"}\n' } },
    users: ["alice"],
    private: { "acme/secret": ["alice"] },
  });
});
after(() => hub.close());

// MODELSCOPE_ENDPOINT names a port where nothing listens: only the global flag names the hub (it wins, as
// the official CLI's flag does over the variable).
const DEAD = "http://127.0.0.1:9";
const env = (home: string) => cleanEnv(home, { MODELSCOPE_ENDPOINT: DEAD, MODELSCOPE_MAX_BACKOFF: "0.05" });

describe("global --token and --endpoint before the command (official spelling)", () => {
  test("`modelscope --endpoint URL --token T download --model ID` downloads a private model", async () => {
    const home = tempDir();
    const out = path.join(tempDir(), "out");
    const r = await modelscope(["--endpoint", hub.url, "--token", hub.tokens.alice!, "download", "--model", "acme/secret", "--local_dir", out], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(out, "config.json"), "utf8"), '{"a":1}');
  });

  test("`--endpoint=URL` form, a dataset", async () => {
    const home = tempDir();
    const r = await modelscope([`--endpoint=${hub.url}`, "download", "--dataset", "acme/calib", "--json"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).repoType, "dataset");
  });

  test("`modelscope --token T whoami` names the user; the token itself is never printed", async () => {
    const home = tempDir();
    const r = await modelscope(["--endpoint", hub.url, "--token", hub.tokens.alice!, "whoami"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /alice/);
  });

  test("a command without the flag of its own still gets the hub (`modelscope --endpoint URL auth status`)", async () => {
    const home = tempDir();
    const r = await modelscope(["--endpoint", hub.url, "auth", "status", "--json"], { env: { ...env(home), MODELSCOPE_API_TOKEN: hub.tokens.alice! } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).endpoint, hub.url);
  });

  test("without the global flag the same command goes to MODELSCOPE_ENDPOINT (so the flag is what made it work)", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "--model", "acme/secret", "--dry-run"], { env: env(home) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Connection/);
  });
});
