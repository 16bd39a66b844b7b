// Issue 10 items 10 and 13: what a hostile (or broken) hub sends is untrusted. Control characters and
// terminal escapes in its words, user names and file names never reach the terminal; listings with paths
// that carry them, that put a file where a folder is, or that reach into our .dc-meta folder are refused;
// files without a sha256 are said to be checked by size only, once per run.
// Real HTTP against a purpose-built server on 127.0.0.1 (our own hub never sends such answers).
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanEnv, modelscope, sha256, tempDir } from "./helpers/hub.js";

const ESC = "\u001b";
const EVIL_NAME = `${ESC}]0;owned${"\u0007"}eve${ESC}[2J\r\u009b31m`;

interface Entry {
  Path: string;
  Size: number;
  Sha256?: string;
  Type?: string;
}

/** model id -> its files (path -> content); each listed with its sha256 unless `noSha` names it. */
const MODELS: Record<string, { files: Record<string, string>; noSha?: string[]; extra?: Entry[] }> = {
  "acme/newline": { files: { "ok.txt": "ok", "a\nfetch      1 B  evil.bin": "x" } },
  "acme/escape": { files: { [`${ESC}[2Jclear.txt`]: "x" } },
  "acme/c1": { files: { "\u009b2Jc1.txt": "x" } },
  "acme/clash": { files: { weights: "a file", "weights/model.bin": "a file in a folder of the same name" } },
  "acme/meta": { files: { "config.json": "{}", ".dc-meta/verified-summary.json": '{"v":1,"files":{}}' } },
  "acme/nosha": { files: { "a.bin": "aaaa", "b.bin": "bbbb", "c.bin": "cccc" }, noSha: ["a.bin", "b.bin"] },
};

let server: http.Server;
let url: string;
// Removed when this file's process ends (test/helpers/hub.ts).
const dir = () => tempDir("dc-hostile-");

function listing(id: string): Entry[] {
  const m = MODELS[id]!;
  return Object.entries(m.files).map(([p, c]) => ({ Path: p, Size: Buffer.byteLength(c), Type: "blob", ...(m.noSha?.includes(p) ? {} : { Sha256: sha256(c) }) }));
}

before(async () => {
  server = http.createServer((req, res) => {
    const u = new URL(req.url!, "http://x");
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    req.resume();
    if (u.pathname === "/api/v1/login") return json(200, { Code: 200, Data: { AccessToken: "x" }, Success: true });
    if (u.pathname === "/openapi/v1/users/me") return json(200, { success: true, data: { username: EVIL_NAME, email: `e${ESC}[5m@x`, id: 7 } });
    const m = /^\/api\/v1\/models\/([^/]+\/[^/]+)\/repo(\/files)?$/.exec(u.pathname);
    if (m?.[1] === "acme/broken") return json(500, { Code: 500, Message: `${ESC}[31mdisk on fire${ESC}[0m\nsecond line${"\u0007"}`, Success: false });
    const model = m ? MODELS[m[1]!] : undefined;
    if (!m || !model) return json(404, { Code: 404, Message: "no such model", Success: false });
    if (m[2]) return json(200, { Code: 200, Data: { Files: listing(m[1]!) }, Success: true });
    const content = model.files[u.searchParams.get("FilePath") ?? ""];
    if (content === undefined) return json(404, { Code: 404, Message: "no such file", Success: false });
    res.writeHead(200, { "content-length": Buffer.byteLength(content) });
    res.end(content);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const env = (home: string, extra: Record<string, string> = {}) =>
  cleanEnv(home, { MODELSCOPE_ENDPOINT: url, MODELSCOPE_API_MAX_RETRIES: "0", MODELSCOPE_API_TOKEN: "some-token-for-a-hostile-hub", ...extra });

/** No control character at all, but the line breaks that end lines. */
function assertNoControls(text: string, where: string): void {
  const bad = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.exec(text);
  assert.equal(bad, null, `${where} holds a control character ${JSON.stringify(bad?.[0])}: ${JSON.stringify(text)}`);
}

describe("terminal escapes from the hub never reach the terminal", () => {
  test("whoami: the user name and email are shown escaped", async () => {
    const r = await modelscope(["whoami"], { env: env(dir()) });
    assert.equal(r.code, 0, r.stderr);
    assertNoControls(r.stdout, "whoami's output");
    assert.match(r.stdout, /^username {3}: \\x1b\]0;owned\\x07eve\\x1b\[2J\\x0d\\x9b31m$/m);
  });

  test("login: 'Logged in as' shows the name escaped", async () => {
    const home = dir();
    const r = await modelscope(["login", "--token-stdin"], { env: env(home, { MODELSCOPE_API_TOKEN: "" }), input: "some-token-for-a-hostile-hub" });
    assert.equal(r.code, 0, r.stderr);
    assertNoControls(r.stdout + r.stderr, "login's output");
    assert.match(r.stdout, /^Logged in as \\x1b\]0;owned/m);
  });

  test("a server's error message: escaped, and one line stays one line", async () => {
    const r = await modelscope(["download", "acme/broken"], { env: env(dir()) });
    assert.equal(r.code, 1);
    assertNoControls(r.stderr, "the error");
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0]!, /^Error: Hub error 500: \\x1b\[31mdisk on fire\\x1b\[0m\\x0asecond line\\x07$/);
  });

  for (const id of ["acme/newline", "acme/escape", "acme/c1"]) {
    test(`${id}: a listing path with control characters is refused like other hostile paths (dry run adds no line)`, async () => {
      const r = await modelscope(["download", id, "--dry-run"], { env: env(dir()) });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(r.stdout, "", "the dry run listed something");
      assertNoControls(r.stderr, "the error");
      assert.match(r.stderr, /^Error: Refused unsafe file path from the hub \(control character\): /m);
      assert.equal(r.stderr.trimEnd().split("\n").length, 2, r.stderr);
    });
  }
});

describe("hostile listings", () => {
  test("a file and a folder of the same name: refused, nothing written", async () => {
    const home = dir();
    const out = path.join(dir(), "out");
    const r = await modelscope(["download", "acme/clash", "--local-dir", out], { env: env(home) });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^Error: Refused the hub's listing: "weights" is both a file and a folder$/m);
    assert.ok(!fs.existsSync(path.join(out, "weights")));
  });

  test("a path inside our .dc-meta folder: refused, our bookkeeping untouched", async () => {
    const home = dir();
    const out = path.join(dir(), "out");
    const r = await modelscope(["download", "acme/meta", "--local-dir", out], { env: env(home) });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^Error: Refused unsafe file path from the hub \(inside our bookkeeping folder \.dc-meta\): "\.dc-meta\/verified-summary\.json"$/m);
    assert.ok(!fs.existsSync(path.join(out, ".dc-meta", "verified-summary.json")));
  });

  test("files without a sha256: downloaded on their size, and said once on stderr", async () => {
    const home = dir();
    const r = await modelscope(["download", "acme/nosha"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("Warning: "));
    assert.deepEqual(warnings, ["Warning: the hub gives no sha256 for 2 file(s) of acme/nosha (e.g. a.bin): they are checked by size only"]);
    assert.equal(fs.readFileSync(path.join(r.stdout.trim(), "b.bin"), "utf8"), "bbbb");
  });
});
