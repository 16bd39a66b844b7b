// Partial files survive a change of settings: a run killed mid-download leaves a partial file (one
// stream's <file>.incomplete, or parallel ranges' <file>.parallel_tmp and its state), and the next run
// resumes it whatever its own settings say (one range worker, a threshold above the file size, ...),
// fetching no byte twice; a successful run leaves no temp file of that file behind.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { bytes, clearFaults, cleanEnv, hubStats, modelscope, setFaults, sha256, spawnModelscope, startTestHub, tempDir, waitFor, type TestHub } from "./helpers/hub.js";

const DATA = bytes(1024 * 1024 + 7, 61);
const FILE = "w.bin";

let hub: TestHub;
before(async () => {
  hub = await startTestHub({ models: { "acme/resume": { [FILE]: DATA } }, testFaults: true, redirectThresholdBytes: 200 * 1024 });
});
after(() => hub.close());
afterEach(() => clearFaults(hub));

/** Ranges from 0.9 MiB (parts of 0.25 MiB), no adaptive start: the file goes straight to ranges. */
const RANGES = { MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB: "0.9", MODELSCOPE_DOWNLOAD_PART_SIZE_MB: "0.25", MODELSCOPE_DOWNLOAD_ADAPTIVE_MIN_MB: "100" };
/**
 * Ranges over two connections only, for the runs to kill: at the throttle's 64 KiB/s per connection the
 * file then takes ~8 s, not ~1.4 s over twelve, so a kill meets the run well before its end even when the
 * range state (saved twice a second) shows up late on a loaded machine.
 */
const RANGES_TO_KILL = { ...RANGES, MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS: "2" };
/** One plain stream for this file. */
const SINGLE = { MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB: "100" };

function env(home: string, extra: Record<string, string>) {
  return cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, MODELSCOPE_MAX_BACKOFF: "0.05", ...extra });
}

const snap = (home: string) => path.join(home, ".cache", "modelscope", "models", "acme--resume", "snapshots", "master");
const stateFile = (home: string) => path.join(snap(home), `${FILE}.parallel_tmp.incomplete`);
const rangeBytes = (home: string) => {
  try {
    return (JSON.parse(fs.readFileSync(stateFile(home), "utf8")) as { done: number[] }).done.reduce((a, b) => a + b, 0);
  } catch {
    return 0;
  }
};
const singleBytes = (home: string) => fs.statSync(path.join(snap(home), `${FILE}.incomplete`), { throwIfNoEntry: false })?.size ?? 0;

/** Starts a slowed download with `settings` and kills it (-9) once `progress` shows `atLeast` bytes kept. */
async function killMidway(home: string, settings: Record<string, string>, progress: (home: string) => number, atLeast = 64 * 1024): Promise<number> {
  await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 64 * 1024 }]);
  const p = spawnModelscope(["download", "acme/resume", FILE], { env: env(home, settings) });
  await waitFor(() => progress(home) >= atLeast, "some bytes kept");
  p.child.kill("SIGKILL");
  await p.done;
  // The hub notices the closed connections a little later: let its byte count settle before resetting it.
  let last = -1;
  await waitFor(async () => {
    const now = (await hubStats(hub)).bytesSent[FILE] ?? 0;
    const settled = now === last;
    last = now;
    if (!settled) await new Promise((r) => setTimeout(r, 150));
    return settled;
  }, "the hub to stop sending");
  await clearFaults(hub);
  return progress(home);
}

/** Runs to completion with `settings`; checks the bytes, that no kept byte was fetched again, and no temp file is left. */
async function finish(home: string, settings: Record<string, string>, kept: number): Promise<void> {
  const r = await modelscope(["download", "acme/resume", FILE], { env: env(home, settings) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(sha256(fs.readFileSync(path.join(snap(home), FILE))), sha256(DATA));
  const sent = (await hubStats(hub)).bytesSent[FILE] ?? 0;
  assert.ok(sent <= DATA.length - kept, `fetched again bytes it had: sent ${sent}, kept ${kept} of ${DATA.length}`);
  assert.deepEqual(fs.readdirSync(snap(home)), [FILE], "temp files left behind");
}

describe("a partial file is resumed whatever the current settings say", () => {
  for (const [name, settings] of [
    ["one range worker", { ...RANGES, MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS: "1" }],
    ["a threshold above the file size", SINGLE],
  ] as const) {
    test(`ranges killed, then a run with ${name}: resumes the ranges, no temp file left`, async () => {
      const home = tempDir();
      const kept = await killMidway(home, RANGES_TO_KILL, rangeBytes);
      assert.ok(kept > 0 && kept < DATA.length);
      await finish(home, settings, kept);
    });
  }

  test("one stream killed, then a run that would use ranges: resumes the stream, no temp file left", async () => {
    const home = tempDir();
    const kept = await killMidway(home, SINGLE, singleBytes);
    assert.ok(kept > 0 && kept < DATA.length);
    await finish(home, RANGES, kept);
  });

  test("ranges -> one stream -> ranges: the ranges' partial file is resumed, and not left behind", async () => {
    const home = tempDir();
    const kept = await killMidway(home, RANGES_TO_KILL, rangeBytes);
    // The one-stream run resumes the ranges too (their state moves on); killed again, all it kept is range state.
    const more = await killMidway(home, { ...SINGLE, MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS: "2" }, rangeBytes, kept + 64 * 1024);
    assert.ok(more < DATA.length, `kept ${kept}, then ${more}`);
    assert.equal(singleBytes(home), 0, "started a second partial file");
    await finish(home, RANGES, more);
  });

  test("both kinds present (left by an older version): the one further on is resumed, the other removed", async () => {
    const home = tempDir();
    const dir = snap(home);
    fs.mkdirSync(dir, { recursive: true });
    // A one-stream partial file of 100 KiB and range state with 300 KiB done (first part 256 KiB + 44 KiB).
    fs.writeFileSync(path.join(dir, `${FILE}.incomplete`), DATA.subarray(0, 100 * 1024));
    const state = (await import("../src/download/range-state.js")).planParts(DATA.length, { partSizeBytes: 256 * 1024, rangeWorkers: 8 });
    const done = state.map((s, i) => (i === 0 ? Math.min(300 * 1024, (state[1] ?? DATA.length) - s) : 0));
    const temp = Buffer.alloc(DATA.length);
    DATA.copy(temp, 0, 0, done[0]);
    fs.writeFileSync(path.join(dir, `${FILE}.parallel_tmp`), temp);
    fs.writeFileSync(stateFile(home), JSON.stringify({ v: 2, size: DATA.length, sha256: sha256(DATA), starts: state, done }));
    await finish(home, SINGLE, done[0]!);
  });
});
