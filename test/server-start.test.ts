// What a user sees starting `modelscope serve` (issue 10 items 2, 15, 16; issue 15 items 1, 5): start-up
// problems they can cause are one line and a fix with exit 2 (never "this is a bug"), redirects use the
// address the client used or --public-url (never localhost for another machine), and the official
// client's probes and the endpoints a P2P layer (Dragonfly) uses answer as they should.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { bytes, cleanEnv, modelscope, rawRequest, startTestHub, tempDir, writeModel, type TestHub } from "./helpers/hub.js";

const get = (url: string, headers: Record<string, string> = {}) => rawRequest(url, { headers });

/** Runs `modelscope serve` expecting it to stop at once; returns its exit code and output. */
function serveFails(args: string[]) {
  return modelscope(["serve", ...args], { env: cleanEnv(tempDir()), timeoutMs: 20_000 });
}

/** One line and a fix, exit 2, no stack, not called a bug. */
function assertUsage(r: { code: number | null; stderr: string }, line: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, line);
  assert.doesNotMatch(r.stderr, /bug|\n\s+at /i);
}

describe("`modelscope serve` start-up problems: one line, the fix, exit 2", () => {
  test("the port is taken", async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const r = await serveFails(["--root", tempDir(), "--port", String(port)]);
      assertUsage(r, new RegExp(`^Error: Port ${port} on 127\\.0\\.0\\.1 is already in use$`, "m"));
      assert.match(r.stderr, /--port/);
      const zh = await modelscope(["serve", "--root", tempDir(), "--port", String(port)], { env: cleanEnv(tempDir(), { LANG: "zh_CN.UTF-8" }) });
      assert.match(zh.stderr, /已被占用/);
    } finally {
      taken.close();
    }
  });

  test("a host that is not this machine's, a root that is a file, a bad --public-url or cap", async () => {
    assertUsage(await serveFails(["--root", tempDir(), "--host", "192.0.2.1", "--port", "0"]), /^Error: Cannot listen on 192\.0\.2\.1: not an address of this machine$/m);
    const file = path.join(tempDir(), "file");
    fs.writeFileSync(file, "x");
    assertUsage(await serveFails(["--root", file]), /^Error: No such folder: /m);
    assertUsage(await serveFails(["--root", tempDir(), "--public-url", "ftp://x"]), /^Error: Invalid --public-url 'ftp:\/\/x'$/m);
    assertUsage(await serveFails(["--root", tempDir(), "--max-connections", "-1"]), /^Error: Invalid --max-connections '-1'$/m);
  });

  test("hub.json with an unknown key, a wrong type, an alias id, or unreadable: named in one line, nothing of its content", async () => {
    const cases: [unknown, RegExp][] = [
      [{ privat: { "acme/m": ["alice"] } }, /hub\.json: \(top\): Unrecognized key: "privat"$/m],
      [{ private: { "acme/m": "alice" } }, /hub\.json: private\.acme\/m: .*expected array/m],
      [{ private: { "acme--llama/7b": ["alice"] } }, /hub\.json: private\.acme--llama\/7b: not a model id in its one spelling/m],
      [{ datasets: { privat: {} } }, /hub\.json: datasets: Unrecognized key: "privat"$/m],
    ];
    for (const [config, line] of cases) {
      const root = tempDir();
      fs.writeFileSync(path.join(root, "hub.json"), JSON.stringify(config));
      const r = await serveFails(["--root", root, "--port", "0"]);
      assertUsage(r, line);
      assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("Error:")).length, 1);
    }
    const broken = tempDir();
    fs.writeFileSync(path.join(broken, "hub.json"), '{"users": [], "token_sha256": "SECRET-HASH",,}');
    const r = await serveFails(["--root", broken, "--port", "0"]);
    assertUsage(r, /hub\.json is not valid JSON \(line 1, column \d+\)$/m);
    assert.doesNotMatch(r.stderr, /SECRET-HASH/);
    const unreadable = tempDir();
    fs.mkdirSync(path.join(unreadable, "hub.json"));
    assertUsage(await serveFails(["--root", unreadable, "--port", "0"]), /^Error: Cannot read .*hub\.json \(EISDIR\)$/m);
  });
});

