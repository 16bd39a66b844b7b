// The publishing library: createRepo / uploadFile / uploadFolder / createTag / deleteFiles, progress events,
// AbortSignal, datasets, and what the hub serves afterwards (tags as revisions, deleted files gone from the
// branch but kept in earlier commits).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { AbortedError, HubApi, NotFoundError, RepoExistsError, WriteDeniedError, createRepo, createTag, deleteFiles, uploadFile, uploadFolder, type UploadEvent } from "../src/index.js";
import { bytes, sha256, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";
import { remoteFiles, writeFolder } from "./helpers/upload.js";

describe("publishing library", () => {
  let hub: TestHub;
  const home = tempDir();
  const api = (user = "alice") => new HubApi({ endpoint: hub.url, token: hub.tokens[user], home: path.join(home, user) });

  before(async () => {
    hub = await startTestHub({ users: ["alice", "bob"], testFaults: true });
  });
  after(() => hub.close());

  it("createRepo is private by default; typed errors for a taken name and a foreign namespace", async () => {
    const res = await createRepo("alice/lib", { api: api() });
    assert.deepEqual(res, { repoId: "alice/lib", repoType: "model", created: true, url: `${hub.url}/models/alice/lib` });
    await assert.rejects(createRepo("alice/lib", { api: api() }), RepoExistsError);
    assert.equal((await createRepo("alice/lib", { api: api(), existOk: true })).created, false);
    await assert.rejects(createRepo("alice/not-bobs", { api: api("bob") }), WriteDeniedError);
  });

  it("uploadFolder reports progress: scan, hashed, plan, bytes, file-done, commit", async () => {
    const dir = writeFolder({ "w.bin": bytes(2 * 1024 * 1024, 51), "c.json": "{}" });
    const events: UploadEvent[] = [];
    const res = await uploadFolder("alice/lib", dir, { api: api(), pathInRepo: "sub", onProgress: (e) => events.push(e) });
    assert.equal(res.committed, true);
    assert.match(res.commitId, /^[0-9a-f]{40}$/);
    assert.deepEqual([...new Set(events.map((e) => e.type))], ["scan", "hashed", "plan", "bytes", "file-done", "commit"]);
    const sent = events.filter((e) => e.type === "bytes").reduce((a, e) => a + (e as { bytes: number }).bytes, 0);
    assert.equal(sent, 2 * 1024 * 1024);
    assert.deepEqual(await remoteFiles(hub, "alice/lib", hub.tokens.alice!), { "sub/c.json": sha256("{}"), "sub/w.bin": sha256(bytes(2 * 1024 * 1024, 51)) });
  });

  it("an aborted upload throws AbortedError and commits nothing", async () => {
    const dir = writeFolder({ "big.bin": bytes(4 * 1024 * 1024, 52) });
    const ctl = new AbortController();
    await assert.rejects(
      uploadFolder("alice/lib", dir, { api: api(), signal: ctl.signal, onProgress: (e) => e.type === "bytes" && ctl.abort() }),
      AbortedError,
    );
    assert.equal((await remoteFiles(hub, "alice/lib", hub.tokens.alice!))["big.bin"], undefined);
  });

  it("createTag makes a revision that stays put; deleteFiles removes from the branch, not from earlier commits", async () => {
    await createTag("alice/lib", "v1.0", { api: api() });
    const revs = await api().listRevisions("alice/lib");
    assert.ok(revs.tags.some((t) => t.name === "v1.0"));
    assert.ok(revs.branches.some((b) => b.name === "master"));
    assert.ok(!revs.branches.some((b) => /^[0-9a-f]{40}$/.test(b.name)), "commit folders are not branches");
    await assert.rejects(createTag("alice/lib", "v1.0", { api: api() }), /refused tag/);
    const res = await deleteFiles("alice/lib", ["sub/c.json"], { api: api() });
    assert.deepEqual(res.deleted, ["sub/c.json"]);
    assert.equal((await remoteFiles(hub, "alice/lib", hub.tokens.alice!))["sub/c.json"], undefined);
    assert.equal((await remoteFiles(hub, "alice/lib", hub.tokens.alice!, "v1.0"))["sub/c.json"], sha256("{}"));
    await assert.rejects(deleteFiles("alice/lib", ["sub/c.json"], { api: api() }), NotFoundError);
  });

  it("uploadFile to a dataset", async () => {
    await createRepo("alice/ds", { api: api(), repoType: "dataset" });
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "train.jsonl"), '{"x": 1}\n');
    const res = await uploadFile("alice/ds", path.join(dir, "train.jsonl"), { api: api(), repoType: "dataset", pathInRepo: "data/" });
    assert.equal(res.committed, true);
    assert.deepEqual(res.files.map((f) => [f.path, f.status]), [["data/train.jsonl", "uploaded"]]);
    const snap = path.join(hub.root, "datasets", "alice--ds", "snapshots", "master", "data", "train.jsonl");
    assert.equal(fs.readFileSync(snap, "utf8"), '{"x": 1}\n');
  });
});
