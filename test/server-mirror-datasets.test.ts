// `serve --upstream` for datasets: a real mirror process in front of a second hub (in this process). Listings,
// info and revisions are passed through and cached; files are filled once and kept; a private dataset goes by
// upstream's answer for each client's own token; once upstream is gone, what was fetched is still served.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { closeDispatchers } from "../src/http/dispatcher.js";
import { bytes, cleanEnv, hubStats, modelscope, sha256, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";
import { runOfficial, skipOfficial } from "./helpers/official-client.js";
import { startServe, type ServeProcess } from "./helpers/serve-process.js";

const BIG = bytes(2 * 1024 * 1024 + 5, 31);
const PUBLIC = { "train.csv": "a,b\n1,2\n", "data/big.bin": BIG };
const PRIVATE = { "secret.csv": "private rows\n" };

let upstream: TestHub;
let mirror: ServeProcess;
let mirrorRoot: string;
let alice: string;
let bob: string;

before(async () => {
  upstream = await startTestHub({
    testFaults: true,
    datasets: { "acme/dpub": PUBLIC, "acme/dpriv": PRIVATE, "acme/dgated": { "g.csv": "gated rows\n" }, "acme/dnever": { "x.csv": "never fetched" } },
    // A private model of the same id as the public dataset: access is kept per repo type.
    models: { "acme/dpub": { "m.txt": "model bytes" } },
    users: ["alice", "bob"],
    private: { "acme/dpub": ["alice"] },
    privateDatasets: { "acme/dpriv": ["alice"] },
  });
  ({ alice, bob } = upstream.tokens as { alice: string; bob: string });
  // A gated dataset (the test hub's options have none): visible to all, downloadable by alice only.
  const hubJson = path.join(upstream.root, "hub.json");
  const config = JSON.parse(fs.readFileSync(hubJson, "utf8")) as { datasets: { gated: Record<string, string[]> } };
  config.datasets.gated = { "acme/dgated": ["alice"] };
  fs.writeFileSync(hubJson, JSON.stringify(config));
  mirrorRoot = path.join(tempDir("dc-mirror-ds-"), "root");
  mirror = await startServe(["--root", mirrorRoot, "--upstream", upstream.url, "--mirror-ttl", "0", "--access-log", "off"]);
});

after(async () => {
  await mirror?.stop();
  await closeDispatchers();
  await upstream?.close().catch(() => undefined);
});

const auth = (token?: string): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});
const fileUrl = (base: string, id: string, file: string) => `${base}/api/v1/datasets/${id}/repo?Revision=master&FilePath=${encodeURIComponent(file)}`;
const cached = (home: string, id: string, file: string) => path.join(home, ".cache", "modelscope", "datasets", id.replace("/", "--"), "snapshots", "master", ...file.split("/"));

function official(home: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return runOfficial(["--endpoint", mirror.url, ...args], cleanEnv(home), home);
}

function ours(home: string, args: string[], extra: Record<string, string> = {}) {
  return modelscope(args, { env: cleanEnv(home, { MODELSCOPE_ENDPOINT: mirror.url, MODELSCOPE_API_MAX_RETRIES: "0", ...extra }) });
}

function assertHasPublic(home: string): void {
  assert.equal(fs.readFileSync(cached(home, "acme/dpub", "train.csv"), "utf8"), PUBLIC["train.csv"]);
  assert.equal(sha256(fs.readFileSync(cached(home, "acme/dpub", "data/big.bin"))), sha256(BIG));
}

/** An answer without its per-request id (each answer has its own). */
function withoutRequestId(body: unknown): unknown {
  const { RequestId: _a, request_id: _b, ...rest } = body as Record<string, unknown>;
  return rest;
}

