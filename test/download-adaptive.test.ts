// The adaptive split: a big file starts as one stream and, when that connection is the bottleneck
// (here a throttled hub), goes on in parallel ranges from where it stood; where one stream
// keeps up it stays one stream. No timing is asserted: only which requests were made and the bytes.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { bytes, clearFaults, cleanEnv, hubStats, modelscope, setFaults, sha256, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

const BIG = bytes(3 * 1024 * 1024 + 5, 51);

let hub: TestHub;
before(async () => {
  hub = await startTestHub({ models: { "acme/adaptive": { "big.bin": BIG } }, testFaults: true, redirectThresholdBytes: 200 * 1024 });
});
after(() => hub.close());
afterEach(() => clearFaults(hub));

function env(home: string) {
  return cleanEnv(home, {
    MODELSCOPE_ENDPOINT: hub.url,
    MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB: "1",
    MODELSCOPE_DOWNLOAD_ADAPTIVE_MIN_MB: "1",
    MODELSCOPE_DOWNLOAD_HASH_WORKER_MB: "1",
    MODELSCOPE_DOWNLOAD_PART_SIZE_MB: "0.25",
    MODELSCOPE_MAX_BACKOFF: "0.05",
  });
}

const snap = (home: string) => path.join(home, ".cache", "modelscope", "models", "acme--adaptive", "snapshots", "master");

describe("adaptive split", () => {
  test("a network-bound stream splits into ranges, keeping every byte it landed", async () => {
    const home = tempDir();
    await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 2 * 1024 * 1024 }]);
    const r = await modelscope(["download", "acme/adaptive"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(fs.readFileSync(path.join(snap(home), "big.bin"))), sha256(BIG));
    const stats = await hubStats(hub);
    const gets = stats.requests.filter((q) => q.filePath === "big.bin" && q.method === "GET");
    const ranged = gets.filter((q) => q.range);
    assert.ok(gets.some((q) => !q.range), `the first request is a plain stream: ${JSON.stringify(gets)}`);
    assert.ok(ranged.length >= 2, `went on in ranges: ${JSON.stringify(gets)}`);
    assert.ok(!ranged.some((q) => q.range === "bytes=0-262143"), "re-fetched the start it already had");
    // Only what was in flight when the first connection was dropped can be sent twice.
    const sent = stats.bytesSent["big.bin"]!;
    assert.ok(sent >= BIG.length && sent <= BIG.length + 256 * 1024, `sent ${sent} bytes for ${BIG.length}`);
    assert.deepEqual(fs.readdirSync(snap(home)).filter((n) => n !== "big.bin"), []);
  });

  test("a stream that is not network-bound is never split (splitting disabled by one range worker, too)", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "acme/adaptive"], { env: { ...env(home), MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS: "1" } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(fs.readFileSync(path.join(snap(home), "big.bin"))), sha256(BIG));
    const gets = (await hubStats(hub)).requests.filter((q) => q.filePath === "big.bin" && q.method === "GET");
    assert.ok(gets.every((q) => !q.range), JSON.stringify(gets));
  });
});
