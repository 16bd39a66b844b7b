// The README's first command must keep working: the demo runs the whole story and checks every exit code.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { REPO_ROOT, assertNoSecrets, tempDir } from "./helpers/hub.js";

test("the demo runs the whole story against the local hub and never shows the token", async () => {
  const home = tempDir("dc-demo-home-");
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, "dist", "demo", "demo.js")], {
      env: { PATH: process.env.PATH ?? "", HOME: home, LANG: "C.UTF-8" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (c) => resolve({ code: c, out }));
  });
  assert.equal(code, 0, out);
  assert.match(out, /Error: Invalid token/);
  assert.match(out, /Logged in as alice\./);
  assert.match(out, /Not found: your-org\/private-model-name/);
  // The demo mints its own token; none of the output may contain a full ms- token.
  assert.doesNotMatch(out, /ms-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
  assertNoSecrets(out, "demo");
  // The last lines point at commands that still run once the demo's hub and files are gone.
  const next = out.trimEnd().split("\n").slice(-2).map((l) => /^ {2}(node \S+ [^ ]+(?: [^ ]+)?)\s{2,}/.exec(l)?.[1]);
  assert.equal(next.length, 2);
  for (const cmd of next) {
    assert.ok(cmd, out.trimEnd().split("\n").slice(-3).join("\n"));
    const [, script, ...args] = cmd.split(" ");
    const r = spawnSync(process.execPath, [path.resolve(REPO_ROOT, script!), ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? "", HOME: home, LANG: "C.UTF-8" }, encoding: "utf8" });
    assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
  }
});
