// The official Python client (../shared/reference/modelscope_hub, run unchanged) against our hub: it
// creates a repo and uploads a folder, our client downloads it; we upload, it downloads. Its own test of
// "never silently public": the official client asks for a public repo by default, and we print whatever
// it asked for, while our own `upload --create-repo` makes a private one.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { bytes, cleanEnv, modelscope, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";
import { runOfficial, skipOfficial } from "./helpers/official-client.js";
import { writeFolder } from "./helpers/upload.js";

const skip = skipOfficial;

/** Runs the official CLI with a temp HOME and this token (its output must hold no token). */
function official(args: string[], home: string, token: string): Promise<{ code: number | null; out: string }> {
  return runOfficial(args, { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, LANG: "C.UTF-8", MODELSCOPE_API_TOKEN: token, MODELSCOPE_CACHE: path.join(home, "cache") });
}

function treeOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith(".")) continue;
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), p);
      else out[p] = fs.readFileSync(path.join(d, e.name)).toString("base64").slice(0, 64) + fs.statSync(path.join(d, e.name)).size;
    }
  };
  walk(dir, "");
  return out;
}

describe("uploads interoperate with the official Python client", { skip }, () => {
  let hub: TestHub;
  const files = { "config.json": '{"model_type": "llama"}', "model.safetensors": bytes(3 * 1024 * 1024, 41), "tok/vocab.txt": "a b c\n" };

  before(async () => {
    hub = await startTestHub({ users: ["alice"] });
  });
  after(() => hub.close());

  it("official create + upload, then our download gets the same bytes", async () => {
    const home = tempDir();
    const dir = writeFolder(files);
    const created = await official(["--endpoint", hub.url, "create", "alice/from-py", "--repo-type", "model", "--visibility", "private"], home, hub.tokens.alice!);
    assert.equal(created.code, 0, created.out);
    assert.equal((await fetch(`${hub.url}/api/v1/models/alice/from-py`)).status, 404, "private, as asked");
    const up = await official(["--endpoint", hub.url, "upload", "alice/from-py", dir], home, hub.tokens.alice!);
    assert.equal(up.code, 0, up.out);
    const dl = tempDir();
    const r = await modelscope(["download", "alice/from-py", "--local-dir", dl], { env: cleanEnv(tempDir(), { MODELSCOPE_ENDPOINT: hub.url, MODELSCOPE_API_TOKEN: hub.tokens.alice }) });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(treeOf(dl), treeOf(dir));
  });

  it("our create + upload, then the official download gets the same bytes", async () => {
    const env = cleanEnv(tempDir(), { MODELSCOPE_ENDPOINT: hub.url, MODELSCOPE_API_TOKEN: hub.tokens.alice });
    const dir = writeFolder(files);
    const up = await modelscope(["upload", "alice/from-node", dir, "--create-repo"], { env });
    assert.equal(up.code, 0, up.stderr);
    const home = tempDir();
    const dl = path.join(home, "dl");
    const r = await official(["--endpoint", hub.url, "download", "alice/from-node", "--local_dir", dl], home, hub.tokens.alice!);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(treeOf(dl), treeOf(dir));
  });

  it("a re-upload by the official client of what we uploaded commits nothing new (dedup across clients)", async () => {
    const home = tempDir();
    const dir = writeFolder(files);
    const before = await fetch(`${hub.url}/api/v1/models/alice/from-node/repo/files?Revision=master`, { headers: { authorization: `Bearer ${hub.tokens.alice}` } });
    const up = await official(["--endpoint", hub.url, "upload", "alice/from-node", dir], home, hub.tokens.alice!);
    assert.equal(up.code, 0, up.out);
    assert.match(up.out, /LFS uploaded PUT\s*:\s*0/);
    const afterList = await fetch(`${hub.url}/api/v1/models/alice/from-node/repo/files?Revision=master`, { headers: { authorization: `Bearer ${hub.tokens.alice}` } });
    const shas = async (res: Response) => ((await res.json()) as { Data: { Files: { Path: string; Sha256: string }[] } }).Data.Files.map((f) => `${f.Path}:${f.Sha256}`).sort();
    assert.deepEqual(await shas(afterList), await shas(before));
  });
});
