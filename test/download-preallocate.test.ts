// Disk space for a big file is reserved before its bytes arrive (util-linux `fallocate --keep-size`):
// the partial file keeps its size (a resume reads it as the offset) while its blocks are already held;
// a run that stops gives back what it did not use; a disk too full fails at once, in one line, before
// any byte is fetched; and without a usable `fallocate` the download goes on as before.
// The real `fallocate` is used where it exists; the full-disk and unsupported cases use a stand-in
// `fallocate` on PATH that fails the way util-linux's does (a real full disk cannot be made here).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { bytes, clearFaults, cleanEnv, hubStats, modelscope, setFaults, sha256, spawnModelscope, startTestHub, tempDir, waitFor, type TestHub } from "./helpers/hub.js";

const BIG = bytes(3 * 1024 * 1024 + 11, 91);
const SMALL = bytes(40 * 1024 + 3, 92);
const haveFallocate = process.platform === "linux" && spawnSync("fallocate", ["--help"], { stdio: "ignore" }).status === 0;

let hub: TestHub;
before(async () => {
  hub = await startTestHub({ models: { "acme/big": { "big.bin": BIG, "small.bin": SMALL } }, testFaults: true });
});
after(() => hub.close());
afterEach(() => clearFaults(hub));

function env(home: string, extra: Record<string, string> = {}) {
  return cleanEnv(home, {
    MODELSCOPE_ENDPOINT: hub.url,
    MODELSCOPE_DOWNLOAD_PREALLOCATE_MB: "1",
    MODELSCOPE_DOWNLOAD_HASH_WORKER_MB: "0.5",
    MODELSCOPE_DOWNLOAD_PART_SIZE_MB: "1",
    MODELSCOPE_MAX_BACKOFF: "0.05",
    ...extra,
  });
}

const snap = (home: string) => path.join(home, ".cache", "modelscope", "models", "acme--big", "snapshots", "master");
const st = (p: string) => fs.statSync(p, { throwIfNoEntry: false });

/** A `fallocate` that logs its arguments and fails with `message` (or succeeds when it is empty). */
function fakeFallocate(message: string): { bin: string; log: string } {
  const bin = tempDir("dc-fake-bin-");
  const log = path.join(bin, "calls.log");
  const fail = message ? `echo "fallocate: fallocate failed: ${message}" >&2; exit 1` : "exit 0";
  // It also records whether the caller's environment reached it (it must not: a token may be there).
  fs.writeFileSync(path.join(bin, "fallocate"), `#!/bin/sh\necho "$@" >> "${log}"\necho "token=$MODELSCOPE_API_TOKEN" >> "${log}.env"\n${fail}\n`, { mode: 0o755 });
  return { bin, log };
}

/** A one-stream download of big.bin, slowed down, once it has some bytes and its reservation. */
async function slowSingleStreamUnderWay() {
  const home = tempDir();
  const runEnv = env(home, { MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS: "1" });
  await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 256 * 1024 }]);
  const temp = path.join(snap(home), "big.bin.incomplete");
  const p = spawnModelscope(["download", "acme/big", "big.bin"], { env: runEnv });
  await waitFor(() => (st(temp)?.size ?? 0) >= 64 * 1024 && (st(temp)?.blocks ?? 0) * 512 >= BIG.length, "some bytes and the reservation");
  return { runEnv, temp, p };
}

