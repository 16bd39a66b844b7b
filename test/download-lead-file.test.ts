// The biggest file of a download goes first, alone: the other files start once its bytes flow (and,
// on a stream that may split, once its first split verdict is in), so their start-up (loading the
// HTTP client, their own requests) is not on the way to its first byte (bench/ scenario 1).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { bytes, cleanEnv, clearFaults, hubStats, modelscope, sha256, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

const BIG = bytes(3 * 1024 * 1024 + 5, 71);
const SMALL = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`small-${i}.json`, bytes(1000 + i, 72 + i)]));

let hub: TestHub;
before(async () => {
  hub = await startTestHub({ models: { "acme/lead": { ...SMALL, "weights.bin": BIG } }, testFaults: true });
});
after(() => hub.close());

describe("the lead file", () => {
  for (const [how, extra] of [
    ["one stream", { MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS: "1" }],
    ["parallel ranges", { MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB: "2", MODELSCOPE_DOWNLOAD_PART_SIZE_MB: "1" }],
  ] as const) {
    test(`${how}: the biggest file's request reaches the hub before any other file's`, async () => {
      const home = tempDir();
      await clearFaults(hub);
      const env = cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, MODELSCOPE_DOWNLOAD_HASH_WORKER_MB: "0.5", MODELSCOPE_DOWNLOAD_PREALLOCATE_MB: "1", ...extra });
      const r = await modelscope(["download", "acme/lead"], { env });
      assert.equal(r.code, 0, r.stderr);
      const order = (await hubStats(hub)).requests.filter((q) => q.filePath).map((q) => q.filePath);
      assert.equal(order[0], "weights.bin", order.join(" "));
      assert.equal(order.length > Object.keys(SMALL).length, true, order.join(" "));
      const folder = r.stdout.trim();
      assert.equal(sha256(fs.readFileSync(path.join(folder, "weights.bin"))), sha256(BIG));
      for (const [name, data] of Object.entries(SMALL)) assert.equal(sha256(fs.readFileSync(path.join(folder, name))), sha256(data));
    });
  }
});