describe("redirects use the address the client used, or --public-url", () => {
  const big = bytes(64 * 1024, 9);
  let hub: TestHub;
  let publicHub: TestHub;
  before(async () => {
    const root = tempDir("dc-hub-");
    writeModel(root, "acme/m", { "big.bin": big });
    hub = await startTestHub({ root, host: "0.0.0.0", redirectThresholdBytes: 1024 });
    publicHub = await startTestHub({ root, redirectThresholdBytes: 1024, publicUrl: "https://models.lab.example/hub" });
  });
  after(async () => {
    await hub.close();
    await publicHub.close();
  });
  const FILE = "/api/v1/models/acme/m/repo?Revision=master&FilePath=big.bin";

  test("a client on another machine (Host hub.lab.example:PORT) is sent to that host, never localhost, and the bytes come", async () => {
    const hostHeader = `hub.lab.example:${hub.port}`;
    const r = await get(`http://127.0.0.1:${hub.port}${FILE}`, { host: hostHeader });
    assert.equal(r.status, 302);
    const location = new URL(r.headers.location!);
    assert.equal(location.host, hostHeader);
    assert.match(location.pathname, /^\/__cdn__\//);
    // Follow it as that machine would (same host, so a client may keep its credentials: harmless here).
    const body = await get(`http://127.0.0.1:${hub.port}${location.pathname}${location.search}`, { host: hostHeader, authorization: "Bearer ms-x" });
    assert.equal(body.status, 200);
    assert.ok(body.body.equals(big));
  });

  test("on this machine (127.0.0.1) the CDN is still the second name localhost; --public-url wins over the Host", async () => {
    const local = await get(`http://127.0.0.1:${hub.port}${FILE}`);
    assert.equal(new URL(local.headers.location!).host, `localhost:${hub.port}`);
    const viaPublic = await get(`${publicHub.url.replace("https://models.lab.example/hub", `http://127.0.0.1:${publicHub.port}`)}${FILE}`);
    assert.equal(viaPublic.status, 302);
    assert.match(viaPublic.headers.location!, /^https:\/\/models\.lab\.example\/hub\/__cdn__\/models\/acme--m\/master\/big\.bin\?Expires=/);
    assert.equal(publicHub.url, "https://models.lab.example/hub");
  });
});

describe("the official client's probe and a P2P layer's endpoints (issue 15 item 5)", () => {
  const big = bytes(3 * 1024 * 1024 + 17, 4);
  let hub: TestHub;
  before(async () => {
    hub = await startTestHub({ models: { "acme/p2p": { "big.bin": big, "sub/x.txt": "x", "a.json": "{}" } }, redirectThresholdBytes: 1024 * 1024 });
  });
  after(() => hub.close());

  test("internalAccelerationInfo answers at once: 200, no region query address (the client then asks nothing more)", async () => {
    const r = await get(`${hub.url}/api/v1/repos/internalAccelerationInfo`);
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body.toString()) as { Code: number; Data: { InternalRegionQueryAddress: string } };
    assert.equal(body.Code, 200);
    assert.equal(body.Data.InternalRegionQueryAddress, "");
  });

  test("repo/files?Recursive=true (lowercase, as Dragonfly sends it) lists every file with its sha256", async () => {
    const r = await get(`${hub.url}/api/v1/models/acme/p2p/repo/files?Revision=master&Recursive=true`);
    const files = (JSON.parse(r.body.toString()) as { Data: { Files: { Path: string; Size: number; Sha256: string }[] } }).Data.Files;
    assert.deepEqual(files.map((f) => f.Path), ["a.json", "big.bin", "sub/x.txt"]);
    assert.equal(files[1]!.Size, big.length);
    assert.match(files[1]!.Sha256, /^[0-9a-f]{64}$/);
  });

  test("ranged GETs of a file, through the redirect: pieces in any order make the file", async () => {
    const first = await get(`${hub.url}/api/v1/models/acme/p2p/repo?Revision=master&FilePath=big.bin`, { range: "bytes=0-0" });
    assert.equal(first.status, 302);
    const cdn = new URL(first.headers.location!, hub.url).toString();
    const piece = 1024 * 1024;
    const parts: Buffer[] = [];
    for (const start of [2 * piece, 0, 3 * piece, piece]) {
      const end = Math.min(start + piece, big.length) - 1;
      const r = await get(cdn, { range: `bytes=${start}-${end}` });
      assert.equal(r.status, 206);
      assert.equal(r.headers["content-range"], `bytes ${start}-${end}/${big.length}`);
      parts[start / piece] = r.body;
    }
    assert.ok(Buffer.concat(parts).equals(big));
    const head = await new Promise<http.IncomingMessage>((resolve, reject) => http.request(cdn, { method: "HEAD", agent: false }, resolve).on("error", reject).end());
    assert.equal(Number(head.headers["content-length"]), big.length);
    assert.equal(head.headers["accept-ranges"], "bytes");
  });
});