describe("disk space reserved for big files", () => {
  for (const [how, extra] of [
    ["one stream", { MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS: "1" }],
    ["parallel ranges", { MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB: "2" }],
  ] as const) {
    test(`${how}: the partial file's blocks are held before its bytes arrive, and the bytes verify`, { skip: !haveFallocate && "no fallocate here" }, async () => {
      const home = tempDir();
      await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 512 * 1024 }]);
      const temp = path.join(snap(home), how === "one stream" ? "big.bin.incomplete" : "big.bin.parallel_tmp");
      const p = spawnModelscope(["download", "acme/big", "big.bin"], { env: env(home, extra) });
      // Mid-download: fewer bytes written than the file holds blocks for.
      await waitFor(() => (st(temp)?.blocks ?? 0) * 512 >= BIG.length, "the reservation");
      const during = st(temp)!;
      if (how === "one stream") assert.ok(during.size < BIG.length, `the partial file's size is its bytes so far, got ${during.size}`);
      await clearFaults(hub);
      const r = await p.done;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sha256(fs.readFileSync(r.stdout.trim())), sha256(BIG));
    });
  }

  test("Ctrl-C gives back the space reserved past the partial file's end, and the next run resumes", { skip: !haveFallocate && "no fallocate here" }, async () => {
    const { runEnv, temp, p } = await slowSingleStreamUnderWay();
    p.child.kill("SIGINT");
    assert.equal((await p.done).code, 130);
    const kept = st(temp)!;
    assert.ok(kept.size > 0 && kept.size < BIG.length);
    assert.ok(kept.blocks * 512 < kept.size + 1024 * 1024, `still holds ${kept.blocks * 512} bytes for ${kept.size}`);
    await clearFaults(hub);
    const again = await modelscope(["download", "acme/big", "big.bin"], { env: runEnv });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(sha256(fs.readFileSync(again.stdout.trim())), sha256(BIG));
    assert.equal((await hubStats(hub)).bytesSent["big.bin"], BIG.length - kept.size, "did not resume");
  });

  test("kill -9 keeps the reservation with the partial file; cache prune gives it all back and counts it", { skip: !haveFallocate && "no fallocate here" }, async () => {
    const { runEnv, temp, p } = await slowSingleStreamUnderWay();
    p.child.kill("SIGKILL");
    await p.done;
    const held = st(temp)!.blocks * 512;
    assert.ok(held >= BIG.length, `the reservation went with the process: ${held}`);
    const r = await modelscope(["cache", "prune", "--json"], { env: runEnv });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { partials: string[]; bytes: number };
    assert.ok(report.partials.includes(temp), r.stdout);
    assert.ok(report.bytes >= held, `reported ${report.bytes} freed for ${held} held`);
    assert.ok(!fs.existsSync(temp));
  });

  for (const [how, extra, temps] of [
    ["one stream", { MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS: "1" }, ["big.bin.incomplete"]],
    ["parallel ranges", { MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB: "2" }, ["big.bin.parallel_tmp", "big.bin.parallel_tmp.incomplete"]],
  ] as const) {
    test(`${how}: a disk too small for the file fails at once, in one line with the fix, having fetched nothing`, async () => {
      const home = tempDir();
      const fake = fakeFallocate("No space left on device");
      const r = await modelscope(["download", "acme/big", "big.bin"], { env: env(home, { ...extra, PATH: `${fake.bin}:${process.env.PATH}` }) });
      assert.equal(r.code, 1, r.stderr);
      const final = path.join(snap(home), "big.bin");
      assert.equal(r.stderr.trim().split("\n").length, 2, r.stderr);
      assert.match(r.stderr, /^Error: Could not write .*big\.bin: no space left on the device$/m);
      assert.match(r.stderr, /^ {2}Fix: free some space, or download elsewhere with --cache-dir DIR/m);
      assert.match(fs.readFileSync(fake.log, "utf8"), new RegExp(`^--keep-size --length ${BIG.length} ${snap(home)}/big\\.bin\\.`, "m"));
      assert.equal((await hubStats(hub)).bytesSent["big.bin"] ?? 0, 0, "bytes were fetched for a file that cannot fit");
      assert.ok(!fs.existsSync(final));
      for (const t of temps) assert.ok(!fs.existsSync(path.join(snap(home), t)), `${t} left behind`);
    });
  }

  test("a file system without fallocate: the download goes on as before; small files never ask; fallocate never sees the token", async () => {
    const home = tempDir();
    const fake = fakeFallocate("Operation not supported");
    const token = "ms-00000000-1111-2222-3333-444444444444";
    const r = await modelscope(["download", "acme/big"], { env: env(home, { MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS: "1", PATH: `${fake.bin}:${process.env.PATH}`, MODELSCOPE_API_TOKEN: token }) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(fs.readFileSync(path.join(snap(home), "big.bin"))), sha256(BIG));
    assert.equal(sha256(fs.readFileSync(path.join(snap(home), "small.bin"))), sha256(SMALL));
    const calls = fs.readFileSync(fake.log, "utf8").trim().split("\n");
    assert.deepEqual(calls, [`--keep-size --length ${BIG.length} ${path.join(snap(home), "big.bin.incomplete")}`]);
    assert.equal(fs.readFileSync(`${fake.log}.env`, "utf8").trim(), "token=", "the token reached fallocate's environment");
  });
});
