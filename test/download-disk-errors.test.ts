// A full disk is not a network problem. The real CLI runs in its own mount namespace with a 4 KiB tmpfs
// over the snapshot folder (every file write there fails with ENOSPC), so it meets a full disk: it says so
// in one line with the fix, does not retry, leaves nothing at the final path, and stops taking new files.
// (A symlink to /dev/full at the temp name no longer works: links there are refused, see download-symlinks.)
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { MODELSCOPE_BIN, assertNoSecrets, bytes, clearFaults, cleanEnv, hubStats, startTestHub, tempDir, type CliResult, type TestHub } from "./helpers/hub.js";

const SMALL = bytes(100 * 1024 + 3, 61); // inline sink
const MID = bytes(600 * 1024 + 7, 62); // worker ring, direct transport
const SHARDS: Record<string, Buffer> = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`s-${i}.bin`, bytes(20 * 1024 + i, 70 + i)]));
const MOUNT_FULL = 'mount -t tmpfs -o size=4k tmpfs "$1" && shift && exec "$@"';
/** Unprivileged mount namespaces (unshare -rm) are allowed here. */
const canMount = (() => {
  const d = tempDir();
  const ok = spawnSync("unshare", ["-rm", "sh", "-c", MOUNT_FULL, "sh", d, "true"]).status === 0;
  fs.rmSync(d, { recursive: true, force: true });
  return ok;
})();

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

/** Runs `modelscope args` with a full 4 KiB file system over the snapshot folder of `id`. */
function modelscopeOnFullDisk(home: string, id: string, args: string[], e: Record<string, string>): Promise<CliResult> {
  const dir = snap(home, id);
  fs.mkdirSync(dir, { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn("unshare", ["-rm", "sh", "-c", MOUNT_FULL, "sh", dir, process.execPath, MODELSCOPE_BIN, ...args], { env: e, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      assertNoSecrets(stdout + stderr, `modelscope ${args.join(" ")}`);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe("a full disk", { skip: !canMount && "no unprivileged mount namespaces here (unshare -rm)" }, () => {
  for (const file of ["small.bin", "mid.bin"]) {
    test(`${file}: one line naming the file and the fix, no retry, nothing at the final path`, async () => {
      const home = tempDir();
      const r = await modelscopeOnFullDisk(home, "acme/disk", ["download", "acme/disk", file], env(home));
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
    const r = await modelscopeOnFullDisk(home, "acme/disk", ["download", "acme/disk", "small.bin"], env(home, { LANG: "zh_CN.UTF-8" }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^错误：无法写入 .*small\.bin：磁盘空间不足$/m);
    assert.match(r.stderr, /^ {2}解决：请释放磁盘空间/m);
  });

  test("a whole model stops taking new files after the disk is full", async () => {
    const home = tempDir();
    const r = await modelscopeOnFullDisk(home, "acme/shards", ["download", "acme/shards", "--max-workers", "1"], env(home));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no space left on the device/);
    const fetched = new Set((await hubStats(hub)).requests.filter((q) => q.method === "GET" && q.filePath?.startsWith("s-")).map((q) => q.filePath));
    assert.equal(fetched.size, 1, `went on with other files: ${[...fetched].join(", ")}`);
  });
});
