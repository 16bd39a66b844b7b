// A mirror's fill (a real `serve --upstream` process) asks upstream for its ranges in the order the clients
// read them: the first parts grow from a fraction of a part to a whole one (range-state.ts planParts,
// inOrderParts), so the streams, started together, land their first parts one after another in file
// order and the landed prefix the clients are sent moves on from the start. A plain download keeps the
// plan of equal parts (test/download-basic.test.ts).
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test } from "node:test";
import { planParts } from "../src/download/range-state.js";
import { bytes, hubStats, setFaults, sha256, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";
import { startServe, type ServeProcess } from "./helpers/serve-process.js";

const MiB = 1024 * 1024;
const DATA = bytes(24 * MiB + 4321, 31);
const SETTINGS = { partSizeBytes: 2 * MiB, rangeWorkers: 6 };
let upstream: TestHub;
let mirror: ServeProcess;

before(async () => {
  upstream = await startTestHub({ testFaults: true, models: { "acme/ordered": { "w.bin": DATA } } });
  // A per-connection cap: a second connection adds throughput, so the fill splits into ranges.
  await setFaults(upstream, [{ kind: "throttle", bytesPerSecond: 4 * MiB }]);
  mirror = await startServe(["--root", path.join(tempDir("dc-mirror-order-"), "root"), "--upstream", upstream.url, "--access-log", "off"], {
    MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB: "1",
    MODELSCOPE_DOWNLOAD_ADAPTIVE_MIN_MB: "1",
    MODELSCOPE_DOWNLOAD_HASH_WORKER_MB: "1",
    MODELSCOPE_DOWNLOAD_PART_SIZE_MB: "2",
    MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS: "6",
  });
});

after(async () => {
  await mirror?.stop();
  await upstream?.close();
});

test("a mirror's fill asks for parts that grow by a sixth of a part (6 streams), every byte right", async () => {
  const res = await fetch(`${mirror.url}/api/v1/models/acme/ordered/repo?Revision=master&FilePath=w.bin`);
  assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(DATA));
  const inOrder = planParts(DATA.length, { ...SETTINGS, inOrderParts: true });
  const ends = new Set([...inOrder.slice(1), DATA.length]);
  const ranges = (await hubStats(upstream)).requests
    .filter((r) => r.filePath === "w.bin" && r.method === "GET" && r.range)
    .map((r) => /^bytes=(\d+)-(\d+)$/.exec(r.range!)!.slice(1).map(Number) as [number, number])
    // The first is the split probe's (split-probe.ts: a second connection further on, its bytes dropped).
    .slice(1);
  assert.ok(ranges.length > 1, "the fill went on in ranges");
  for (const [, last] of ranges) assert.ok(ends.has(last + 1), `a range ending at ${last + 1}, not at an in-order part's end (${[...ends].join(",")})`);
  // The streams' first parts are the growing ones (the carried single stream holds the part where it stood).
  const growing = new Set(inOrder.slice(1, SETTINGS.rangeWorkers));
  assert.ok(ranges.some(([, last]) => growing.has(last + 1)), `no growing part asked: ${JSON.stringify(ranges)}`);
  // Not the plan of a plain download (equal parts from the start).
  assert.notDeepEqual(inOrder, planParts(DATA.length, SETTINGS));
});
