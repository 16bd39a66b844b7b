// Interrupted and concurrent downloads, with real processes: Ctrl-C and kill -9 mid-download leave
// partial data that the next run continues with Range requests (a killed run's lock never blocks it),
// and two or eight processes fetching one model at once all succeed without fetching any byte twice.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { bytes, bytesRead, clearFaults, cleanEnv, hubStats, modelscope, setFaults, sha256, spawnModelscope, startTestHub, tempDir, waitFor, type TestHub } from "./helpers/hub.js";

const SINGLE = bytes(400 * 1024 + 1, 31);
const PARALLEL = bytes(1024 * 1024 + 7, 32);
const BIG = bytes(24 * 1024 * 1024, 33);
const MANY: Record<string, Buffer> = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`shard-${i}.bin`, bytes(150 * 1024 + i, 40 + i)]));

let hub: TestHub;
before(async () => {
  hub = await startTestHub({ models: { "acme/slow": { "single.bin": SINGLE, "parallel.bin": PARALLEL }, "acme/big": { "big.bin": BIG }, "acme/many": { ...MANY, "big.bin": PARALLEL } }, testFaults: true, redirectThresholdBytes: 200 * 1024 });
});
after(() => hub.close());
afterEach(() => clearFaults(hub));

function env(home: string) {
  return cleanEnv(home, {
    MODELSCOPE_ENDPOINT: hub.url,
    MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB: "0.9",
    MODELSCOPE_DOWNLOAD_PART_SIZE_MB: "0.25",
    MODELSCOPE_MAX_BACKOFF: "0.05",
  });
}

const snap = (home: string, id: string) => path.join(home, ".cache", "modelscope", "models", id.replace("/", "--"), "snapshots", "master");
const size = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.size ?? 0;

describe("interrupted downloads resume", () => {
  // Twice: received through undici into the inline sink, and read straight into the worker ring.
  for (const [how, extra] of [
    ["undici, inline sink", {}],
    ["direct transport, worker ring", { MODELSCOPE_DOWNLOAD_HASH_WORKER_MB: "0.25" }],
  ] as const) {
    for (const signal of ["SIGINT", "SIGKILL"] as const) {
      test(`${signal === "SIGINT" ? "Ctrl-C" : "kill -9"} mid-file (${how}) keeps the partial file, and the next run continues from it`, async () => {
        const home = tempDir();
        const runEnv = { ...env(home), ...extra };
        await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 100 * 1024 }]);
        const partial = path.join(snap(home, "acme/slow"), "single.bin.incomplete");
        const p = spawnModelscope(["download", "acme/slow", "single.bin"], { env: runEnv });
        await waitFor(() => size(partial) >= 20 * 1024, "some bytes on disk");
        p.child.kill(signal);
        const r = await p.done;
        if (signal === "SIGINT") assert.equal(r.code, 130, r.stderr);
        const kept = size(partial);
        assert.ok(kept > 0 && kept < SINGLE.length);
        assert.ok(!fs.existsSync(path.join(snap(home, "acme/slow"), "single.bin")), "an unverified file reached its final path");
        await clearFaults(hub);
        const again = await modelscope(["download", "acme/slow", "single.bin"], { env: runEnv });
        assert.equal(again.code, 0, again.stderr);
        assert.equal(sha256(fs.readFileSync(again.stdout.trim())), sha256(SINGLE));
        const reqs = (await hubStats(hub)).requests.filter((q) => q.filePath === "single.bin");
        assert.ok(reqs.every((q) => q.range === `bytes=${kept}-`), `expected a resume from ${kept}: ${JSON.stringify(reqs)}`);
        assert.equal((await hubStats(hub)).bytesSent["single.bin"], SINGLE.length - kept);
        if ("MODELSCOPE_DOWNLOAD_HASH_WORKER_MB" in extra) assert.ok(reqs.every((q) => q.connection === "close"), "not the direct transport");
      });
    }
  }

  test("kill -9 during parallel ranges: the stale lock does not block, the next run resumes each range", async () => {
    const home = tempDir();
    await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 64 * 1024 }]);
    const state = path.join(snap(home, "acme/slow"), "parallel.bin.parallel_tmp.incomplete");
    const p = spawnModelscope(["download", "acme/slow", "parallel.bin"], { env: env(home) });
    const doneBytes = () => {
      try {
        return (JSON.parse(fs.readFileSync(state, "utf8")) as { done: number[] }).done.reduce((a, b) => a + b, 0);
      } catch {
        return 0;
      }
    };
    await waitFor(() => doneBytes() >= 64 * 1024, "recorded range progress");
    p.child.kill("SIGKILL");
    await p.done;
    const lockDir = path.join(home, ".cache", "modelscope", ".lock");
    assert.ok(fs.readdirSync(lockDir).some((n) => n.endsWith(".lock")), "the killed process left its lock");
    const kept = doneBytes();
    await clearFaults(hub);
    const again = await modelscope(["download", "acme/slow", "parallel.bin"], { env: env(home) });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(sha256(fs.readFileSync(again.stdout.trim())), sha256(PARALLEL));
    const sent = (await hubStats(hub)).bytesSent["parallel.bin"]!;
    assert.ok(sent <= PARALLEL.length - kept, `re-fetched bytes it had: sent ${sent}, kept ${kept}`);
    assert.deepEqual(fs.readdirSync(snap(home, "acme/slow")).filter((n) => n.includes("parallel_tmp")), []);
  });
});

