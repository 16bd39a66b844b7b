// Downloads as a user sees them: the CLI against the real local hub, official cache layout, cache hits
// that cost one listing request and no re-hash, filters, revisions, local dir, dry run, offline, failures.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { HubApi } from "../src/hub/api.js";
import { snapshotDownload, downloadFile } from "../src/download/index.js";
import { planParts } from "../src/download/range-state.js";
import { DownloadFailedError, OfflineCacheMissError, BadResponseError } from "../src/errors.js";
import { bytes, clearFaults, cleanEnv, hubStats, modelscope, setFaults, sha256, startTestHub, tempDir, writeModel, type TestHub } from "./helpers/hub.js";

const BIG = bytes(600 * 1024 + 3, 7);
const FILES = {
  "config.json": '{"a":1}',
  "tokenizer.json": '{"t":2}',
  "README.md": "# m\n",
  "weights/model-00001.safetensors": BIG,
  "weights/model-00002.safetensors": bytes(70 * 1024, 8),
  "sub/dir/notes.txt": "notes",
};

let hub: TestHub;
before(async () => {
  hub = await startTestHub({
    models: {
      "acme/tiny": FILES,
      "acme/revs": { revisions: { master: { "v.txt": "master" }, "v1.0": { "v.txt": "one", "extra.bin": "x" } } },
    },
    testFaults: true,
    redirectThresholdBytes: 256 * 1024,
  });
});
after(() => hub.close());

function env(home: string, extra: Record<string, string | undefined> = {}) {
  return cleanEnv(home, {
    MODELSCOPE_ENDPOINT: hub.url,
    MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB: "0.25",
    MODELSCOPE_DOWNLOAD_PART_SIZE_MB: "0.125",
    MODELSCOPE_MAX_BACKOFF: "0.05",
    ...extra,
  });
}

function snap(home: string, id = "acme/tiny", rev = "master") {
  return path.join(home, ".cache", "modelscope", "models", id.replace("/", "--"), "snapshots", rev);
}

