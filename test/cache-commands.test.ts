// `modelscope cache ls | rm | verify | prune` on a real cache filled by real downloads.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { bytes, cleanEnv, modelscope, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

let hub: TestHub;
before(async () => {
  hub = await startTestHub({
    models: { "acme/a": { "x.bin": bytes(5000, 1), "c.json": "{}" }, "acme/b": { revisions: { master: { "m.txt": "m" }, "v1": { "m.txt": "v1" } } } },
  });
});
after(() => hub.close());

const env = (home: string) => cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url });
const cache = (home: string) => path.join(home, ".cache", "modelscope");

async function filled(): Promise<string> {
  const home = tempDir();
  for (const args of [["acme/a"], ["acme/b"], ["acme/b", "--revision", "v1"]]) {
    const r = await modelscope(["download", ...args], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
  }
  return home;
}

describe("modelscope cache", () => {
  test("ls shows models, revisions and sizes", async () => {
    const home = await filled();
    const r = await modelscope(["cache", "ls", "--json"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.bytes, 5002 + 1 + 2);
    assert.deepEqual(s.models.map((m: { modelId: string }) => m.modelId), ["acme/a", "acme/b"]);
    assert.deepEqual(s.models[1].revisions.map((x: { revision: string }) => x.revision).sort(), ["master", "v1"]);
    const text = await modelscope(["cache", "ls"], { env: env(home) });
    assert.match(text.stdout, /acme\/a\s+master/);
  });

  test("rm removes one revision, or the whole model; without -y and no terminal it refuses", async () => {
    const home = await filled();
    const refused = await modelscope(["cache", "rm", "acme/b"], { env: env(home) });
    assert.equal(refused.code, 2);
    assert.ok(fs.existsSync(path.join(cache(home), "models", "acme--b")));
    const r = await modelscope(["cache", "rm", "acme/b", "--revision", "v1", "-y"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!fs.existsSync(path.join(cache(home), "models", "acme--b", "snapshots", "v1")));
    assert.ok(fs.existsSync(path.join(cache(home), "models", "acme--b", "snapshots", "master", "m.txt")));
    assert.equal((await modelscope(["cache", "rm", "acme/a", "-y"], { env: env(home) })).code, 0);
    assert.ok(!fs.existsSync(path.join(cache(home), "models", "acme--a")));
  });

  test("in Chinese: the sentences are translated, the data rows stay as they are", async () => {
    const home = await filled();
    const zh = { ...env(home), LANG: "zh_CN.UTF-8" };
    const dry = await modelscope(["download", "acme/a", "--dry-run", "--force"], { env: zh });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /^将下载 2 个文件（.+）到 /m);
    assert.match(dry.stdout, /^fetch\s+\S+ \S+\s+x\.bin$/m);
    const verified = await modelscope(["cache", "verify", "acme/a"], { env: zh });
    assert.match(verified.stdout, /^已校验模型 'acme\/a' 的 2 个文件，位于 /m);
    const gone = await modelscope(["cache", "rm", "acme/b", "--revision", "v1", "-y"], { env: zh });
    assert.match(gone.stdout, /^已删除 .+：从缓存中释放 .+。$/m);
    const again = await modelscope(["cache", "rm", "acme/b", "--revision", "v1", "-y"], { env: zh });
    assert.match(again.stderr, /^缓存中没有 acme\/b（版本 v1）。$/m);
  });

  test("verify re-hashes against the hub: a tampered file fails with exit 1, a good cache passes", async () => {
    const home = await filled();
    const ok = await modelscope(["cache", "verify", "acme/a"], { env: env(home) });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Verified 2 file\(s\)/);
    const file = path.join(cache(home), "models", "acme--a", "snapshots", "master", "x.bin");
    const data = fs.readFileSync(file);
    data[10] = data[10]! ^ 1;
    fs.writeFileSync(file, data);
    const bad = await modelscope(["cache", "verify", "acme/a"], { env: env(home) });
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /MISMATCH\s+x\.bin/);
    // The next download notices (the record no longer matches) and repairs it.
    const fix = await modelscope(["download", "acme/a", "--json"], { env: env(home) });
    assert.deepEqual(JSON.parse(fix.stdout).files.filter((f: { status: string }) => f.status === "downloaded").map((f: { path: string }) => f.path), ["x.bin"]);
  });

  test("bad input in Chinese: the line and the fix are Chinese, the values as given, exit 2", async () => {
    const zh = { ...env(tempDir()), LANG: "zh_CN.UTF-8" };
    const cases: [string[], RegExp, RegExp][] = [
      [["download", "not-a-model-id"], /^错误：无效的模型 ID 'not-a-model-id'$/m, /^ {2}解决：请使用 owner\/name 的形式/m],
      [["download", "acme/a", "--revision", "../x"], /^错误：无效的版本 '\.\.\/x'$/m, /^ {2}解决：请使用分支、标签或提交 ID/m],
      [["download", "acme/a", "../etc/passwd"], /^错误：无效的文件路径 '\.\.\/etc\/passwd'（含 '\.\.'）$/m, /^ {2}解决：请按模型中的路径写文件名/m],
      [["download", "acme/a", "--max-workers", "0"], /^错误：无效的 --max-workers '0'$/m, /^ {2}解决：请使用 1 到 64 之间的整数$/m],
      [["cache", "verify", "acme/zzz"], /^错误：缓存中没有 acme\/zzz（版本 master）：/m, /^ {2}解决：请先用 `modelscope download` 下载$/m],
    ];
    for (const [args, line, fix] of cases) {
      const r = await modelscope(args, { env: zh });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, line, args.join(" "));
      assert.match(r.stderr, fix, args.join(" "));
      assert.doesNotMatch(r.stderr, /Invalid|use |not in the cache/, `English left in: ${r.stderr}`);
    }
    // The same errors in English are unchanged.
    const en = await modelscope(["download", "not-a-model-id"], { env: env(tempDir()) });
    assert.match(en.stderr, /^Error: Invalid model ID 'not-a-model-id'\n {2}Fix: use the form owner\/name/m);
  });

  test("flag and argument mistakes: one line, a fix naming the command's --help and any suggestion, en and zh, exit 2", async () => {
    const zh = { ...env(tempDir()), LANG: "zh_CN.UTF-8" };
    const en = env(tempDir());
    const cases: [string[], RegExp, RegExp, RegExp, RegExp][] = [
      [["download", "--revisoin", "v1", "acme/a"], /^Error: unknown option '--revisoin'$/m, /^ {2}Fix: did you mean --revision\? Or run `modelscope download --help` for usage$/m,
        /^错误：未知选项 '--revisoin'$/m, /^ {2}解决：是否想输入 --revision？运行 `modelscope download --help` 查看用法$/m],
      [["downlod"], /^Error: unknown command 'downlod'$/m, /^ {2}Fix: did you mean download\?/m, /^错误：未知命令 'downlod'$/m, /^ {2}解决：是否想输入 download？/m],
      // As the official CLI, the repo id may come as --model/--dataset instead of the positional.
      [["download"], /^Error: No repo id given$/m, /^ {2}Fix: e\.g\. `modelscope download owner\/name` or `modelscope download --dataset owner\/name`$/m, /^错误：没有指定仓库 ID$/m, /^ {2}解决：例如 `modelscope download owner\/name`/m],
      [["login", "--token"], /^Error: option '--token <token>' argument missing$/m, /modelscope login --help/, /^错误：选项 '--token <token>' 缺少值$/m, /modelscope login --help/],
      [["cache", "rm", "a/b", "c", "d"], /^Error: too many arguments for 'rm'\. Expected 1 argument but got 3\.$/m, /modelscope cache rm --help/, /^错误：参数过多：应为 1 个，实际为 3 个$/m, /modelscope cache rm --help/],
    ];
    for (const [args, enLine, enFix, zhLine, zhFix] of cases) {
      for (const [e, line, fix] of [[en, enLine, enFix], [zh, zhLine, zhFix]] as const) {
        const r = await modelscope(args, { env: e });
        assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, line, r.stderr);
        assert.match(r.stderr, fix, r.stderr);
        assert.equal(r.stderr.trimEnd().split("\n").length, 2, `one line and a fix: ${r.stderr}`);
      }
    }
  });

  test("prune removes partial files, stale locks and orphan records, and keeps good files", async () => {
    const home = await filled();
    const snap = path.join(cache(home), "models", "acme--a", "snapshots", "master");
    fs.writeFileSync(path.join(snap, "y.bin.incomplete"), "partial");
    fs.mkdirSync(path.join(cache(home), ".lock"), { recursive: true });
    fs.writeFileSync(path.join(cache(home), ".lock", "dc-deadbeef.lock"), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import("node:os")).hostname(), nonce: "x", created: "" }));
    fs.rmSync(path.join(snap, "c.json"));
    const r = await modelscope(["cache", "prune", "--json"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.partials.length, 1);
    assert.equal(s.staleLocks.length, 1);
    assert.equal(s.orphanRecords.length, 1);
    assert.ok(!fs.existsSync(path.join(snap, "y.bin.incomplete")));
    assert.ok(fs.existsSync(path.join(snap, "x.bin")));
  });

  test("prune removes the bookkeeping of a revision whose snapshot was deleted by hand, and only that", async () => {
    const home = await filled();
    const modelDir = path.join(cache(home), "models", "acme--b");
    fs.rmSync(path.join(modelDir, "snapshots", "v1"), { recursive: true });
    const meta = (rev: string) => path.join(modelDir, ".dc-meta", rev);
    assert.ok(fs.existsSync(path.join(meta("v1"), "listing.json")), "the download saved no listing");
    const r = await modelscope(["cache", "prune", "--json"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    const left = (rev: string) => (fs.existsSync(meta(rev)) ? fs.readdirSync(meta(rev), { recursive: true }).map(String).filter((n) => n.endsWith(".json")) : []);
    assert.deepEqual(left("v1"), []);
    assert.ok(left("master").includes("listing.json"), JSON.stringify(left("master")));
    assert.ok(JSON.parse(r.stdout).orphanRecords.some((p: string) => p.endsWith(path.join("v1", "listing.json"))));
  });
});
