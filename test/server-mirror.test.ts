// `serve --upstream`: a real mirror process in front of a second hub (in this process, with its test
// faults). A miss is fetched from upstream once for every client asking, streamed while it lands, kept
// only when verified; metadata is cached and served while upstream is down; private and gated repos go
// by upstream's answer for each client's own token.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { closeDispatchers } from "../src/http/dispatcher.js";
import { metaKey } from "../src/server/mirror/mirror.js";
import { bytes, bytesRead, clearFaults, cleanEnv, hubStats, modelscope, setFaults, sha256, startTestHub, tempDir, waitFor, type TestHub } from "./helpers/hub.js";
import { runOfficial, skipOfficial } from "./helpers/official-client.js";
import { startServe, type ServeProcess } from "./helpers/serve-process.js";

/** The official client's CLI against `endpoint` with this HOME. */
function official(home: string, endpoint: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return runOfficial(["--endpoint", endpoint, ...args], cleanEnv(home), home);
}

const MiB = 1024 * 1024;
const BIG = bytes(3 * MiB, 7);
const CORRUPT = bytes(300_000, 8);
const CUT = bytes(2 * MiB, 9);

let upstream: TestHub;
let mirror: ServeProcess;
let mirrorRoot: string;
let alice: string;
let bob: string;

before(async () => {
  upstream = await startTestHub({
    testFaults: true,
    models: {
      "acme/pub": { "small.txt": "hello", "big.bin": BIG, "c.bin": CORRUPT, "cut.bin": CUT },
      "acme/later": { "x.txt": "never fetched" },
      "acme/three": { "a.txt": "one", "b.txt": "two", "dir/c.txt": "three" },
      "acme/priv": { "p.txt": "private bytes" },
      "acme/gated": { "g.txt": "gated bytes" },
    },
    users: ["alice", "bob"],
    private: { "acme/priv": ["alice"] },
    gated: { "acme/gated": ["alice"] },
  });
  ({ alice, bob } = upstream.tokens as { alice: string; bob: string });
  // A mirror starts from a folder that does not exist yet: serve makes it.
  mirrorRoot = path.join(tempDir("dc-mirror-"), "new-root");
  mirror = await startServe(["--root", mirrorRoot, "--upstream", upstream.url, "--mirror-ttl", "0"]);
});

after(async () => {
  await mirror?.stop();
  await closeDispatchers();
  await upstream?.close().catch(() => undefined);
});

const fileUrl = (base: string, model: string, file: string) => `${base}/api/v1/models/${model}/repo?Revision=master&FilePath=${encodeURIComponent(file)}`;
const auth = (token?: string): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

/** Upstream GETs of a file's body (the mirror's HEAD access probes not counted). */
async function upstreamFetches(file: string): Promise<number> {
  const stats = await hubStats(upstream);
  return stats.requests.filter((r) => r.filePath === file && r.method === "GET").length;
}

const kept = (model: string, file: string) => path.join(mirrorRoot, "models", model.replace("/", "--"), "snapshots", "master", file);

