// The adaptive split: a big file starts as one stream and, when a second connection adds throughput
// (here a throttled hub), goes on in parallel ranges from where it stood, its first connection going on
// as one of them; where one stream keeps up it stays one stream. No timing is asserted: only which requests were made and the bytes.
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
    // The first connection is not dropped (it goes on as a range stream): only the probe's bytes, which
    // measured a second connection, are sent twice.
    const probe = ranged[0]; // the first ranged request: the probe
    const [, a, b] = /^bytes=(\d+)-(\d+)$/.exec(probe?.range ?? "") ?? [];
    const sent = stats.bytesSent["big.bin"]!;
    assert.ok(sent >= BIG.length && sent <= BIG.length + (Number(b) - Number(a) + 1), `sent ${sent} bytes for ${BIG.length}; probe ${probe?.range}; ${JSON.stringify(gets.map((q) => q.range))}`);
    assert.deepEqual(fs.readdirSync(snap(home)).filter((n) => n !== "big.bin"), []);
  });

  test("a stream a second connection does not speed up (one cap for all connections, as when the CPU is the limit) is never split", async () => {
    const home = tempDir();
    await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 2 * 1024 * 1024, shared: true }]);
    const r = await modelscope(["download", "acme/adaptive"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(fs.readFileSync(path.join(snap(home), "big.bin"))), sha256(BIG));
    const gets = (await hubStats(hub)).requests.filter((q) => q.filePath === "big.bin" && q.method === "GET");
    const ranged = gets.filter((q) => q.range);
    // Probes (at most 3) measured a second connection; it added nothing, so the first stream went on alone.
    assert.ok(ranged.length >= 1 && ranged.length <= 3, JSON.stringify(gets));
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
