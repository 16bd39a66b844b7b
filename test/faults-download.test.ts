// Downloads against a misbehaving hub: cut and reset connections, corrupt bytes, 429/503, a stalled body,
// a server that ignores Range. Each fault is switched on in the real local hub (testFaults), and the
// download is a real CLI process or the library; the file at its final path is always the right bytes.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { HubApi } from "../src/hub/api.js";
import { downloadFile, snapshotDownload } from "../src/download/index.js";
import { DownloadFailedError, IntegrityError } from "../src/errors.js";
import type { ProgressEvent } from "../src/download/types.js";
import { bytes, clearFaults, cleanEnv, hubStats, modelscope, setFaults, sha256, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

const SMALL = bytes(200 * 1024 + 11, 21); // single stream
const LARGE = bytes(700 * 1024 + 5, 22); // parallel ranges (threshold 0.5 MiB, parts 128 KiB)
const MID = bytes(400 * 1024 + 3, 23); // one stream read straight into the worker ring (direct transport)

let hub: TestHub;
before(async () => {
  hub = await startTestHub({ models: { "acme/f": { "small.bin": SMALL, "large.bin": LARGE, "mid.bin": MID, "c.json": "{}" } }, testFaults: true, redirectThresholdBytes: 100 * 1024 });
});
after(() => hub.close());
afterEach(() => clearFaults(hub));

const ENV = {
  MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB: "0.5",
  MODELSCOPE_DOWNLOAD_PART_SIZE_MB: "0.125",
  MODELSCOPE_MAX_BACKOFF: "0.05",
  MODELSCOPE_DOWNLOAD_TIMEOUT: "0.5",
  MODELSCOPE_DOWNLOAD_HASH_WORKER_MB: "0.25",
};

function run(home: string, extra: Record<string, string> = {}) {
  const cacheDir = path.join(home, "cache");
  const events: ProgressEvent[] = [];
  const api = new HubApi({ endpoint: hub.url, home, env: cleanEnv(home, { ...ENV, ...extra }) });
  return {
    events,
    cacheDir,
    go: (include?: string) => snapshotDownload("acme/f", { api, cacheDir, include, onProgress: (e) => events.push(e) }),
  };
}

function fileIn(cacheDir: string, p: string): Buffer {
  return fs.readFileSync(path.join(cacheDir, "models", "acme--f", "snapshots", "master", p));
}

const retries = (events: ProgressEvent[]) => events.filter((e): e is Extract<ProgressEvent, { type: "retry" }> => e.type === "retry");

describe("connection faults resume with Range", () => {
  for (const kind of ["close", "reset"] as const) {
    for (const [file, data] of [["small.bin", SMALL], ["large.bin", LARGE], ["mid.bin", MID]] as const) {
      test(`${kind} mid-file (${file}) resumes and finishes with the right bytes`, async () => {
        // 10 KiB: inside the first request whichever it is (large.bin's smallest range is 13.8 KiB).
        await setFaults(hub, [{ kind, path: file, afterBytes: 10 * 1024, times: 1 }]);
        const r = run(tempDir());
        await r.go(file);
        assert.equal(sha256(fileIn(r.cacheDir, file)), sha256(data));
        assert.ok(retries(r.events).length >= 1, "no retry happened");
        const ranged = (await hubStats(hub)).requests.filter((q) => q.filePath === file && q.range && !q.range.startsWith("bytes=0-"));
        assert.ok(ranged.length >= 1, "did not resume with a Range request");
        // Resumed, not restarted: the server sent the file's bytes about once.
        assert.ok((await hubStats(hub)).bytesSent[file]! < data.length + 100 * 1024);
      });
    }
  }

  for (const [file, data] of [["small.bin", SMALL], ["mid.bin", MID]] as const) {
    test(`a stalled body times out, then the download resumes (${file})`, async () => {
      await setFaults(hub, [{ kind: "stall", path: file, afterBytes: 64 * 1024, times: 1 }]);
      const r = run(tempDir());
      await r.go(file);
      assert.equal(sha256(fileIn(r.cacheDir, file)), sha256(data));
      assert.match(retries(r.events)[0]!.reason, /timeout/i);
      assert.ok((await hubStats(hub)).requests.some((q) => q.filePath === file && q.range?.startsWith("bytes=65536-")));
    });

    test(`a server that answers 200 to a Range request restarts the file cleanly (${file})`, async () => {
      await setFaults(hub, [
        { kind: "close", path: file, afterBytes: 30 * 1024, times: 1 },
        { kind: "ignore-range", path: file },
      ]);
      const r = run(tempDir());
      await r.go(file);
      assert.equal(sha256(fileIn(r.cacheDir, file)), sha256(data));
    });
  }

  test("big single streams, ranges and the listing take the direct transport (plain http, no proxy); small files undici", async () => {
    const r = run(tempDir());
    await r.go("*.bin");
    assert.equal(sha256(fileIn(r.cacheDir, "mid.bin")), sha256(MID));
    assert.equal(sha256(fileIn(r.cacheDir, "small.bin")), sha256(SMALL));
    const requests = (await hubStats(hub)).requests;
    const gets = requests.filter((q) => q.method === "GET" && q.filePath);
    const by = (file: string) => gets.filter((q) => q.filePath === file).map((q) => q.connection);
    for (const file of ["mid.bin", "large.bin"]) assert.ok(by(file).length > 0 && by(file).every((c) => c === "close"), `${file}: ${JSON.stringify(by(file))}`);
    assert.ok(by("small.bin").length > 0 && by("small.bin").every((c) => c !== "close"), JSON.stringify(by("small.bin")));
    const listing = requests.filter((q) => q.path.endsWith("/repo/files"));
    assert.ok(listing.length > 0 && listing.every((q) => q.connection === "close"), JSON.stringify(listing));
    // With a proxy configured (here one NO_PROXY bypasses), everything goes through undici, which knows
    // the proxy rules. Proxy settings come from the process environment: a CLI run.
    await clearFaults(hub);
    const home = tempDir();
    const cli = await modelscope(["download", "acme/f", "mid.bin", "large.bin"], {
      env: cleanEnv(home, { ...ENV, MODELSCOPE_ENDPOINT: hub.url, HTTP_PROXY: "http://127.0.0.1:9", NO_PROXY: "127.0.0.1,localhost" }),
    });
    assert.equal(cli.code, 0, cli.stderr);
    const again = (await hubStats(hub)).requests.filter((q) => q.method === "GET");
    assert.ok(again.length > 0 && again.every((q) => q.connection !== "close"), JSON.stringify(again));
    assert.ok(again.some((q) => q.filePath === "large.bin" && q.range), "large.bin was not fetched in ranges");
    const snapDir = path.join(home, ".cache", "modelscope", "models", "acme--f", "snapshots", "master");
    assert.equal(sha256(fs.readFileSync(path.join(snapDir, "large.bin"))), sha256(LARGE));
  });

  test("parallel ranges on a server that ignores Range fall back to one clean stream", async () => {
    await setFaults(hub, [{ kind: "ignore-range", path: "large.bin" }]);
    const r = run(tempDir());
    await r.go("large.bin");
    assert.equal(sha256(fileIn(r.cacheDir, "large.bin")), sha256(LARGE));
  });
});

describe("integrity", () => {
  for (const [file, data] of [["small.bin", SMALL], ["large.bin", LARGE], ["mid.bin", MID]] as const) {
    test(`bytes corrupted once (${file}): re-downloaded, verified`, async () => {
      await setFaults(hub, [{ kind: "corrupt", path: file, times: 1 }]);
      const r = run(tempDir());
      await r.go(file);
      assert.equal(sha256(fileIn(r.cacheDir, file)), sha256(data));
      assert.ok(retries(r.events).some((e) => /integrity/.test(e.reason)));
    });
  }

  test("bytes corrupted always: IntegrityError, exit 1, nothing at the final path", async () => {
    await setFaults(hub, [{ kind: "corrupt", path: "small.bin" }]);
    const home = tempDir();
    const r = run(home);
    await assert.rejects(r.go("small.bin"), (e) => e instanceof DownloadFailedError && e.failures[0]!.error instanceof IntegrityError && e.failures[0]!.file === "small.bin");
    const api = new HubApi({ endpoint: hub.url, home, env: cleanEnv(home, ENV) });
    await assert.rejects(downloadFile("acme/f", "small.bin", { api, cacheDir: r.cacheDir }), (e) => e instanceof IntegrityError && e.file === "small.bin");
    const dir = path.join(r.cacheDir, "models", "acme--f", "snapshots", "master");
    assert.deepEqual(fs.existsSync(dir) ? fs.readdirSync(dir) : [], []);
    const cli = await modelscope(["download", "acme/f", "small.bin"], { env: cleanEnv(home, { ...ENV, MODELSCOPE_ENDPOINT: hub.url }) });
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /Integrity check failed: small\.bin/);
  });
});