describe("range state of an earlier version", () => {
  test("a state with parts of one size (v1) resumes: only the missing parts are fetched", async () => {
    const home = tempDir();
    const dir = snap(home, "acme/slow");
    fs.mkdirSync(dir, { recursive: true });
    const partSize = 256 * 1024;
    const parts = Math.ceil(PARALLEL.length / partSize);
    // Parts 0 and 2 done, part 1 half done, the rest not started.
    const done = Array.from({ length: parts }, (_, i) => (i === 0 || i === 2 ? partSize : i === 1 ? partSize / 2 : 0));
    const temp = Buffer.alloc(PARALLEL.length);
    for (let i = 0; i < parts; i++) PARALLEL.copy(temp, i * partSize, i * partSize, i * partSize + done[i]!);
    fs.writeFileSync(path.join(dir, "parallel.bin.parallel_tmp"), temp);
    fs.writeFileSync(path.join(dir, "parallel.bin.parallel_tmp.incomplete"), JSON.stringify({ v: 1, size: PARALLEL.length, sha256: sha256(PARALLEL), partSize, done }));
    const r = await modelscope(["download", "acme/slow", "parallel.bin"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(fs.readFileSync(r.stdout.trim())), sha256(PARALLEL));
    const had = done.reduce((a, b) => a + b, 0);
    assert.equal((await hubStats(hub)).bytesSent["parallel.bin"], PARALLEL.length - had, "re-fetched bytes the state said were done");
  });
});

describe("concurrent processes on one model", () => {
  test("a process that waited for another's big file takes the other's record of it: it does not read the file again", async () => {
    const home = tempDir();
    await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 16 * 1024 * 1024 }]);
    const big = { ...env(home), MODELSCOPE_DOWNLOAD_HASH_WORKER_MB: "1", MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB: "100" };
    const first = spawnModelscope(["download", "acme/big", "big.bin"], { env: big });
    const partial = path.join(snap(home, "acme/big"), "big.bin.incomplete");
    await waitFor(() => size(partial) > 0, "the first run's partial file");
    const second = spawnModelscope(["download", "acme/big", "big.bin", "--json"], { env: big });
    // What the second has read, sampled until it exits (its last sample is after any hashing).
    let read = 0;
    const sampler = setInterval(() => {
      const now = bytesRead(second.child.pid!);
      if (!Number.isNaN(now)) read = now;
    }, 2);
    const [a, b] = await Promise.all([first.done, second.done]);
    clearInterval(sampler);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(sha256(fs.readFileSync(path.join(snap(home, "acme/big"), "big.bin"))), sha256(BIG));
    assert.ok(read < BIG.length / 2, `the second run read ${read} bytes: it hashed the file the first one had verified`);
  });

  for (const n of [2, 8]) {
    test(`${n} processes at once all succeed, and every byte is fetched once`, async () => {
      const home = tempDir();
      await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 2 * 1024 * 1024 }]);
      const runs = Array.from({ length: n }, () => spawnModelscope(["download", "acme/many", "--json"], { env: env(home) }));
      const results = await Promise.all(runs.map((r) => r.done));
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      const dir = snap(home, "acme/many");
      for (const [p, data] of Object.entries({ ...MANY, "big.bin": PARALLEL })) {
        assert.equal(sha256(fs.readFileSync(path.join(dir, p))), sha256(data), p);
      }
      const sent = (await hubStats(hub)).bytesSent;
      for (const [p, data] of Object.entries({ ...MANY, "big.bin": PARALLEL })) assert.equal(sent[p], data.length, `${p} fetched more than once`);
      const downloaded = results.map((r) => JSON.parse(r.stdout).downloaded as number).reduce((a, b) => a + b, 0);
      assert.equal(downloaded, Object.keys(MANY).length + 1);
    });
  }
});
