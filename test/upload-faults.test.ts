// Uploads under failure: interrupted (Ctrl-C, kill -9) and resumed, a connection cut mid-PUT, 5xx on the
// batch and the commit, a blob corrupted in transit, a full disk, a file changing under the upload,
// concurrent uploads to one repo, and readers during commits. Real processes against the local hub.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { FileChangedError, HubApi, uploadFolder } from "../src/index.js";
import { bytes, cleanEnv, clearFaults, hubStats, modelscope, setFaults, sha256, spawnModelscope, startTestHub, tempDir, waitFor, type TestHub } from "./helpers/hub.js";
import { remoteFiles, writeFolder } from "./helpers/upload.js";

const MiB = 1024 * 1024;

describe("uploads under failure", () => {
  let hub: TestHub;
  let home: string;
  const env = () => cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, MODELSCOPE_API_TOKEN: hub.tokens.alice });
  const api = () => new HubApi({ endpoint: hub.url, token: hub.tokens.alice, home: path.join(home, ".modelscope") });
  const puts = async (oid?: string) => (await hubStats(hub)).requests.filter((q) => q.method === "PUT" && (!oid || q.path.endsWith(oid))).length;
  const blobStored = (data: Buffer) => fs.existsSync(path.join(hub.root, ".blobs", "sha256", sha256(data).slice(0, 2), sha256(data)));
  const tmpLeft = () => (fs.existsSync(path.join(hub.root, ".blobs", "tmp")) ? fs.readdirSync(path.join(hub.root, ".blobs", "tmp")).length : 0);
  let n = 0;
  const newRepo = async () => {
    const id = `alice/r${++n}`;
    assert.equal((await modelscope(["create", id], { env: env() })).code, 0);
    return id;
  };

  before(async () => {
    hub = await startTestHub({ users: ["alice"], testFaults: true });
    home = tempDir();
  });
  after(() => hub.close());

  for (const how of ["SIGINT", "SIGKILL"] as const) {
    it(`${how === "SIGINT" ? "Ctrl-C" : "kill -9"} mid-upload commits nothing; the re-run sends only the missing blob`, async () => {
      const repo = await newRepo();
      const files = { "a.bin": bytes(2 * MiB, 1000 + n * 10), "b.bin": bytes(2 * MiB, 1001 + n * 10), "c.bin": bytes(2 * MiB, 1002 + n * 10), "config.json": "{}" };
      const dir = writeFolder(files);
      await clearFaults(hub);
      await setFaults(hub, [{ kind: "slow-upload", path: sha256(files["c.bin"]), afterBytes: 64 * 1024, stallMs: 100, times: 1 }]);
      const run = spawnModelscope(["upload", repo, dir], { env: env() });
      await waitFor(() => blobStored(files["a.bin"]) && blobStored(files["b.bin"]), "the first two blobs");
      await waitFor(async () => (await puts(sha256(files["c.bin"]))) === 1, "the third PUT to start");
      run.child.kill(how);
      const r = await run.done;
      if (how === "SIGINT") {
        assert.equal(r.code, 130, r.stderr);
        assert.match(r.stderr, /^Interrupted\n {2}Fix: run it again/m);
      }
      assert.deepEqual(await remoteFiles(hub, repo, hub.tokens.alice!), {}, "nothing committed");
      await waitFor(() => tmpLeft() === 0, "the cut PUT's temp file to go");
      assert.equal(blobStored(files["c.bin"]), false);

      await clearFaults(hub);
      const again = await modelscope(["upload", repo, dir], { env: env() });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(await puts(), 1);
      assert.equal(await puts(sha256(files["c.bin"])), 1);
      const tree = await remoteFiles(hub, repo, hub.tokens.alice!);
      assert.deepEqual(tree, Object.fromEntries(Object.entries(files).map(([p, c]) => [p, sha256(c)])));
    });
  }

  it("a connection cut mid-PUT is retried and the upload completes", async () => {
    const repo = await newRepo();
    const data = bytes(3 * MiB, 21);
    const dir = writeFolder({ "w.bin": data });
    await clearFaults(hub);
    await setFaults(hub, [{ kind: "cut-upload", afterBytes: MiB, times: 1 }]);
    const r = await modelscope(["upload", repo, dir], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await puts(sha256(data)), 2);
    // Both went through the direct transport (plain http, no proxy: one connection per blob, closed after).
    const seen = (await hubStats(hub)).requests.filter((q) => q.method === "PUT" && q.path.endsWith(sha256(data)));
    assert.deepEqual(seen.map((q) => q.connection), ["close", "close"]);
    assert.equal((await remoteFiles(hub, repo, hub.tokens.alice!))["w.bin"], sha256(data));
    assert.equal(tmpLeft(), 0);
  });

  it("with a proxy configured, blobs go through undici instead (streamed from the file) and land whole", async () => {
    const repo = await newRepo();
    const big = bytes(3 * MiB + 7, 25);
    const dir = writeFolder({ "w.bin": big, "s.bin": bytes(4096, 26) });
    await clearFaults(hub);
    // NO_PROXY lets the requests reach the hub; the proxy's presence alone keeps the direct transport off.
    const r = await modelscope(["upload", repo, dir], { env: { ...env(), HTTP_PROXY: "http://127.0.0.1:9", NO_PROXY: "127.0.0.1,localhost" } });
    assert.equal(r.code, 0, r.stderr);
    const seen = (await hubStats(hub)).requests.filter((q) => q.method === "PUT");
    assert.equal(seen.length, 2);
    assert.ok(seen.every((q) => q.connection !== "close"), JSON.stringify(seen));
    assert.equal((await remoteFiles(hub, repo, hub.tokens.alice!))["w.bin"], sha256(big));
  });

  it("a 503 on the batch and a 500 on the commit are retried; one commit lands", async () => {
    const repo = await newRepo();
    const data = bytes(2 * MiB, 22);
    const dir = writeFolder({ "w.bin": data, "x.txt": "x" });
    await clearFaults(hub);
    await setFaults(hub, [
      { kind: "status", on: "batch", status: 503, times: 1 },
      { kind: "status", on: "commit", status: 500, times: 1 },
    ]);
    const r = await modelscope(["upload", repo, dir], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const seen = (await hubStats(hub)).requests;
    assert.equal(seen.filter((q) => q.path.endsWith("/batch")).length, 2);
    assert.equal(seen.filter((q) => q.path.includes("/commit/")).length, 2);
    assert.deepEqual(await remoteFiles(hub, repo, hub.tokens.alice!), { "w.bin": sha256(data), "x.txt": sha256("x") });
  });

  it("a 5xx that does not go away: exit 1, nothing committed", async () => {
    const repo = await newRepo();
    const dir = writeFolder({ "x.txt": "x" });
    await clearFaults(hub);
    await setFaults(hub, [{ kind: "status", on: "commit", status: 502 }]);
    const r = await modelscope(["upload", repo, dir], { env: env(), timeoutMs: 120_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: Hub error 502/);
    await clearFaults(hub);
    assert.deepEqual(await remoteFiles(hub, repo, hub.tokens.alice!), {});
  });

  it("a blob corrupted in transit is refused by the hub: exit 1, nothing committed, nothing stored", async () => {
    const repo = await newRepo();
    const data = bytes(2 * MiB, 23);
    const dir = writeFolder({ "w.bin": data, "x.txt": "x" });
    await clearFaults(hub);
    await setFaults(hub, [{ kind: "corrupt-upload" }]);
    const r = await modelscope(["upload", repo, dir], { env: env() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: 1 file\(s\) failed to upload, nothing was committed: w\.bin .*sha256 mismatch/);
    assert.equal((await hubStats(hub)).requests.filter((q) => q.path.includes("/commit/")).length, 0);
    assert.equal(blobStored(data), false);
    assert.equal(tmpLeft(), 0);
    await clearFaults(hub);
    assert.deepEqual(await remoteFiles(hub, repo, hub.tokens.alice!), {});
  });

  it("a full disk on the hub leaves no partial blob; the retry stores it", async () => {
    const repo = await newRepo();
    const data = bytes(2 * MiB, 24);
    const dir = writeFolder({ "w.bin": data });
    await clearFaults(hub);
    await setFaults(hub, [{ kind: "disk-full", afterBytes: MiB, times: 1 }]);
    const r = await modelscope(["upload", repo, dir], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await puts(sha256(data)), 2);
    // Both went through the direct transport; the 507 came while the first was still being sent.
    const seen = (await hubStats(hub)).requests.filter((q) => q.method === "PUT" && q.path.endsWith(sha256(data)));
    assert.deepEqual(seen.map((q) => q.connection), ["close", "close"]);
    assert.equal(tmpLeft(), 0);
    assert.equal((await remoteFiles(hub, repo, hub.tokens.alice!))["w.bin"], sha256(data));
  });

  it("a file that changes after it was hashed is refused, and nothing is committed", async () => {
    const repo = await newRepo();
    const dir = writeFolder({ "w.bin": bytes(2 * MiB, 25), "x.txt": "x" });
    await assert.rejects(
      uploadFolder(repo, dir, {
        api: api(),
        onProgress: (e) => {
          if (e.type === "plan") fs.appendFileSync(path.join(dir, "w.bin"), "more");
        },
      }),
      (err: unknown) => err instanceof FileChangedError && err.file === "w.bin",
    );
    assert.deepEqual(await remoteFiles(hub, repo, hub.tokens.alice!), {});
  });

  it("an upload URL on another origin never gets the token", async () => {
    const repo = await newRepo();
    const data = bytes(2 * MiB, 26);
    const dir = writeFolder({ "w.bin": data });
    const elsewhere = `${hub.url.replace("127.0.0.1", "localhost")}/api/v1/repos/models/${repo}/info/lfs/objects/${sha256(data)}?size=${data.length}`;
    await clearFaults(hub);
    await setFaults(hub, [{ kind: "status", on: "batch", status: 200, body: { Code: 200, Data: { objects: [{ oid: sha256(data), size: data.length, actions: { upload: { href: elsewhere } } }] }, Success: true } }]);
    const r = await modelscope(["upload", repo, dir], { env: env(), timeoutMs: 120_000 });
    const seenPuts = (await hubStats(hub)).requests.filter((q) => q.method === "PUT");
    assert.ok(seenPuts.length >= 1);
    assert.ok(seenPuts.every((q) => q.host.startsWith("localhost:") && !q.credentials), JSON.stringify(seenPuts));
    assert.equal(r.code, 1, "the hub wants credentials there, so it fails, and says so");
    await clearFaults(hub);
    assert.deepEqual(await remoteFiles(hub, repo, hub.tokens.alice!), {});
  });

  it("concurrent uploads to one repo both land (commits are serialised, each on the latest tree)", async () => {
    const repo = await newRepo();
    const one = writeFolder({ "one/a.bin": bytes(2 * MiB, 31), "one/x.txt": "1" });
    const two = writeFolder({ "two/b.bin": bytes(2 * MiB, 32), "two/y.txt": "2" });
    const [r1, r2] = await Promise.all([modelscope(["upload", repo, one], { env: env() }), modelscope(["upload", repo, two], { env: env() })]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(Object.keys(await remoteFiles(hub, repo, hub.tokens.alice!)).sort(), ["one/a.bin", "one/x.txt", "two/b.bin", "two/y.txt"]);
  });

  it("readers during commits see the old tree or the new one, never a mix", async () => {
    const repo = await newRepo();
    const dir = writeFolder({ "a.txt": "0", "b.txt": "0", "c.bin": bytes(1000, 0) });
    await uploadFolder(repo, dir, { api: api() });
    let writing = true;
    const writer = (async () => {
      for (let v = 1; v <= 8; v++) {
        fs.writeFileSync(path.join(dir, "a.txt"), String(v));
        fs.writeFileSync(path.join(dir, "b.txt"), String(v));
        fs.writeFileSync(path.join(dir, "c.bin"), bytes(1000, v));
        await uploadFolder(repo, dir, { api: api() });
      }
      writing = false;
    })();
    const versions = new Set<string>();
    let reads = 0;
    while (writing || reads < 20) {
      const tree = await remoteFiles(hub, repo, hub.tokens.alice!);
      const v = [...Array(9).keys()].find((i) => tree["a.txt"] === sha256(String(i)));
      assert.notEqual(v, undefined);
      assert.equal(tree["b.txt"], sha256(String(v)), "a.txt and b.txt from one commit");
      assert.equal(tree["c.bin"], sha256(bytes(1000, v!)), "c.bin from the same commit");
      versions.add(String(v));
      reads++;
    }
    await writer;
    assert.ok(reads >= 20);
  });
});
