// Datasets everywhere models are (issue 12 item 2): the official download spellings, the paged dataset
// tree, the official dataset cache layout (shared with the official client both ways), offline, cache
// ls/verify/rm, private datasets, the library; and one login for both tools (item 3), checked with the
// official client itself against our hub.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { snapshotDownload, downloadFile } from "../src/download/index.js";
import { HubApi } from "../src/hub/api.js";
import { bytes, cleanEnv, clearFaults, hubStats, modelscope, sha256, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";
import { OFFICIAL_SRC, runOfficial, skipOfficial } from "./helpers/official-client.js";


const PILE = {
  "README.md": "# pile validation sample\n",
  "data/val-00000.jsonl": bytes(40 * 1024, 3),
  "data/val-00001.jsonl": bytes(12 * 1024, 4),
};
// More than two pages of the tree (200 per page).
const MANY: Record<string, string> = {};
for (let i = 0; i < 430; i++) MANY[`shards/part-${String(i).padStart(4, "0")}.txt`] = `row ${i}\n`;
const PRIVATE_MODEL = { "config.json": '{"model_type": "llama"}\n' };
const SECRET_DS = { "calib.jsonl": '{"text": "secret"}\n' };

let hub: TestHub;
let alice: string;

before(async () => {
  hub = await startTestHub({
    users: ["alice"],
    testFaults: true,
    models: { "acme/private-model": PRIVATE_MODEL },
    private: { "acme/private-model": ["alice"] },
    datasets: { "acme/pile-val": PILE, "acme/many": MANY, "acme/secret-calib": SECRET_DS, "acme/official-first": PILE },
    privateDatasets: { "acme/secret-calib": ["alice"] },
  });
  alice = hub.tokens.alice!;
});
after(() => hub.close());

const envFor = (home: string, extra: Record<string, string | undefined> = {}) => cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, ...extra });
const cacheOf = (home: string) => path.join(home, ".cache", "modelscope");
const dsDir = (home: string, id: string) => path.join(cacheOf(home), "datasets", id.replace("/", "--"), "snapshots", "master");

/** Runs the official client's CLI against the test hub with this HOME (its output must hold no token). */
function official(home: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return runOfficial(["--endpoint", hub.url, ...args], envFor(home), home);
}

/** File GETs the hub served since the last clearFaults. */
async function fileRequests(): Promise<string[]> {
  return (await hubStats(hub)).requests.filter((r) => r.filePath !== undefined && r.method === "GET").map((r) => r.filePath!);
}

