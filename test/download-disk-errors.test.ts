// A full disk is not a network problem. The download's temp file is made a symlink to /dev/full (every
// write fails with ENOSPC), so the real CLI meets a full disk: it says so in one line with the fix, does
// not retry, leaves nothing at the final path, and stops taking new files.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { bytes, clearFaults, cleanEnv, hubStats, modelscope, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

const SMALL = bytes(100 * 1024 + 3, 61); // inline sink
const MID = bytes(600 * 1024 + 7, 62); // worker ring, direct transport
const SHARDS: Record<string, Buffer> = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`s-${i}.bin`, bytes(20 * 1024 + i, 70 + i)]));
const haveDevFull = fs.existsSync("/dev/full");

let hub: TestHub;
before(async () => {
  hub = await startTestHub({ models: { "acme/disk": { "small.bin": SMALL, "mid.bin": MID }, "acme/shards": SHARDS }, testFaults: true });
});
after(() => hub.close());
afterEach(() => clearFaults(hub));

function env(home: string, extra: Record<string, string> = {}) {
  return cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, MODELSCOPE_DOWNLOAD_HASH_WORKER_MB: "0.5", MODELSCOPE_MAX_BACKOFF: "0.05", ...extra });
}

const snap = (home: string, id: string) => path.join(home, ".cache", "modelscope", "models", id.replace("/", "--"), "snapshots", "master");

/** Makes `<file>.incomplete` a symlink to /dev/full: the download's writes then fail with ENOSPC. */
function fullDiskFor(home: string, id: string, file: string): void {
  const dir = snap(home, id);
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync("/dev/full", path.join(dir, `${file}.incomplete`));
}

describe("a full disk", { skip: !haveDevFull && "no /dev/full here" }, () => {
  for (const file of ["small.bin", "mid.bin"]) {
    test(`${file}: one line naming the file and the fix, no retry, nothing at the final path`, async () => {
      const home = tempDir();
      fullDiskFor(home, "acme/disk", file);
      const r = await modelscope(["download", "acme/disk", file], { env: env(home) });
      assert.equal(r.code, 1, r.stderr);
      const final = path.join(snap(home, "acme/disk"), file);
      assert.match(r.stderr, new RegExp(`^Error: Could not write ${final.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: no space left on the device$`, "m"));
      assert.match(r.stderr, /^ {2}Fix: free some space, or download elsewhere with --cache-dir DIR/m);
      assert.doesNotMatch(r.stderr, /Connection|retry/i);
      assert.ok(!fs.existsSync(final), "something reached the final path");
      const gets = (await hubStats(hub)).requests.filter((q) => q.method === "GET" && q.filePath === file && q.path.startsWith("/__cdn__/") === false);
      assert.equal(gets.length, 1, `retried: ${JSON.stringify(gets)}`);
    });
  }

  test("in Chinese: 磁盘空间不足", async () => {
    const home = tempDir();
    fullDiskFor(home, "acme/disk", "small.bin");
    const r = await modelscope(["download", "acme/disk", "small.bin"], { env: env(home, { LANG: "zh_CN.UTF-8" }) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^错误：无法写入 .*small\.bin：磁盘空间不足$/m);
    assert.match(r.stderr, /^ {2}解决：请释放磁盘空间/m);
  });

  test("a whole model stops taking new files after the disk is full", async () => {
    const home = tempDir();
    for (const name of Object.keys(SHARDS)) fullDiskFor(home, "acme/shards", name);
    const r = await modelscope(["download", "acme/shards", "--max-workers", "1"], { env: env(home) });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no space left on the device/);
    const fetched = new Set((await hubStats(hub)).requests.filter((q) => q.method === "GET" && q.filePath?.startsWith("s-")).map((q) => q.filePath));
    assert.equal(fetched.size, 1, `went on with other files: ${[...fetched].join(", ")}`);
  });
});
