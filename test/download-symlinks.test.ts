// Issue 10 item 8: a link planted at a temp or partial file's name, in a shared cache or a --local-dir,
// is never written through: not followed to overwrite, truncate, grow or create what it points to.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { bytes, cleanEnv, modelscope, sha256, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

const SMALL = bytes(40 * 1024, 3);
const BIG = bytes(600 * 1024 + 5, 4);
const VICTIM_TEXT = "the victim's own bytes\n".repeat(4000); // bigger than SMALL: the old code truncated it

let hub: TestHub;
// Removed when this file's process ends (test/helpers/hub.ts).
const dir = () => tempDir("dc-symlink-");

before(async () => {
  hub = await startTestHub({ models: { "acme/m": { "small.bin": SMALL, "big.bin": BIG, "weights/model.bin": SMALL } } });
});
after(async () => {
  await hub.close();
});

function env(home: string) {
  return cleanEnv(home, {
    MODELSCOPE_ENDPOINT: hub.url,
    MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB: "0.25",
    MODELSCOPE_DOWNLOAD_PART_SIZE_MB: "0.125",
    MODELSCOPE_MAX_BACKOFF: "0.05",
  });
}

function snapshot(home: string): string {
  return path.join(home, ".cache", "modelscope", "models", "acme--m", "snapshots", "master");
}

/** A file outside the download folder that a planted link points at. */
function victim(): string {
  const file = path.join(dir(), "victim.txt");
  fs.writeFileSync(file, VICTIM_TEXT);
  return file;
}

describe("links planted at temp names are never written through", () => {
  for (const [where, suffix, file] of [
    ["cache", ".incomplete", "small.bin"],
    ["cache", ".parallel_tmp", "big.bin"],
    ["local-dir", ".incomplete", "small.bin"],
    ["local-dir", ".parallel_tmp", "big.bin"],
  ] as const) {
    test(`${where}: a symlink at <file>${suffix} leaves its target alone and is refused in one line`, async () => {
      const home = dir();
      const local = path.join(dir(), "out");
      const folder = where === "cache" ? snapshot(home) : local;
      fs.mkdirSync(folder, { recursive: true });
      const target = victim();
      fs.symlinkSync(target, path.join(folder, file + suffix));
      const args = ["download", "acme/m", file, ...(where === "local-dir" ? ["--local-dir", local] : [])];
      const r = await modelscope(args, { env: env(home) });
      assert.equal(fs.readFileSync(target, "utf8"), VICTIM_TEXT, "the link's target was written through");
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^Error: Refused to write through .+ it is a symbolic link, not a file this tool made$/m);
      assert.match(r.stderr, /^ {2}Fix: remove it/m);
      assert.equal(r.stderr.trim().split("\n").length, 2, r.stderr);
      assert.ok(!fs.existsSync(path.join(folder, file)), "nothing unverified at the final path");
    });
  }

  test("a folder of the file's path that is a symlink is not written through", async () => {
    const home = dir();
    const elsewhere = dir();
    fs.writeFileSync(path.join(elsewhere, "model.bin"), VICTIM_TEXT);
    fs.mkdirSync(snapshot(home), { recursive: true });
    fs.symlinkSync(elsewhere, path.join(snapshot(home), "weights"));
    const r = await modelscope(["download", "acme/m", "weights/model.bin"], { env: env(home) });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^Error: Refused to write through .*weights: it is a symbolic link/m);
    assert.deepEqual(fs.readdirSync(elsewhere), ["model.bin"]);
    assert.equal(fs.readFileSync(path.join(elsewhere, "model.bin"), "utf8"), VICTIM_TEXT);
  });

  test("a dangling symlink at <file>.incomplete does not create the file it names", async () => {
    const home = dir();
    fs.mkdirSync(snapshot(home), { recursive: true });
    const target = path.join(dir(), "created-by-us.txt");
    fs.symlinkSync(target, path.join(snapshot(home), "small.bin.incomplete"));
    const r = await modelscope(["download", "acme/m", "small.bin"], { env: env(home) });
    assert.equal(r.code, 1, r.stderr);
    assert.ok(!fs.existsSync(target), "the download created the link's target");
  });

  test("a hard link at <file>.incomplete to someone's file is not grown: the download starts afresh and succeeds", async () => {
    const home = dir();
    fs.mkdirSync(snapshot(home), { recursive: true });
    const target = path.join(dir(), "victim.bin");
    fs.writeFileSync(target, SMALL.subarray(0, 1000)); // a plausible prefix: the old code resumed into it
    fs.linkSync(target, path.join(snapshot(home), "small.bin.incomplete"));
    const r = await modelscope(["download", "acme/m", "small.bin"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.statSync(target).size, 1000, "the hard-linked file was grown");
    assert.equal(sha256(fs.readFileSync(path.join(snapshot(home), "small.bin"))), sha256(SMALL));
  });

  test("a symlink at the range state file (<file>.parallel_tmp.incomplete) to /dev/zero neither hangs nor crashes", async () => {
    const home = dir();
    fs.mkdirSync(snapshot(home), { recursive: true });
    fs.symlinkSync("/dev/zero", path.join(snapshot(home), "big.bin.parallel_tmp.incomplete"));
    const r = await modelscope(["download", "acme/m", "big.bin"], { env: env(home), timeoutMs: 30_000 });
    assert.equal(r.signal, null, "the download hung until the safety net killed it");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(fs.readFileSync(path.join(snapshot(home), "big.bin"))), sha256(BIG));
  });
});
