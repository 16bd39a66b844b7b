// What `npm pack` makes from a fresh clone, and what the test suite leaves behind (issue 10, 18 and 19).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { REPO_ROOT, tempDir } from "./helpers/hub.js";

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));

test("a fresh clone's npm pack builds dist/ (prepack) and ships LICENSE, no source maps, every bin", () => {
  // A fresh clone: the tracked files only (no dist/), with this checkout's node_modules for the build.
  const clone = tempDir("dc-clone-");
  const tracked = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: REPO_ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
  for (const f of tracked) {
    if (!fs.existsSync(path.join(REPO_ROOT, f))) continue;
    fs.mkdirSync(path.dirname(path.join(clone, f)), { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, f), path.join(clone, f));
  }
  assert.ok(!fs.existsSync(path.join(clone, "dist")));
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(clone, "node_modules"));
  const r = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts=false"], { cwd: clone, encoding: "utf8", env: { ...process.env, npm_config_loglevel: "error" } });
  assert.equal(r.status, 0, r.stderr);
  const files: string[] = JSON.parse(r.stdout)[0].files.map((f: { path: string }) => f.path);
  for (const bin of Object.values(pkg.bin as Record<string, string>)) assert.ok(files.includes(bin.replace(/^\.\//, "")), `bin ${bin} is in the package`);
  assert.ok(files.includes("dist/index.js") && files.includes("dist/index.d.ts"));
  assert.ok(files.includes("LICENSE"));
  assert.deepEqual(files.filter((f) => f.endsWith(".map")), [], "no .map files pointing at sources that are not shipped");
  assert.ok(!files.some((f) => f.startsWith("src/") || f.startsWith("test/")));
});

test("package.json: Apache-2.0 with its LICENSE text, require() and import both resolve", () => {
  assert.equal(pkg.license, "Apache-2.0");
  const license = fs.readFileSync(path.join(REPO_ROOT, "LICENSE"), "utf8");
  assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
  assert.match(license, /END OF TERMS AND CONDITIONS/);
  assert.match(pkg.scripts.prepack, /npm run build/);
  // The package by its own name (self-reference through "exports"), as a user's code would load it.
  const cjs = spawnSync(process.execPath, ["-e", "const m = require('deepcompressor'); process.stdout.write(typeof m.HubApi)"], { cwd: REPO_ROOT, encoding: "utf8" });
  assert.equal(cjs.stdout, "function", cjs.stderr);
  const esm = spawnSync(process.execPath, ["--input-type=module", "-e", "const m = await import('deepcompressor'); process.stdout.write(typeof m.HubApi)"], { cwd: REPO_ROOT, encoding: "utf8" });
  assert.equal(esm.stdout, "function", esm.stderr);
});

test("temp folders made with tempDir() are gone when a test file ends, passing or failing, read-only parts included", () => {
  const tmp = tempDir("dc-tmproot-");
  const probe = path.join(tmp, "probe.test.ts");
  const helpers = path.join(REPO_ROOT, "test", "helpers", "hub.ts");
  fs.writeFileSync(
    probe,
    `import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { tempDir } from ${JSON.stringify(helpers)};
test("makes folders", () => {
  const a = tempDir();
  fs.mkdirSync(path.join(a, "ro", "deep"), { recursive: true });
  fs.writeFileSync(path.join(a, "ro", "deep", "f"), "x");
  fs.chmodSync(path.join(a, "ro"), 0o500);
  tempDir("dc-hub-");
});
test("fails", () => {
  tempDir();
  throw new Error("on purpose");
});
`,
  );
  const scratch = path.join(tmp, "scratch");
  fs.mkdirSync(scratch);
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: scratch };
  delete env.NODE_TEST_CONTEXT; // a test runner of its own, not a child reporting to ours
  const r = spawnSync(process.execPath, ["--import", "tsx", "--test", probe], { cwd: REPO_ROOT, encoding: "utf8", env });
  assert.notEqual(r.status, 0, "the probe has a failing test");
  assert.match(r.stdout, /on purpose/);
  // tsx keeps one compile cache there (tsx-<uid>), reused by every run: not a leftover of the tests.
  assert.deepEqual(fs.readdirSync(scratch).filter((n) => !/^tsx-\d+$/.test(n)), [], "nothing left in the temp folder");
});