describe("modelscope download", () => {
  test("downloads every file into the official cache layout and prints the folder", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "acme/tiny"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), snap(home));
    for (const [p, content] of Object.entries(FILES)) {
      assert.equal(sha256(fs.readFileSync(path.join(snap(home), p))), sha256(content), p);
    }
    assert.match(r.stderr, /^Downloaded 6 file\(s\), [\d.]+ KiB, in \d+s \(0 already there\)\.\n$/, "piped: one summary line, nothing else");
    const leftovers = fs.readdirSync(snap(home), { recursive: true }).map(String).filter((n) => /\.(incomplete|parallel_tmp)$/.test(n));
    assert.deepEqual(leftovers, []);
  });

  test("a second run is a cache hit: one listing request, no file request, no re-hash", async () => {
    const home = tempDir();
    assert.equal((await modelscope(["download", "acme/tiny"], { env: env(home) })).code, 0);
    await clearFaults(hub);
    const r = await modelscope(["download", "acme/tiny", "--json"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.cached, Object.keys(FILES).length);
    assert.equal(summary.downloaded, 0);
    const stats = await hubStats(hub);
    assert.deepEqual(
      stats.requests.map((q) => q.path),
      ["/api/v1/models/acme/tiny/repo/files"],
    );
  });

  test("files put there by another client (no record) are hashed once, kept, and not downloaded", async () => {
    const home = tempDir();
    writeModel(path.join(home, ".cache", "modelscope"), "acme/tiny", FILES);
    await clearFaults(hub);
    const r = await modelscope(["download", "acme/tiny", "--json"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).downloaded, 0);
    assert.equal((await hubStats(hub)).requests.filter((q) => q.filePath).length, 0);
  });

  test("a corrupted cached file (same size) is downloaded again", async () => {
    const home = tempDir();
    writeModel(path.join(home, ".cache", "modelscope"), "acme/tiny", { ...FILES, "config.json": '{"a":9}' });
    const r = await modelscope(["download", "acme/tiny", "--json"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(s.files.filter((f: { status: string }) => f.status === "downloaded").map((f: { path: string }) => f.path), ["config.json"]);
    assert.equal(fs.readFileSync(path.join(snap(home), "config.json"), "utf8"), FILES["config.json"]);
  });

  test("include/exclude: fnmatch where * crosses /, comma lists", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "acme/tiny", "--include", "*.json,*.txt", "--exclude", "tokenizer*", "--json"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).files.map((f: { path: string }) => f.path).sort(), ["config.json", "sub/dir/notes.txt"]);
    assert.ok(!fs.existsSync(path.join(snap(home), "weights")));
  });

  test("named files print one local path each", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "acme/tiny", "config.json", "sub/dir/notes.txt"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), [path.join(snap(home), "config.json"), path.join(snap(home), "sub/dir/notes.txt")]);
  });

  test("revisions get their own snapshot folder", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "acme/revs", "--revision", "v1.0"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), snap(home, "acme/revs", "v1.0"));
    assert.equal(fs.readFileSync(path.join(snap(home, "acme/revs", "v1.0"), "v.txt"), "utf8"), "one");
    const m = await modelscope(["download", "acme/revs"], { env: env(home) });
    assert.equal(fs.readFileSync(path.join(m.stdout.trim(), "v.txt"), "utf8"), "master");
    const bad = await modelscope(["download", "acme/revs", "--revision", "nope"], { env: env(home) });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Not found/);
  });

  test("--local-dir puts the files there, and a second run is a cache hit", async () => {
    const home = tempDir();
    const dir = path.join(tempDir(), "out");
    const r = await modelscope(["download", "acme/tiny", "--local-dir", dir], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), dir);
    assert.equal(fs.readFileSync(path.join(dir, "weights/model-00001.safetensors")).length, BIG.length);
    assert.ok(!fs.existsSync(snap(home)));
    const again = await modelscope(["download", "acme/tiny", "--local-dir", dir, "--json"], { env: env(home) });
    assert.equal(JSON.parse(again.stdout).downloaded, 0);
  });

  test("a non-empty legacy folder is reused as the official client does", async () => {
    const home = tempDir();
    const legacy = path.join(home, ".cache", "modelscope", "models", "acme", "tiny");
    fs.mkdirSync(legacy, { recursive: true });
    fs.writeFileSync(path.join(legacy, "config.json"), FILES["config.json"]);
    const r = await modelscope(["download", "acme/tiny", "--include", "*.json"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), legacy);
    assert.ok(fs.existsSync(path.join(legacy, "tokenizer.json")));
  });

  test("--dry-run lists what would be fetched and writes nothing", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "acme/tiny", "--dry-run", "--json"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.planned, Object.keys(FILES).length);
    assert.equal(s.bytesPlanned, Object.values(FILES).reduce((a, c) => a + Buffer.byteLength(c), 0));
    assert.ok(!fs.existsSync(path.join(home, ".cache")));
  });

  test("offline: no request at all; cached models work, missing files are named", async () => {
    const home = tempDir();
    await clearFaults(hub);
    const miss = await modelscope(["download", "acme/tiny", "--offline"], { env: env(home) });
    assert.equal(miss.code, 1);
    assert.match(miss.stderr, /Offline, and not in the cache: acme\/tiny/);
    assert.equal((await modelscope(["download", "acme/tiny", "--include", "*.json"], { env: env(home) })).code, 0);
    await clearFaults(hub);
    const ok = await modelscope(["download", "acme/tiny", "--include", "*.json"], { env: env(home, { MODELSCOPE_OFFLINE: "1" }) });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), snap(home));
    const partial = await modelscope(["download", "acme/tiny", "--offline"], { env: env(home) });
    assert.equal(partial.code, 1);
    assert.match(partial.stderr, /README\.md/);
    assert.match(partial.stderr, /weights\/model-00001\.safetensors/);
    assert.equal((await hubStats(hub)).requests.length, 0, "offline made a request");
  });

  test("redirected file bodies never carry credentials to the CDN host", async () => {
    const h = await startTestHub({ models: { "acme/p": { "big.bin": BIG } }, users: ["alice"], testFaults: true, redirectThresholdBytes: 1024 });
    try {
      const home = tempDir();
      const r = await modelscope(["download", "acme/p"], { env: env(home, { MODELSCOPE_ENDPOINT: h.url, MODELSCOPE_API_TOKEN: h.tokens.alice }) });
      assert.equal(r.code, 0, r.stderr);
      const reqs = (await hubStats(h)).requests;
      const cdn = reqs.filter((q) => q.path.startsWith("/__cdn__/"));
      assert.ok(cdn.length > 0, "the download was redirected");
      assert.ok(cdn.every((q) => !q.credentials), "credentials reached the CDN");
      assert.ok(reqs.filter((q) => q.path.endsWith("/repo/files")).every((q) => q.credentials), "the hub got the token");
    } finally {
      await h.close();
    }
  });
});