describe("status faults", () => {
  test("429 with Retry-After is retried after the time the hub asked for", async () => {
    await setFaults(hub, [{ kind: "status", status: 429, retryAfter: 1, path: "c.json", times: 1 }]);
    const r = run(tempDir(), { MODELSCOPE_MAX_BACKOFF: "5" });
    await r.go("c.json");
    assert.equal(fileIn(r.cacheDir, "c.json").toString(), "{}");
    assert.deepEqual(retries(r.events).map((e) => e.delayMs), [1000]);
  });

  test("503 twice then success", async () => {
    await setFaults(hub, [{ kind: "status", status: 503, path: "c.json", times: 2 }]);
    const r = run(tempDir());
    await r.go("c.json");
    assert.equal(retries(r.events).length, 2);
    assert.equal(fileIn(r.cacheDir, "c.json").toString(), "{}");
  });

  test("503 on the listing is retried by the HTTP client", async () => {
    await setFaults(hub, [{ kind: "status", status: 503, on: "listing", times: 1 }]);
    const r = run(tempDir(), { MODELSCOPE_API_MAX_RETRIES: "2" });
    await r.go("c.json");
    assert.equal(fileIn(r.cacheDir, "c.json").toString(), "{}");
  });

  test("503 forever: the CLI exits 1 naming the file", async () => {
    await setFaults(hub, [{ kind: "status", status: 503, path: "c.json" }]);
    const home = tempDir();
    const cli = await modelscope(["download", "acme/f", "--include", "*.json"], { env: cleanEnv(home, { ...ENV, MODELSCOPE_ENDPOINT: hub.url, MODELSCOPE_DOWNLOAD_MAX_RETRIES: "2" }) });
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /c\.json/);
  });
});