describe("datasets", () => {
  test("`download --dataset ID` and `--repo-type dataset`: the official dataset layout, verified", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "--dataset", "acme/pile-val"], { env: envFor(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), dsDir(home, "acme/pile-val"));
    for (const [p, content] of Object.entries(PILE)) assert.equal(sha256(fs.readFileSync(path.join(dsDir(home, "acme/pile-val"), p))), sha256(content), p);
    // --repo_type, the official underscore spelling, and --cache_dir / --local_dir.
    const other = tempDir();
    const r2 = await modelscope(["download", "acme/pile-val", "--repo_type", "dataset", "--cache_dir", other, "--include", "data/*"], { env: envFor(home) });
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(fs.readdirSync(path.join(other, "datasets", "acme--pile-val", "snapshots", "master", "data")).sort(), ["val-00000.jsonl", "val-00001.jsonl"]);
    const local = path.join(tempDir(), "calib");
    const r3 = await modelscope(["download", "--repo-type", "dataset", "acme/pile-val", "README.md", "--local_dir", local], { env: envFor(home) });
    assert.equal(r3.code, 0, r3.stderr);
    assert.equal(r3.stdout.trim(), path.join(local, "README.md"));
  });

  test("`--dataset ID FILE` and `--model ID FILE`: a positional after them is the first file, as in the official CLI", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "--dataset", "acme/pile-val", "data/val-00001.jsonl", "README.md"], { env: envFor(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), [path.join(dsDir(home, "acme/pile-val"), "data", "val-00001.jsonl"), path.join(dsDir(home, "acme/pile-val"), "README.md")]);
    const m = await modelscope(["download", "--model", "acme/private-model", "config.json", "--token", alice], { env: envFor(home) });
    assert.equal(m.code, 0, m.stderr);
    assert.equal(m.stdout.trim(), path.join(cacheOf(home), "models", "acme--private-model", "snapshots", "master", "config.json"));
    const both = await modelscope(["download", "--model", "a/b", "--dataset", "c/d"], { env: envFor(home) });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /^Error: Use either --model or --dataset, not both$/m);
    const bad = await modelscope(["download", "acme/pile-val", "--repo-type", "studio"], { env: envFor(home) });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^Error: Invalid --repo-type 'studio'$/m);
  });

  test("a dataset tree of several pages is listed whole (PageNumber/PageSize), and a re-run is a cache hit", async () => {
    const home = tempDir();
    await clearFaults(hub);
    const r = await modelscope(["download", "--dataset", "acme/many", "--json"], { env: envFor(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { downloaded: number }).downloaded, 430);
    const pages = (await hubStats(hub)).requests.filter((q) => q.path.endsWith("/repo/tree"));
    assert.equal(pages.length, 3);
    await clearFaults(hub);
    const again = await modelscope(["download", "--dataset", "acme/many", "--json"], { env: envFor(home) });
    assert.equal((JSON.parse(again.stdout) as { cached: number }).cached, 430);
    assert.deepEqual(await fileRequests(), []);
  });

  test("offline, cache ls / verify / rm know datasets", async () => {
    const home = tempDir();
    assert.equal((await modelscope(["download", "--dataset", "acme/pile-val"], { env: envFor(home) })).code, 0);
    const off = await modelscope(["download", "--dataset", "acme/pile-val", "--offline"], { env: envFor(home, { MODELSCOPE_ENDPOINT: "http://127.0.0.1:1" }) });
    assert.equal(off.code, 0, off.stderr);
    assert.equal(off.stdout.trim(), dsDir(home, "acme/pile-val"));
    // The same id as a model is not in the cache.
    const asModel = await modelscope(["download", "acme/pile-val", "--offline"], { env: envFor(home) });
    assert.equal(asModel.code, 1);
    const ls = await modelscope(["cache", "ls", "--json"], { env: envFor(home) });
    const models = (JSON.parse(ls.stdout) as { models: { modelId: string; repoType: string; bytes: number }[] }).models;
    assert.deepEqual(models.map((m) => [m.modelId, m.repoType]), [["acme/pile-val", "dataset"]]);
    const table = (await modelscope(["cache", "ls"], { env: envFor(home) })).stdout;
    assert.match(table, /^acme\/pile-val \(dataset\)\s+master/m);
    assert.match(table, /across 1 repo\(s\)$/m); // the official client's wording: models and datasets alike
    fs.appendFileSync(path.join(dsDir(home, "acme/pile-val"), "README.md"), "tampered");
    const verify = await modelscope(["cache", "verify", "acme/pile-val", "--repo-type", "dataset"], { env: envFor(home) });
    assert.equal(verify.code, 1);
    assert.match(verify.stdout, /^MISMATCH {2}README\.md$/m);
    // prune: a killed download's partial file in a dataset is a leftover like in a model.
    const partial = path.join(dsDir(home, "acme/pile-val"), "data", "val-00002.jsonl.incomplete");
    fs.writeFileSync(partial, "half");
    const prune = await modelscope(["cache", "prune", "--json"], { env: envFor(home) });
    assert.equal(prune.code, 0, prune.stderr);
    assert.deepEqual((JSON.parse(prune.stdout) as { partials: string[] }).partials, [partial]);
    assert.equal(fs.existsSync(partial), false);
    const rm = await modelscope(["cache", "rm", "acme/pile-val", "--repo-type", "dataset", "-y"], { env: envFor(home) });
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(fs.existsSync(path.join(cacheOf(home), "datasets", "acme--pile-val")), false);
  });

  test("a private dataset: not found signed out, downloaded signed in", async () => {
    const home = tempDir();
    const out = await modelscope(["download", "--dataset", "acme/secret-calib"], { env: envFor(home) });
    assert.equal(out.code, 1);
    assert.match(out.stderr, /not found/i);
    const r = await modelscope(["download", "--dataset", "acme/secret-calib"], { env: envFor(home, { MODELSCOPE_API_TOKEN: alice }) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(dsDir(home, "acme/secret-calib"), "calib.jsonl"), "utf8"), SECRET_DS["calib.jsonl"]);
  });

  test("serve: legacy info gives a numeric Id that repo/tree also takes (the compat form); private datasets stay hidden that way too", async () => {
    const get = async (p: string, token?: string) => {
      const res = await fetch(`${hub.url}${p}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      return { status: res.status, body: (await res.json()) as { Data?: { Id?: number; Files?: { Path: string }[] } } };
    };
    const info = await get("/api/v1/datasets/acme/pile-val");
    assert.equal(info.status, 200);
    const id = info.body.Data!.Id!;
    assert.ok(Number.isSafeInteger(id) && id > 0, String(id));
    const tree = await get(`/api/v1/datasets/${id}/repo/tree?Revision=master&Root=/&Recursive=True&PageNumber=1&PageSize=100`);
    assert.equal(tree.status, 200);
    assert.deepEqual(tree.body.Data!.Files!.map((f) => f.Path).sort(), Object.keys(PILE).sort());
    const secretId = (await get("/api/v1/datasets/acme/secret-calib", alice)).body.Data!.Id!;
    assert.equal((await get("/api/v1/datasets/acme/secret-calib")).status, 404);
    assert.equal((await get(`/api/v1/datasets/${secretId}/repo/tree?Revision=master`)).status, 404);
    assert.equal((await get(`/api/v1/datasets/${secretId}/repo/tree?Revision=master`, alice)).status, 200);
    assert.equal((await get("/api/v1/datasets/999/repo/tree")).status, 404);
    const page2 = await get("/api/v1/datasets/acme/many/repo/tree?Revision=master&PageNumber=3&PageSize=200");
    assert.equal(page2.body.Data!.Files!.length, 30);
  });

  test("the library: snapshotDownload and downloadFile with repoType: 'dataset'", async () => {
    const cacheDir = tempDir();
    const api = new HubApi({ endpoint: hub.url, env: {}, home: tempDir() });
    const res = await snapshotDownload("acme/pile-val", { repoType: "dataset", api, cacheDir });
    assert.equal(res.repoType, "dataset");
    assert.equal(res.path, path.join(cacheDir, "datasets", "acme--pile-val", "snapshots", "master"));
    assert.equal(res.files.length, 3);
    const one = await downloadFile("acme/pile-val", "README.md", { repoType: "dataset", api, cacheDir: tempDir() });
    assert.equal(fs.readFileSync(one, "utf8"), PILE["README.md"]);
  });
});

/** What the official CLI's own parser (with its legacy-flag normalisation) makes of `download ARGS`. */
function officialParse(args: string[]): { repo_id: string; repo_type: string; files: string[]; local_dir: string | null; cache_dir: string | null; token: string | null } {
  const script = `import json, sys, warnings
warnings.simplefilter("ignore")
from modelscope_hub.cli.main import _build_parser
from modelscope_hub.cli.compat import normalize_download_args
a = _build_parser().parse_args(["download", *sys.argv[1:]])
normalize_download_args(a)
print(json.dumps({k: getattr(a, k, None) for k in ("repo_id", "repo_type", "files", "local_dir", "cache_dir", "token")}))`;
  const r = spawnSync("/usr/bin/python3", ["-c", script, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin", PYTHONPATH: OFFICIAL_SRC }, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as ReturnType<typeof officialParse>;
}

describe("datasets and logins shared with the official client", { skip: skipOfficial }, () => {
  test("every official `download` spelling means here what the official CLI's parser makes of it", async () => {
    const home = tempDir();
    const L = path.join(tempDir(), "local");
    const C = tempDir();
    const cases: string[][] = [
      ["--dataset", "acme/pile-val", "README.md"],
      ["acme/pile-val", "README.md", "data/val-00000.jsonl", "--repo-type", "dataset"],
      ["--repo_type", "dataset", "acme/pile-val", "--local_dir", L],
      ["--model", "acme/private-model", "config.json", "--cache_dir", C, "--token", alice],
      ["acme/private-model", "--local-dir", L, "--token", alice, "--endpoint", hub.url],
      ["--dataset", "acme/pile-val", "data/val-00001.jsonl", "--cache-dir", C, "--revision", "master"],
    ];
    for (const args of cases) {
      const want = officialParse(args);
      const r = await modelscope(["download", ...args, "--dry-run", "--json"], { env: envFor(home) });
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      const got = JSON.parse(r.stdout) as { modelId: string; repoType: string; path: string; files: { path: string }[] };
      const where = `download ${args.join(" ")}`;
      assert.equal(got.modelId, want.repo_id, where);
      assert.equal(got.repoType, want.repo_type, where);
      if (want.files.length > 0) assert.deepEqual(got.files.map((f) => f.path), want.files, where);
      const root = want.cache_dir ?? cacheOf(home);
      assert.equal(got.path, want.local_dir ?? path.join(root, `${want.repo_type}s`, want.repo_id.replace("/", "--"), "snapshots", "master"), where);
    }
  });

  test("a dataset the official client downloaded is ours offline and a cache hit online; ours is a cache hit for it", async () => {
    const home = tempDir();
    const o = await official(home, ["download", "acme/official-first", "--repo-type", "dataset"]);
    assert.equal(o.code, 0, o.out);
    assert.ok(o.out.includes(dsDir(home, "acme/official-first")), o.out);
    const off = await modelscope(["download", "--dataset", "acme/official-first", "--offline"], { env: envFor(home) });
    assert.equal(off.code, 0, off.stderr);
    assert.equal(off.stdout.trim(), dsDir(home, "acme/official-first"));
    await clearFaults(hub);
    const online = await modelscope(["download", "--dataset", "acme/official-first"], { env: envFor(home) });
    assert.equal(online.code, 0, online.stderr);
    assert.deepEqual(await fileRequests(), []);

    // The reverse: ours first, then the official client finds every file (it re-hashes, fetches nothing).
    const home2 = tempDir();
    assert.equal((await modelscope(["download", "--dataset", "acme/pile-val"], { env: envFor(home2) })).code, 0);
    await clearFaults(hub);
    const o2 = await official(home2, ["download", "acme/pile-val", "--repo-type", "dataset"]);
    assert.equal(o2.code, 0, o2.out);
    assert.ok(o2.out.includes(`Snapshot ready at ${dsDir(home2, "acme/pile-val")}`), o2.out);
    assert.deepEqual(await fileRequests(), []);
  });

  test("the official client's compat API lists a private dataset by its numeric Id, signed in with our login", async () => {
    const home = tempDir();
    assert.equal((await modelscope(["login", "--token-stdin"], { env: envFor(home), input: alice })).code, 0);
    const script = `import json, os
from modelscope_hub.compat.hub_api import LegacyHubApi
files = LegacyHubApi(endpoint=os.environ["MODELSCOPE_ENDPOINT"]).get_dataset_files("acme/secret-calib")
print(json.dumps(sorted(f["Path"] for f in files)))`;
    // Not spawnSync: the hub answering it runs in this process.
    const child = spawn("/usr/bin/python3", ["-c", script], { env: { ...envFor(home), PYTHONPATH: OFFICIAL_SRC }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const [code] = (await once(child, "close")) as [number];
    assert.equal(code, 0, err);
    assert.deepEqual(JSON.parse(out), ["calib.jsonl"]);
  });

  test("after our login the official client is signed in as our user (private model and dataset); after our logout it is not", async () => {
    const home = tempDir();
    const login = await modelscope(["login", "--token-stdin"], { env: envFor(home), input: alice });
    assert.equal(login.code, 0, login.stderr);
    const who = await official(home, ["whoami"]);
    assert.equal(who.code, 0, who.out);
    assert.match(who.out, /^username\s*: alice$/m);
    const model = await official(home, ["download", "acme/private-model"]);
    assert.equal(model.code, 0, model.out);
    assert.equal(fs.readFileSync(path.join(cacheOf(home), "models", "acme--private-model", "snapshots", "master", "config.json"), "utf8"), PRIVATE_MODEL["config.json"]);
    const ds = await official(home, ["download", "acme/secret-calib", "--repo-type", "dataset"]);
    assert.equal(ds.code, 0, ds.out);
    assert.equal(fs.readFileSync(path.join(dsDir(home, "acme/secret-calib"), "calib.jsonl"), "utf8"), SECRET_DS["calib.jsonl"]);

    assert.equal((await modelscope(["logout"], { env: envFor(home) })).code, 0);
    const whoAfter = await official(home, ["whoami"]);
    assert.equal(whoAfter.code, 1, whoAfter.out);
    assert.doesNotMatch(whoAfter.out, /username\s*: alice/);
    const dsAfter = await official(home, ["download", "acme/secret-calib", "--repo-type", "dataset", "--cache-dir", tempDir()]);
    assert.notEqual(dsAfter.code, 0, dsAfter.out);
  });
});
