// `modelscope upload` against the local hub: folders and files, include/exclude, dedup on a re-run,
// dry runs, a missing repo, a refused commit, and what the hub ends up serving.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { bytes, cleanEnv, clearFaults, hubStats, modelscope, sha256, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";
import { remoteFiles, writeFolder } from "./helpers/upload.js";

describe("modelscope upload", () => {
  let hub: TestHub;
  let home: string;
  const env = (user = "alice") => cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, MODELSCOPE_API_TOKEN: hub.tokens[user] });
  const big = bytes(3 * 1024 * 1024, 7);
  const folder = () => writeFolder({ "config.json": '{"a": 1}', "model.safetensors": big, "sub/readme.md": "hello", ".git/HEAD": "ref", "notes.tmp": "x" });

  before(async () => {
    hub = await startTestHub({ users: ["alice", "bob"], testFaults: true });
    home = tempDir();
  });
  after(() => hub.close());

  it("uploads a folder in one commit; the hub serves exactly those bytes; .git is never sent", async () => {
    assert.equal((await modelscope(["create", "alice/m1"], { env: env() })).code, 0);
    const dir = folder();
    await clearFaults(hub);
    const r = await modelscope(["upload", "alice/m1", dir, "--exclude", "*.tmp"], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Uploaded 3 file\(s\) to alice\/m1@master: 1 new blob\(s\), 3\.0 MiB sent, 0 unchanged; commit [0-9a-f]{40}\n$/);
    assert.deepEqual(await remoteFiles(hub, "alice/m1", hub.tokens.alice!), {
      "config.json": sha256('{"a": 1}'),
      "model.safetensors": sha256(big),
      "sub/readme.md": sha256("hello"),
    });
    const commits = (await hubStats(hub)).requests.filter((q) => /\/commit\//.test(q.path));
    assert.equal(commits.length, 1);
    // The resume state lives under the config home, never in the uploaded folder.
    assert.deepEqual(fs.readdirSync(dir).sort(), [".git", "config.json", "model.safetensors", "notes.tmp", "sub"]);
    assert.equal(fs.readdirSync(path.join(home, ".modelscope", "upload-state")).length, 1);
    assert.equal(fs.statSync(path.join(home, ".modelscope", "upload-state")).mode & 0o777, 0o700);

    // A re-run sends nothing and commits nothing.
    await clearFaults(hub);
    const again = await modelscope(["upload", "alice/m1", dir, "--exclude", "*.tmp"], { env: env() });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Nothing to upload: alice\/m1@master already has these 3 file\(s\)/);
    const seen = (await hubStats(hub)).requests;
    assert.equal(seen.filter((q) => q.method === "PUT" || /\/commit\/|lfs/.test(q.path)).length, 0);
  });

  it("dedup: a changed small file is committed, the big blob is not sent again (even with --no-cache)", async () => {
    const dir = folder();
    fs.writeFileSync(path.join(dir, "config.json"), '{"a": 2}');
    await clearFaults(hub);
    const r = await modelscope(["upload", "alice/m1", dir, "--include", "*.json", "*.safetensors", "--no-cache", "--json"], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { committed: boolean; bytesSent: number; files: { path: string; status: string }[] };
    assert.equal(out.committed, true);
    assert.equal(out.bytesSent, 0);
    assert.deepEqual(Object.fromEntries(out.files.map((f) => [f.path, f.status])), { "config.json": "inline", "model.safetensors": "unchanged" });
    assert.equal((await hubStats(hub)).requests.filter((q) => q.method === "PUT").length, 0);
    assert.equal((await remoteFiles(hub, "alice/m1", hub.tokens.alice!))["config.json"], sha256('{"a": 2}'));
  });

  it("a blob the hub already has (same bytes, another repo) is committed without sending it", async () => {
    assert.equal((await modelscope(["create", "alice/m2"], { env: env() })).code, 0);
    const dir = writeFolder({ "copy.bin": big });
    await clearFaults(hub);
    const r = await modelscope(["upload", "alice/m2", dir, "--json"], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { files: { status: string }[] }).files[0]!.status, "deduplicated");
    assert.equal((await hubStats(hub)).requests.filter((q) => q.method === "PUT").length, 0);
  });

  it("uploads one file, to its base name or to PATH_IN_REPO; earlier commits stay downloadable by id", async () => {
    const dir = writeFolder({ "w.bin": bytes(2000, 3) });
    const first = await modelscope(["upload", "alice/m1", path.join(dir, "w.bin"), "--json"], { env: env() });
    assert.equal(first.code, 0, first.stderr);
    const firstCommit = (JSON.parse(first.stdout) as { commitId: string }).commitId;
    fs.writeFileSync(path.join(dir, "w.bin"), bytes(2000, 4));
    const second = await modelscope(["upload", "alice/m1", path.join(dir, "w.bin"), "weights/w.bin"], { env: env() });
    assert.equal(second.code, 0, second.stderr);
    const now = await remoteFiles(hub, "alice/m1", hub.tokens.alice!);
    assert.equal(now["w.bin"], sha256(bytes(2000, 3)));
    assert.equal(now["weights/w.bin"], sha256(bytes(2000, 4)));
    const old = await remoteFiles(hub, "alice/m1", hub.tokens.alice!, firstCommit);
    assert.equal(old["weights/w.bin"], undefined);
    const dl = tempDir();
    const got = await modelscope(["download", "alice/m1", "--revision", firstCommit, "--local-dir", dl], { env: env() });
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(fs.readFileSync(path.join(dl, "model.safetensors")), big);
  });

  it("--dry-run sends and commits nothing", async () => {
    const dir = writeFolder({ "new.txt": "new" });
    await clearFaults(hub);
    const r = await modelscope(["upload", "alice/m1", dir, "--dry-run"], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /upload .* new\.txt/);
    assert.match(r.stderr, /Would upload 1 file\(s\)/);
    assert.equal((await hubStats(hub)).requests.filter((q) => q.method !== "GET").length, 0);
  });

  it("a missing repo is an error, not a silent public repo; --create-repo makes it private", async () => {
    const dir = writeFolder({ "a.txt": "a" });
    const r = await modelscope(["upload", "alice/fresh", dir], { env: env() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: Repository alice\/fresh does not exist.*\n {2}Fix: create it first with `modelscope create alice\/fresh`.*--create-repo/);
    assert.equal(fs.existsSync(path.join(hub.root, "models", "alice--fresh")), false);
    const c = await modelscope(["upload", "alice/fresh", dir, "--create-repo"], { env: env() });
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stderr, /Created private repository alice\/fresh/);
    assert.equal((await fetch(`${hub.url}/api/v1/models/alice/fresh`)).status, 404);
  });

  it("a refused commit is exit 1 (a tag is not a branch), never 'nothing to upload'", async () => {
    await fetch(`${hub.url}/api/v1/models/alice/m1/repo/tag`, { method: "POST", headers: { authorization: `Bearer ${hub.tokens.alice}` }, body: JSON.stringify({ TagName: "v1.0", Ref: "master" }) });
    const dir = writeFolder({ "t.txt": "t" });
    const r = await modelscope(["upload", "alice/m1", dir, "--revision", "v1.0"], { env: env() });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^Error: The hub refused the upload: You can only create or edit files when you are on a branch.*nothing was committed\n/);
  });

  it("someone else's repo: private ones look missing, public ones say no permission; signed out says log in", async () => {
    const dir = writeFolder({ "x.txt": "x" });
    const hidden = await modelscope(["upload", "alice/m1", dir], { env: env("bob") });
    assert.equal(hidden.code, 1);
    assert.match(hidden.stderr, /does not exist/);
    assert.equal((await modelscope(["create", "alice/pub", "--visibility", "public"], { env: env() })).code, 0);
    const denied = await modelscope(["upload", "alice/pub", dir], { env: env("bob") });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^Error: No permission to write to alice\/pub/);
    const anon = await modelscope(["upload", "alice/pub", dir], { env: cleanEnv(tempDir(), { MODELSCOPE_ENDPOINT: hub.url }) });
    assert.equal(anon.code, 1);
    assert.match(anon.stderr, /Not logged in/);
  });

  it("usage errors: a missing local path, a bad --max-workers", async () => {
    const r = await modelscope(["upload", "alice/m1", "/nonexistent/x"], { env: env() });
    assert.equal(r.code, 2);
    const w = await modelscope(["upload", "alice/m1", ".", "--max-workers", "0"], { env: env() });
    assert.equal(w.code, 2);
  });
});