describe("failures", () => {
  test("a run where a file fails finishes the others, exits 1 and names the file", async () => {
    const home = tempDir();
    await clearFaults(hub);
    await setFaults(hub, [{ kind: "status", status: 404, path: "README.md" }]);
    try {
      const r = await modelscope(["download", "acme/tiny"], { env: env(home) });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /1 file\(s\) failed to download: README\.md/);
      assert.ok(fs.existsSync(path.join(snap(home), "config.json")));
      assert.ok(!fs.existsSync(path.join(snap(home), "README.md")));
    } finally {
      await clearFaults(hub);
    }
  });

  for (const [name, bad] of [
    ["..", "../escape.txt"],
    ["absolute path", "/etc/passwd"],
    ["backslash", "a\\..\\b.txt"],
    ["NUL", "a\u0000b"],
  ] as const) {
    test(`a hostile listing path (${name}) is refused and nothing is written`, async () => {
      const home = tempDir();
      const listing = { Code: 200, Success: true, Data: { Files: [{ Name: "x", Path: bad, Type: "blob", Size: 1, Sha256: null }] } };
      await setFaults(hub, [{ kind: "status", on: "listing", status: 200, body: listing }]);
      try {
        const r = await modelscope(["download", "acme/tiny"], { env: env(home) });
        assert.equal(r.code, 1);
        assert.match(r.stderr, /Refused unsafe file path/);
        assert.ok(!fs.existsSync(path.join(home, ".cache", "modelscope", "models")));
        assert.ok(!fs.existsSync(path.join(home, ".cache", "escape.txt")));
      } finally {
        await clearFaults(hub);
      }
    });
  }

  test("bad usage exits 2", async () => {
    const home = tempDir();
    assert.equal((await modelscope(["download", "not-an-id"], { env: env(home) })).code, 2);
    assert.equal((await modelscope(["download", "acme/tiny", "--max-workers", "0"], { env: env(home) })).code, 2);
    assert.equal((await modelscope(["download", "acme/tiny", "--revision", "../x"], { env: env(home) })).code, 2);
  });
});