describe("pull-through mirror", () => {
  test("8 clients asking for the same miss at once: upstream sends it once, each gets it while it lands", async () => {
    await clearFaults(upstream);
    // Slow enough that the clients overlap the fill.
    await setFaults(upstream, [{ kind: "throttle", bytesPerSecond: 2 * MiB, path: "big.bin" }]);
    const first = await fetch(fileUrl(mirror.url, "acme/pub", "big.bin"));
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("content-length"), String(BIG.length));
    const reader = first.body!.getReader();
    const chunk = await reader.read();
    assert.ok(chunk.value && chunk.value.length > 0);
    // The first bytes came before the file was whole (and so before it was kept).
    assert.equal(fs.existsSync(kept("acme/pub", "big.bin")), false);
    const others = await Promise.all(Array.from({ length: 7 }, () => fetch(fileUrl(mirror.url, "acme/pub", "big.bin")).then(async (r) => Buffer.from(await r.arrayBuffer()))));
    const rest: Buffer[] = [Buffer.from(chunk.value)];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest.push(Buffer.from(value));
    }
    assert.equal(sha256(Buffer.concat(rest)), sha256(BIG));
    for (const b of others) assert.equal(sha256(b), sha256(BIG));
    assert.equal(await upstreamFetches("big.bin"), 1);
    assert.equal(sha256(fs.readFileSync(kept("acme/pub", "big.bin"))), sha256(BIG));
    // A Range request of a kept file is served from the root, upstream not asked for bytes again.
    const part = await fetch(fileUrl(mirror.url, "acme/pub", "big.bin"), { headers: { range: "bytes=10-19" } });
    assert.equal(part.status, 206);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), BIG.subarray(10, 20));
    assert.equal(await upstreamFetches("big.bin"), 1);
  });

  test("on a capped upstream a fill goes on in parallel ranges, and waiting clients still get every byte while it lands", async () => {
    await clearFaults(upstream);
    const data = bytes(4 * MiB + 77, 21);
    fs.writeFileSync(path.join(upstream.root, "models", "acme--pub", "snapshots", "master", "ranged.bin"), data);
    // A per-connection cap, as on a real CDN: a second connection adds throughput, so the engine splits.
    await setFaults(upstream, [{ kind: "throttle", bytesPerSecond: MiB, path: "ranged.bin" }]);
    const root = path.join(tempDir("dc-mirror-ranges-"), "root");
    const ranged = await startServe(["--root", root, "--upstream", upstream.url, "--access-log", "off"], {
      MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB: "1",
      MODELSCOPE_DOWNLOAD_ADAPTIVE_MIN_MB: "1",
      MODELSCOPE_DOWNLOAD_PART_SIZE_MB: "0.25",
      MODELSCOPE_DOWNLOAD_HASH_WORKER_MB: "1",
    });
    try {
      const first = await fetch(fileUrl(ranged.url, "acme/pub", "ranged.bin"));
      const reader = first.body!.getReader();
      const got: Buffer[] = [];
      const head = await reader.read();
      got.push(Buffer.from(head.value!));
      const keptHere = path.join(root, "models", "acme--pub", "snapshots", "master", "ranged.bin");
      assert.equal(fs.existsSync(keptHere), false, "the first bytes came before the file was kept");
      const others = Promise.all(Array.from({ length: 3 }, () => fetch(fileUrl(ranged.url, "acme/pub", "ranged.bin")).then(async (r) => Buffer.from(await r.arrayBuffer()))));
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        got.push(Buffer.from(value));
      }
      assert.equal(sha256(Buffer.concat(got)), sha256(data));
      for (const b of await others) assert.equal(sha256(b), sha256(data));
      assert.equal(sha256(fs.readFileSync(keptHere)), sha256(data));
      // More than one upstream request for the file: the fill went on in ranges.
      assert.ok((await upstreamFetches("ranged.bin")) > 1, "the fill used parallel ranges");
    } finally {
      await ranged.stop();
      await clearFaults(upstream);
    }
  });

  test("a client of a second process on the root gets every byte of the first one's ranged fill while it lands", async () => {
    await clearFaults(upstream);
    const data = bytes(6 * MiB + 123, 23);
    fs.writeFileSync(path.join(upstream.root, "models", "acme--pub", "snapshots", "master", "xproc.bin"), data);
    await setFaults(upstream, [{ kind: "throttle", bytesPerSecond: MiB / 2, path: "xproc.bin" }]);
    const root = path.join(tempDir("dc-mirror-xproc-"), "root");
    const env = { MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB: "1", MODELSCOPE_DOWNLOAD_ADAPTIVE_MIN_MB: "1", MODELSCOPE_DOWNLOAD_PART_SIZE_MB: "0.25", MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS: "3" };
    const [a, b] = await Promise.all([0, 1].map(() => startServe(["--root", root, "--upstream", upstream.url, "--access-log", "off"], env)));
    try {
      const keptHere = path.join(root, "models", "acme--pub", "snapshots", "master", "xproc.bin");
      const first = fetch(fileUrl(a!.url, "acme/pub", "xproc.bin")).then(async (r) => Buffer.from(await r.arrayBuffer()));
      // Once the fill is in ranges, the other process's client can only learn what landed from the range state.
      await waitFor(() => fs.existsSync(`${keptHere}.parallel_tmp.incomplete`), "the fill to go on in ranges");
      const other = await fetch(fileUrl(b!.url, "acme/pub", "xproc.bin"));
      const reader = other.body!.getReader();
      const got: Buffer[] = [];
      const head = await reader.read();
      got.push(Buffer.from(head.value!));
      assert.equal(fs.existsSync(keptHere), false, "the second process sent bytes before the file was kept");
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        got.push(Buffer.from(value));
      }
      assert.equal(sha256(Buffer.concat(got)), sha256(data));
      assert.equal(sha256(await first), sha256(data));
      assert.ok((await hubStats(upstream)).bytesSent["xproc.bin"]! < data.length + MiB, "one fill for both processes");
    } finally {
      await Promise.all([a!.stop(), b!.stop()]);
      await clearFaults(upstream);
    }
  });

  test("a Range request during a fill is answered from what has landed", async () => {
    await clearFaults(upstream);
    const data = bytes(2 * MiB, 12);
    fs.writeFileSync(path.join(upstream.root, "models", "acme--pub", "snapshots", "master", "range.bin"), data);
    await setFaults(upstream, [{ kind: "throttle", bytesPerSecond: MiB, path: "range.bin" }]);
    const r = await fetch(fileUrl(mirror.url, "acme/pub", "range.bin"), { headers: { range: "bytes=100-199" } });
    assert.equal(r.status, 206);
    assert.equal(r.headers.get("content-range"), `bytes 100-199/${data.length}`);
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), data.subarray(100, 200));
    assert.equal(fs.existsSync(kept("acme/pub", "range.bin")), false, "answered before the file was whole");
    await waitFor(() => fs.existsSync(kept("acme/pub", "range.bin")), "the fill to finish");
  });

  test("metadata requests go upstream with their known parameters only (cache keys cannot be multiplied)", () => {
    assert.equal(metaKey(new URL("http://x/api/v1/models/a/b/repo/files?junk=1&Recursive=True&Revision=v1")), "/api/v1/models/a/b/repo/files?Revision=v1&Recursive=True");
    assert.equal(metaKey(new URL("http://x/api/v1/models/a/b?x=y")), "/api/v1/models/a/b");
  });

  test("the CLI downloads a model through the mirror", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "acme/pub", "small.txt"], { env: cleanEnv(home, { MODELSCOPE_ENDPOINT: mirror.url }) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(home, ".cache", "modelscope", "models", "acme--pub", "snapshots", "master", "small.txt"), "utf8"), "hello");
  });

  test("the official Python client downloads through the mirror: a public model, and a private one after our login", { skip: skipOfficial }, async () => {
    const home = tempDir();
    const pub = await official(home, mirror.url, ["download", "acme/pub", "big.bin"]);
    assert.equal(pub.code, 0, pub.out);
    assert.equal(sha256(fs.readFileSync(path.join(home, ".cache", "modelscope", "models", "acme--pub", "snapshots", "master", "big.bin"))), sha256(BIG));
    // Our login writes the official client's login too; through the mirror, upstream decides.
    const login = await modelscope(["login", "--token-stdin"], { env: cleanEnv(home, { MODELSCOPE_ENDPOINT: mirror.url }), input: alice });
    assert.equal(login.code, 0, login.stderr);
    const priv = await official(home, mirror.url, ["download", "acme/priv", "p.txt"]);
    assert.equal(priv.code, 0, priv.out);
    assert.equal(fs.readFileSync(path.join(home, ".cache", "modelscope", "models", "acme--priv", "snapshots", "master", "p.txt"), "utf8"), "private bytes");
    const other = tempDir();
    const denied = await official(other, mirror.url, ["download", "acme/priv", "p.txt"]);
    assert.notEqual(denied.code, 0, denied.out);
  });

  test("an upstream cut mid-file is resumed; the clients get the right bytes", async () => {
    await clearFaults(upstream);
    await setFaults(upstream, [{ kind: "close", afterBytes: 300_000, path: "cut.bin", times: 1 }]);
    const body = Buffer.from(await (await fetch(fileUrl(mirror.url, "acme/pub", "cut.bin"))).arrayBuffer());
    assert.equal(sha256(body), sha256(CUT));
    const stats = await hubStats(upstream);
    // Resumed from where it was cut, not fetched again from the start.
    assert.ok((stats.bytesSent["cut.bin"] ?? 0) < CUT.length + 400_000, String(stats.bytesSent["cut.bin"]));
    assert.ok(stats.requests.some((r) => r.filePath === "cut.bin" && r.range?.startsWith("bytes=300000-")));
  });

  test("bytes that do not match upstream's sha256 are never kept, and the client gets an error, not them", async () => {
    await clearFaults(upstream);
    await setFaults(upstream, [{ kind: "corrupt", path: "c.bin" }]);
    let got: Buffer | undefined;
    let status = 0;
    try {
      const r = await fetch(fileUrl(mirror.url, "acme/pub", "c.bin"));
      status = r.status;
      got = Buffer.from(await r.arrayBuffer());
    } catch {
      got = undefined; // the connection was cut
    }
    assert.ok(status !== 200 || got === undefined || got.length !== CORRUPT.length, `status ${status}, ${got?.length} bytes`);
    if (got && status !== 200) assert.match(got.toString(), /could not fetch c\.bin/);
    assert.equal(fs.existsSync(kept("acme/pub", "c.bin")), false);
    await clearFaults(upstream);
    const again = Buffer.from(await (await fetch(fileUrl(mirror.url, "acme/pub", "c.bin"))).arrayBuffer());
    assert.equal(sha256(again), sha256(CORRUPT));
  });

  test("private and gated upstream repos: each client's own token decides, kept bytes included", async () => {
    for (let round = 0; round < 2; round++) {
      // Round 0 fills the mirror (for alice); round 1 is served from what it kept.
      const p = await fetch(fileUrl(mirror.url, "acme/priv", "p.txt"), { headers: auth(alice) });
      assert.equal(p.status, 200);
      assert.equal(await p.text(), "private bytes");
      const g = await fetch(fileUrl(mirror.url, "acme/gated", "g.txt"), { headers: auth(alice) });
      assert.equal(await g.text(), "gated bytes");
      for (const [who, token, privStatus, gatedStatus] of [
        ["bob", bob, 404, 403],
        ["anonymous", undefined, 404, 401],
      ] as const) {
        const pr = await fetch(fileUrl(mirror.url, "acme/priv", "p.txt"), { headers: auth(token) });
        assert.equal(pr.status, privStatus, `${who} private, round ${round}`);
        assert.doesNotMatch(await pr.text(), /private bytes/);
        const gr = await fetch(fileUrl(mirror.url, "acme/gated", "g.txt"), { headers: auth(token) });
        assert.equal(gr.status, gatedStatus, `${who} gated, round ${round}`);
        assert.doesNotMatch(await gr.text(), /gated bytes/);
        const info = await fetch(`${mirror.url}/api/v1/models/acme/priv`, { headers: auth(token) });
        assert.equal(info.status, 404, `${who} private info`);
        await info.body?.cancel();
      }
    }
    assert.ok(fs.existsSync(kept("acme/priv", "p.txt")));
    // The CLI, signed in as alice through the mirror.
    const home = tempDir();
    const r = await modelscope(["download", "acme/priv", "p.txt"], { env: cleanEnv(home, { MODELSCOPE_ENDPOINT: mirror.url, MODELSCOPE_API_TOKEN: alice }) });
    assert.equal(r.code, 0, r.stderr);
    const denied = await modelscope(["download", "acme/priv", "p.txt"], { env: cleanEnv(tempDir(), { MODELSCOPE_ENDPOINT: mirror.url, MODELSCOPE_API_TOKEN: bob, MODELSCOPE_API_MAX_RETRIES: "0" }) });
    assert.equal(denied.code, 1);
  });

  test("sign-in and whoami go to upstream; the mirror's cookie then works for private files", async () => {
    const login = await fetch(`${mirror.url}/api/v1/login`, { method: "POST", body: JSON.stringify({ AccessToken: alice }), headers: { "content-type": "application/json" } });
    assert.equal(login.status, 200);
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const me = await fetch(`${mirror.url}/openapi/v1/users/me`, { headers: { cookie } });
    assert.equal(((await me.json()) as { data: { username: string } }).data.username, "alice");
    assert.equal(await (await fetch(fileUrl(mirror.url, "acme/priv", "p.txt"), { headers: { cookie } })).text(), "private bytes");
    const bad = await fetch(`${mirror.url}/api/v1/login`, { method: "POST", body: JSON.stringify({ AccessToken: "ms-wrong" }), headers: { "content-type": "application/json" } });
    assert.equal(bad.status, 401);
    await bad.body?.cancel();
  });

  test("two mirror processes on one root fill the same miss once", async () => {
    await clearFaults(upstream);
    // --mirror-ttl 0 as the first process: the listing earlier tests left in the root (without two.bin) is not fresh for it either.
    const second = await startServe(["--root", mirrorRoot, "--upstream", upstream.url, "--mirror-ttl", "0", "--access-log", "off"]);
    try {
      const data = bytes(2 * MiB, 11);
      fs.writeFileSync(path.join(upstream.root, "models", "acme--pub", "snapshots", "master", "two.bin"), data);
      await setFaults(upstream, [{ kind: "throttle", bytesPerSecond: 2 * MiB, path: "two.bin" }]);
      const bodies = await Promise.all(
        [mirror.url, second.url, mirror.url, second.url].map((base) => fetch(fileUrl(base, "acme/pub", "two.bin")).then(async (r) => Buffer.from(await r.arrayBuffer()))),
      );
      for (const b of bodies) assert.equal(sha256(b), sha256(data));
      assert.equal(await upstreamFetches("two.bin"), 1);
    } finally {
      await second.stop();
    }
  });

  test("a kept file is not read again to vouch for it: the fill's verified record gives its sha256, in any process", async () => {
    await clearFaults(upstream);
    const whole = await fetch(fileUrl(mirror.url, "acme/pub", "big.bin"));
    assert.equal(sha256(Buffer.from(await whole.arrayBuffer())), sha256(BIG));
    await waitFor(() => fs.existsSync(kept("acme/pub", "big.bin")), "big.bin kept");
    // A process that never saw the fill (a replica, a restart): only the engine's record can tell it. And a
    // plain hub serving that folder (a cache our client filled). Both started first, so that the requests
    // below follow each other closely (a kept-alive connection idle for as long as a process start under
    // load can meet the server closing it).
    const [second, plain] = await Promise.all([
      startServe(["--root", mirrorRoot, "--upstream", upstream.url, "--access-log", "off"]),
      startServe(["--root", mirrorRoot, "--access-log", "off"]),
    ]);
    try {
      const before = bytesRead(second.child.pid!);
      const head = await fetch(fileUrl(second.url, "acme/pub", "big.bin"), { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-length"), String(BIG.length));
      const read = bytesRead(second.child.pid!) - before;
      assert.ok(read < BIG.length / 2, `the kept file was read again (${read} bytes read for a HEAD)`);
      // The plain hub's listing reads no file either.
      const start = bytesRead(plain.child.pid!);
      const listing = (await (await fetch(`${plain.url}/api/v1/models/acme/pub/repo/files?Revision=master&Recursive=True`)).json()) as { Data: { Files: { Path: string; Sha256: string }[] } };
      assert.equal(listing.Data.Files.find((f) => f.Path === "big.bin")?.Sha256, sha256(BIG));
      const listed = bytesRead(plain.child.pid!) - start;
      assert.ok(listed < BIG.length / 2, `the listing read the kept file again (${listed} bytes read)`);
      // A copy whose record no longer vouches for it (changed since) is checked again, and refetched.
      const changed = Buffer.from(BIG);
      changed[0] = changed[0]! ^ 0xff;
      fs.writeFileSync(kept("acme/pub", "big.bin"), changed);
      const again = await fetch(fileUrl(second.url, "acme/pub", "big.bin"));
      assert.equal(sha256(Buffer.from(await again.arrayBuffer())), sha256(BIG));
    } finally {
      await Promise.all([second.stop(), plain.stop()]);
    }
  });

  test("a model's files filled through the mirror cost upstream one listing, not one more per file", async () => {
    await clearFaults(upstream);
    // Its own mirror, with the default metadata TTL (the shared one asks upstream every time).
    const cached = await startServe(["--root", path.join(tempDir("dc-mirror-listing-"), "root"), "--upstream", upstream.url, "--access-log", "off"]);
    try {
      const r = await modelscope(["download", "acme/three"], { env: cleanEnv(tempDir(), { MODELSCOPE_ENDPOINT: cached.url }) });
      assert.equal(r.code, 0, r.stderr);
      const listings = (await hubStats(upstream)).requests.filter((q) => q.path === "/api/v1/models/acme/three/repo/files");
      assert.equal(listings.length, 1, `upstream listed acme/three ${listings.length} times`);
      assert.equal(await upstreamFetches("dir/c.txt"), 1);
    } finally {
      await cached.stop();
    }
  });

  test("upstream 503 or gone: what was fetched is still served, a model never fetched is a clear error", async () => {
    await clearFaults(upstream);
    await setFaults(upstream, [{ kind: "status", status: 503, on: "any" }]);
    const listing = await fetch(`${mirror.url}/api/v1/models/acme/pub/repo/files?Revision=master&Recursive=True`);
    assert.equal(listing.status, 200);
    assert.ok(((await listing.json()) as { Data: { Files: unknown[] } }).Data.Files.length >= 4);
    const never = await fetch(`${mirror.url}/api/v1/models/acme/later/repo/files?Revision=master&Recursive=True`);
    assert.equal(never.status, 502);
    assert.match(((await never.json()) as { Message: string }).Message, /upstream hub .* answered 503, and acme\/later was never fetched through this mirror/);
    await upstream.close();
    const home = tempDir();
    const r = await modelscope(["download", "acme/pub", "small.txt"], { env: cleanEnv(home, { MODELSCOPE_ENDPOINT: mirror.url }) });
    assert.equal(r.code, 0, r.stderr);
    const big = await fetch(fileUrl(mirror.url, "acme/pub", "big.bin"));
    assert.equal(sha256(Buffer.from(await big.arrayBuffer())), sha256(BIG));
    // Private bytes are not served on an old answer while upstream cannot confirm.
    const p = await fetch(fileUrl(mirror.url, "acme/priv", "p.txt"), { headers: auth(alice) });
    assert.equal(p.status, 502);
    const failed = await modelscope(["download", "acme/later"], { env: cleanEnv(tempDir(), { MODELSCOPE_ENDPOINT: mirror.url, MODELSCOPE_API_MAX_RETRIES: "0" }) });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /cannot be reached \(ECONNREFUSED\), and acme\/later was never fetched through this mirror/);
    await waitFor(() => mirror.stdout().includes("/api/v1/models/acme/pub/repo?Revision=master&FilePath=small.txt 200"), "the access log line");
  });
});
