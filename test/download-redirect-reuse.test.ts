// One redirect per file: the hub's 302 to its signed CDN URL is followed once per file, and every range
// of that file goes straight to the signed URL (without the token) until the CDN refuses it; then the
// hub is asked again. The hub counts the requests it saw; no timing is asserted.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { bytes, clearFaults, cleanEnv, hubStats, modelscope, setFaults, sha256, spawnModelscope, startTestHub, tempDir, waitFor, type TestHub } from "./helpers/hub.js";

const BIG = bytes(2 * 1024 * 1024 + 9, 71);

let hub: TestHub;
before(async () => {
  hub = await startTestHub({ models: { "acme/cdn": { "big.bin": BIG } }, users: ["alice"], testFaults: true, redirectThresholdBytes: 100 * 1024 });
});
after(() => hub.close());
afterEach(() => clearFaults(hub));

/** Ranges straight away (no adaptive start), parts of 128 KiB: 16+ range requests for the file. */
function env(home: string, extra: Record<string, string> = {}) {
  return cleanEnv(home, {
    MODELSCOPE_ENDPOINT: hub.url,
    MODELSCOPE_API_TOKEN: hub.tokens.alice!,
    MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB: "1",
    MODELSCOPE_DOWNLOAD_ADAPTIVE_MIN_MB: "100",
    MODELSCOPE_DOWNLOAD_PART_SIZE_MB: "0.125",
    MODELSCOPE_MAX_BACKOFF: "0.05",
    ...extra,
  });
}

const snap = (home: string) => path.join(home, ".cache", "modelscope", "models", "acme--cdn", "snapshots", "master");

async function fileRequests() {
  const gets = (await hubStats(hub)).requests.filter((q) => q.method === "GET" && q.filePath === "big.bin");
  return { viaHub: gets.filter((q) => q.path.startsWith("/api/")), cdn: gets.filter((q) => q.path.startsWith("/__cdn__/")) };
}

describe("one redirect per file", () => {
  test("every range reuses the signed URL of the first redirect; the token never goes to the CDN", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "acme/cdn", "big.bin"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(fs.readFileSync(path.join(snap(home), "big.bin"))), sha256(BIG));
    const { viaHub, cdn } = await fileRequests();
    assert.ok(cdn.filter((q) => q.range).length >= 8, `ranges: ${cdn.length}`);
    assert.equal(viaHub.length, 1, `asked the hub ${viaHub.length} times for one file`);
    assert.ok(viaHub[0]!.credentials, "the hub got the token");
    assert.ok(cdn.every((q) => !q.credentials), "credentials reached the CDN");
  });

  test("a signed URL the CDN refuses (expired) sends the next request to the hub again, once", async () => {
    const home = tempDir();
    await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 1024 * 1024 }]);
    const p = spawnModelscope(["download", "acme/cdn", "big.bin"], { env: env(home, { MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS: "2" }) });
    // Once the first redirect was followed, the CDN refuses the signed URL once.
    await waitFor(async () => (await fileRequests()).cdn.length >= 1, "the first CDN request");
    await setFaults(hub, [{ kind: "status", status: 403, on: "cdn", path: "big.bin", times: 1 }]);
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(fs.readFileSync(path.join(snap(home), "big.bin"))), sha256(BIG));
    const { viaHub, cdn } = await fileRequests();
    assert.equal(viaHub.length, 2, `hub asked ${viaHub.length} times: ${JSON.stringify(viaHub)}`);
    assert.ok(cdn.length >= 8, `ranges: ${cdn.length}`);
    assert.ok(cdn.every((q) => !q.credentials), "credentials reached the CDN");
  });
});