describe("library", () => {
  const api = (home: string, extra: Record<string, string> = {}) => new HubApi({ endpoint: hub.url, home, env: env(home, extra) });

  test("snapshotDownload returns the folder and per-file status, with progress events", async () => {
    const home = tempDir();
    const cacheDir = path.join(home, "c");
    const events: string[] = [];
    const res = await snapshotDownload("acme/tiny", { api: api(home), cacheDir, onProgress: (e) => events.push(e.type) });
    assert.equal(res.path, path.join(cacheDir, "models", "acme--tiny", "snapshots", "master"));
    assert.ok(res.files.every((f) => f.status === "downloaded"));
    assert.ok(events.includes("plan") && events.includes("bytes") && events.includes("file-done"));
    const again = await snapshotDownload("acme/tiny", { api: api(home), cacheDir });
    assert.ok(again.files.every((f) => f.status === "cached"));
    const forced = await snapshotDownload("acme/tiny", { api: api(home), cacheDir, force: true, include: "config.json" });
    assert.deepEqual(forced.files.map((f) => f.status), ["downloaded"]);
  });

  test("downloadFile returns the local path; offline misses throw OfflineCacheMissError", async () => {
    const home = tempDir();
    const cacheDir = path.join(home, "c");
    const p = await downloadFile("acme/tiny", "sub/dir/notes.txt", { api: api(home), cacheDir });
    assert.equal(fs.readFileSync(p, "utf8"), "notes");
    assert.equal(await downloadFile("acme/tiny", "sub/dir/notes.txt", { api: api(home), cacheDir, offline: true }), p);
    await assert.rejects(downloadFile("acme/tiny", "config.json", { api: api(home), cacheDir, offline: true }), (e) => e instanceof OfflineCacheMissError && e.missing[0] === "config.json");
  });

  test("an aborted signal stops the download with AbortedError", async () => {
    const home = tempDir();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(snapshotDownload("acme/tiny", { api: api(home), cacheDir: path.join(home, "c"), signal: controller.signal }), { name: "AbortedError" });
  });

  test("failures are a DownloadFailedError listing each file; hostile paths a BadResponseError", async () => {
    const home = tempDir();
    await setFaults(hub, [{ kind: "status", status: 404, path: "config.json" }, { kind: "status", status: 404, path: "README.md" }]);
    try {
      await assert.rejects(snapshotDownload("acme/tiny", { api: api(home), cacheDir: path.join(home, "c") }), (e) => {
        assert.ok(e instanceof DownloadFailedError);
        assert.deepEqual(e.failures.map((f) => f.file).sort(), ["README.md", "config.json"]);
        return true;
      });
    } finally {
      await clearFaults(hub);
    }
    await setFaults(hub, [{ kind: "status", on: "listing", status: 200, body: { Data: { Files: [{ Path: "../x", Size: 1, Type: "blob" }] } } }]);
    try {
      await assert.rejects(snapshotDownload("acme/tiny", { api: api(home), cacheDir: path.join(home, "c") }), (e) => e instanceof BadResponseError);
    } finally {
      await clearFaults(hub);
    }
  });
});

describe("parallel range plan", () => {
  const MiB = 1024 * 1024;
  const settings = { partSizeBytes: 32 * MiB, rangeWorkers: 8 };
  const lengths = (size: number) => {
    const starts = planParts(size, settings);
    return starts.map((s, i) => (starts[i + 1] ?? size) - s);
  };

  test("parts cover the file exactly, on 64 KiB boundaries, never over the part size", () => {
    for (const size of [65 * MiB, 100 * MiB + 7, 512 * MiB, 2048 * MiB + 12345]) {
      const starts = planParts(size, settings);
      assert.equal(starts[0], 0);
      for (let i = 1; i < starts.length; i++) assert.equal(starts[i]! % (64 * 1024), 0, `part ${i} of ${size}`);
      const lens = lengths(size);
      assert.equal(lens.reduce((a, b) => a + b, 0), size);
      assert.ok(lens.every((l) => l > 0 && l <= 32 * MiB), `${size}: ${lens.join(",")}`);
    }
  });

  test("parts shrink toward the end (to an eighth), so every stream has work and the streams end together", () => {
    const lens = lengths(512 * MiB);
    assert.equal(lens[0], 32 * MiB);
    assert.ok(lens.slice(-9, -1).every((l) => l === 4 * MiB), `last parts: ${lens.slice(-9).join(",")}`);
    for (let i = 1; i < lens.length - 1; i++) assert.ok(lens[i]! <= lens[i - 1]!, `part ${i} grew`);
    // A file of a few parts' size still gets a part per stream (equal 32 MiB parts gave 100 MiB 4).
    assert.ok(lengths(100 * MiB).length >= 8);
  });

  test("in order (a caller following the landed prefix): the first parts grow by 1/streams of a part, then as before", () => {
    const size = 1024 * MiB + 5;
    const starts = planParts(size, { ...settings, inOrderParts: true });
    const lens = starts.map((s, i) => (starts[i + 1] ?? size) - s);
    assert.equal(lens.reduce((a, b) => a + b, 0), size);
    // 4, 8, ..., 32 MiB: streams started together finish their first parts one after another, in file order.
    assert.deepEqual(lens.slice(0, 9), [4, 8, 12, 16, 20, 24, 28, 32, 32].map((m) => m * MiB));
    assert.ok(lens.slice(-9, -1).every((l) => l === 4 * MiB), `the same shrinking end: ${lens.slice(-9).join(",")}`);
  });
});