describe("pull-through mirror: datasets", () => {
  test("our client and the official one download a public dataset through the mirror; upstream sends each file once", async () => {
    const home = tempDir();
    const r = await ours(home, ["download", "acme/dpub", "--repo-type", "dataset"]);
    assert.equal(r.code, 0, r.stderr);
    assertHasPublic(home);
    assert.equal(sha256(fs.readFileSync(path.join(mirrorRoot, "datasets", "acme--dpub", "snapshots", "master", "data", "big.bin"))), sha256(BIG));
    if (!skipOfficial) {
      const other = tempDir();
      const o = await official(other, ["download", "acme/dpub", "--repo-type", "dataset"]);
      assert.equal(o.code, 0, o.out);
      assertHasPublic(other);
    }
    assert.equal((await hubStats(upstream)).bytesSent["data/big.bin"], BIG.length, "filled once, then served from the mirror's root");
    // Same id, other type: the model acme/dpub is private upstream, and stays so through the mirror.
    const model = await fetch(`${mirror.url}/api/v1/models/acme/dpub/repo?Revision=master&FilePath=m.txt`);
    assert.equal(model.status, 404);
    assert.doesNotMatch(await model.text(), /model bytes/);
  });

  test("dataset info, revisions, the list and the tree by numeric Id come from upstream", async () => {
    for (const p of ["/api/v1/datasets/acme/dpub", "/openapi/v1/datasets/acme/dpub", "/api/v1/datasets/acme/dpub/revisions", "/openapi/v1/datasets"]) {
      const [viaMirror, direct] = await Promise.all([fetch(mirror.url + p), fetch(upstream.url + p)]);
      assert.equal(viaMirror.status, 200, p);
      assert.deepEqual(withoutRequestId(await viaMirror.json()), withoutRequestId(await direct.json()), p);
    }
    const info = (await (await fetch(`${mirror.url}/api/v1/datasets/acme/dpub`)).json()) as { Data: { Id: number } };
    const tree = await fetch(`${mirror.url}/api/v1/datasets/${info.Data.Id}/repo/tree?Revision=master&Root=/&PageSize=100`);
    assert.equal(tree.status, 200);
    const paths = ((await tree.json()) as { Data: { Files: { Path: string }[] } }).Data.Files.map((f) => f.Path);
    assert.ok(paths.includes("train.csv"), paths.join(","));
    // The private dataset is not in the anonymous list.
    const list = (await (await fetch(`${mirror.url}/openapi/v1/datasets`)).json()) as { data: { datasets: { id: string }[] } };
    assert.deepEqual(list.data.datasets.map((d) => d.id).sort(), ["acme/dgated", "acme/dnever", "acme/dpub"]);
  });

  test("private and gated datasets: alice gets them (both clients), bob and anonymous are refused, kept bytes included", async () => {
    for (let round = 0; round < 2; round++) {
      // Round 0 fills the mirror for alice; round 1 is served from what it kept.
      const mine = await fetch(fileUrl(mirror.url, "acme/dpriv", "secret.csv"), { headers: auth(alice) });
      assert.equal(mine.status, 200);
      assert.equal(await mine.text(), PRIVATE["secret.csv"]);
      for (const [who, token] of [["bob", bob], ["anonymous", undefined]] as const) {
        for (const p of [fileUrl(mirror.url, "acme/dpriv", "secret.csv"), `${mirror.url}/api/v1/datasets/acme/dpriv/repo/tree?Revision=master&Recursive=True&PageNumber=1&PageSize=200`]) {
          const r = await fetch(p, { headers: auth(token) });
          assert.equal(r.status, 404, `${who}, round ${round}: ${p}`);
          assert.doesNotMatch(await r.text(), /private rows/);
        }
      }
    }
    assert.ok(fs.existsSync(path.join(mirrorRoot, "datasets", "acme--dpriv", "snapshots", "master", "secret.csv")));
    // Gated: alice downloads, bob is refused (403), anonymous asked to sign in (401); kept bytes included.
    for (let round = 0; round < 2; round++) {
      const g = await fetch(fileUrl(mirror.url, "acme/dgated", "g.csv"), { headers: auth(alice) });
      assert.equal(await g.text(), "gated rows\n");
      for (const [token, status] of [[bob, 403], [undefined, 401]] as const) {
        const r = await fetch(fileUrl(mirror.url, "acme/dgated", "g.csv"), { headers: auth(token) });
        assert.equal(r.status, status, `round ${round}`);
        assert.doesNotMatch(await r.text(), /gated rows/);
      }
    }
    const home = tempDir();
    const r = await ours(home, ["download", "acme/dpriv", "--repo-type", "dataset"], { MODELSCOPE_API_TOKEN: alice });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(cached(home, "acme/dpriv", "secret.csv"), "utf8"), PRIVATE["secret.csv"]);
    const denied = await ours(tempDir(), ["download", "acme/dpriv", "--repo-type", "dataset"], { MODELSCOPE_API_TOKEN: bob });
    assert.equal(denied.code, 1);
    if (!skipOfficial) {
      // Our login writes the official client's login too; through the mirror, upstream decides.
      const offHome = tempDir();
      const ok = await modelscope(["login", "--token-stdin"], { env: cleanEnv(offHome, { MODELSCOPE_ENDPOINT: mirror.url }), input: alice });
      assert.equal(ok.code, 0, ok.stderr);
      const o = await official(offHome, ["download", "acme/dpriv", "--repo-type", "dataset"]);
      assert.equal(o.code, 0, o.out);
      assert.equal(fs.readFileSync(cached(offHome, "acme/dpriv", "secret.csv"), "utf8"), PRIVATE["secret.csv"]);
      const anon = await official(tempDir(), ["download", "acme/dpriv", "--repo-type", "dataset"]);
      assert.notEqual(anon.code, 0, anon.out);
    }
  });

  test("upstream gone after a fill: the public dataset is still served to both clients, private and never-fetched ones are clear errors", async () => {
    await upstream.close();
    const home = tempDir();
    const r = await ours(home, ["download", "acme/dpub", "--repo-type", "dataset"]);
    assert.equal(r.code, 0, r.stderr);
    assertHasPublic(home);
    if (!skipOfficial) {
      const other = tempDir();
      const o = await official(other, ["download", "acme/dpub", "--repo-type", "dataset"]);
      assert.equal(o.code, 0, o.out);
      assertHasPublic(other);
    }
    // Private bytes are not served on an old answer while upstream cannot confirm.
    const p = await fetch(fileUrl(mirror.url, "acme/dpriv", "secret.csv"), { headers: auth(alice) });
    assert.equal(p.status, 502);
    assert.doesNotMatch(await p.text(), /private rows/);
    const never = await ours(tempDir(), ["download", "acme/dnever", "--repo-type", "dataset"]);
    assert.equal(never.code, 1);
    assert.match(never.stderr, /cannot be reached \(ECONNREFUSED\), and acme\/dnever was never fetched through this mirror/);
  });
});
