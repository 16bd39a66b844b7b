// Issue 15 tried as a cluster admin would, following the README and --help: what went wrong on the way.
// Each problem an admin can cause is one line and its fix, exit 2, never "this is a bug"; a typo in
// --root is said, not answered by a new empty hub.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { cleanEnv, freePort, modelscope, secrets, tempDir, waitFor, writeModel } from "./helpers/hub.js";
import { startServe } from "./helpers/serve-process.js";

const run = (args: string[], env: Record<string, string> = {}) => modelscope(args, { env: cleanEnv(tempDir(), env), timeoutMs: 20_000 });

/** One line and a fix, exit 2, no stack, not called a bug. */
function assertUsage(r: { code: number | null; stderr: string }, line: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, line);
  assert.match(r.stderr, /^ {2}Fix: /m);
  assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("Error:")).length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /bug|\n\s+at /i);
}

describe("serve start-up: what an admin can get wrong", () => {
  test("--access-log in a folder that does not exist: one line naming the file, exit 2", async () => {
    const file = path.join(tempDir(), "no", "such", "access.log");
    const r = await run(["serve", "--root", tempDir(), "--port", "0", "--access-log", file]);
    assertUsage(r, new RegExp(`^Error: Cannot write the access log ${file.replace(/[.]/g, "\\.")} \\(ENOENT\\)$`, "m"));
    assert.match(r.stderr, /--access-log off/);
    const zh = await run(["serve", "--root", tempDir(), "--port", "0", "--access-log", file], { LANG: "zh_CN.UTF-8" });
    assert.equal(zh.code, 2);
    assert.match(zh.stderr, /访问日志/);
  });
});

describe("serve flags that only a mirror uses", () => {
  test("--mirror-ttl without --upstream is said, not ignored", async () => {
    assertUsage(await run(["serve", "--root", tempDir(), "--port", "0", "--mirror-ttl", "5"]), /^Error: --mirror-ttl applies only with --upstream$/m);
  });

  test("a mirror says at start what it mirrors", async () => {
    const upstream = await startServe(["--root", tempDir(), "--access-log", "off"]);
    const mirror = await startServe(["--root", tempDir(), "--upstream", `${upstream.url}/`, "--access-log", "off"]);
    try {
      await waitFor(() => mirror.stderr().includes("Point clients at it"), "the start-up lines");
      assert.match(mirror.stderr(), new RegExp(`^Mirror of ${upstream.url.replace(/[.]/g, "\\.")}: `, "m"));
      assert.doesNotMatch(upstream.stderr(), /Mirror of/);
    } finally {
      await Promise.all([mirror.stop(), upstream.stop()]);
    }
  });
});

describe("--upstream that leads back to the hub itself", () => {
  test("refused at start, one line and the fix, exit 2 (not a 15 s hang per request and a 502 'cannot be reached')", async () => {
    const port = await freePort();
    const r = await run(["serve", "--root", tempDir(), "--port", String(port), "--upstream", `http://127.0.0.1:${port}`, "--access-log", "off"]);
    assertUsage(r, new RegExp(`^Error: --upstream http://127\\.0\\.0\\.1:${port} leads back to this hub itself$`, "m"));
    // Another process of the same root (as behind a load balancer) is the same hub too; another root's is not.
    const root = tempDir();
    const upstream = await startServe(["--root", tempDir(), "--access-log", "off"]);
    const sibling = await startServe(["--root", root, "--upstream", upstream.url, "--access-log", "off"]);
    try {
      assertUsage(await run(["serve", "--root", root, "--port", "0", "--upstream", sibling.url, "--access-log", "off"]), /leads back to this hub itself$/m);
      const chained = await startServe(["--root", tempDir(), "--upstream", sibling.url, "--access-log", "off"]);
      await chained.stop();
    } finally {
      await Promise.all([sibling.stop(), upstream.stop()]);
    }
  });
});

describe("the access log on standard output, and its reader going away", () => {
  test("`serve | some-log-reader` whose reader exits: the hub says so once on stderr and goes on serving (it used to exit 0 at the next line)", async () => {
    const root = tempDir();
    writeModel(root, "acme/m", { "a.txt": "a" });
    const hub = await startServe(["--root", root]);
    const { child, url } = hub;
    const err = () => hub.stderr();
    try {
      child.stdout!.destroy(); // the reader goes away
      for (let i = 0; i < 5; i++) {
        const r = await fetch(`${url}/api/v1/models/acme/m/repo?Revision=master&FilePath=a.txt`);
        assert.equal(r.status, 200);
        assert.equal(await r.text(), "a");
      }
      await waitFor(() => /access log/.test(err()), "the note on stderr");
      assert.equal(child.exitCode, null, `the hub stopped: ${err()}`);
      assert.equal(err().match(/access log/g)!.length, 1, err());
    } finally {
      await hub.stop();
    }
  });
});

describe("a mirror whose upstream cannot be reached at start", () => {
  test("starts (kept files are served) and says upstream cannot be reached, naming why", async () => {
    const port = await freePort();
    const mirror = await startServe(["--root", tempDir(), "--upstream", `http://127.0.0.1:${port}`, "--access-log", "off"]);
    try {
      await waitFor(() => mirror.stderr().includes("Point clients at it"), "the start-up lines");
      assert.match(mirror.stderr(), new RegExp(`^Note: the upstream hub http://127\\.0\\.0\\.1:${port} cannot be reached \\(ECONNREFUSED\\) now; `, "m"));
      const up = await startServe(["--root", tempDir(), "--access-log", "off"]);
      const fine = await startServe(["--root", tempDir(), "--upstream", up.url, "--access-log", "off"]);
      await waitFor(() => fine.stderr().includes("Point clients at it"), "the start-up lines");
      assert.doesNotMatch(fine.stderr(), /Note:/);
      await Promise.all([fine.stop(), up.stop()]);
    } finally {
      await mirror.stop();
    }
  });
});

describe("admin commands on a --root that does not exist: said, nothing made", () => {
  test("access, org add|list|rm, user list|rm refuse a missing root and create nothing", async () => {
    const missing = path.join(tempDir(), "typo");
    const cases = [
      ["serve", "access", "acme/m", "private", "--root", missing],
      ["serve", "org", "add", "lab", "--members", "", "--root", missing],
      ["serve", "org", "list", "--root", missing],
      ["serve", "org", "rm", "lab", "--root", missing],
      ["serve", "user", "list", "--root", missing],
      ["serve", "user", "rm", "alice", "--root", missing],
    ];
    for (const args of cases) {
      const r = await run(args);
      assertUsage(r, new RegExp(`^Error: No such folder: ${missing.replace(/[.]/g, "\\.")}$`, "m"));
      assert.equal(fs.existsSync(missing), false, `${args.join(" ")} made the folder`);
    }
  });

  test("serve user add still makes a new hub's folder (the README's first step)", async () => {
    const fresh = path.join(tempDir(), "new-hub");
    const r = await run(["serve", "user", "add", "alice", "--root", fresh]);
    assert.equal(r.code, 0, r.stderr);
    secrets.add(r.stdout.trim());
    assert.ok(fs.existsSync(path.join(fresh, "hub.json")));
  });
});

describe("serve access on an id the root does not hold", () => {
  test("a note says so (a typo would leave the real repo as it was), and points at --dataset when that is the id's type", async () => {
    const root = tempDir();
    writeModel(root, "acme/llama", { "a.txt": "a" });
    writeModel(root, "acme/data", { "x.csv": "x" }, "master", "datasets");
    const typo = await run(["serve", "access", "acme/lama", "private", "--root", root]);
    assert.equal(typo.code, 0, typo.stderr);
    assert.match(typo.stderr, /^Note: .* has no model acme\/lama yet; the rule applies once it is there\.$/m);
    const dataset = await run(["serve", "access", "acme/data", "gated", "--root", root]);
    assert.match(dataset.stderr, /has no model acme\/data yet; .*there is a dataset of that id: add --dataset/);
    for (const args of [["acme/llama", "private"], ["acme/data", "gated", "--dataset"]]) {
      const r = await run(["serve", "access", ...args, "--root", root]);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /Note:/);
    }
  });
});

describe("serve user list and add: text from hub.json or an argument never drives the terminal", () => {
  test("an email with escapes and a line break (a hand-edited hub.json) is listed escaped, on its one line; user add refuses one", async () => {
    const root = tempDir();
    const hash = "0".repeat(64);
    fs.writeFileSync(path.join(root, "hub.json"), JSON.stringify({ users: [{ username: "bob", email: "x\u001b[31mRED\nfake\tline", id: 1, token_sha256: hash }] }));
    const list = await run(["serve", "user", "list", "--root", root]);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, "bob\tx\\x1b[31mRED\\x0afake\\x09line\n");
    const add = await run(["serve", "user", "add", "eve", "--email", "a\u001b[2Jb", "--root", root]);
    assertUsage(add, /^Error: Invalid --email: empty, with control characters, or over 254 characters$/m);
    assert.doesNotMatch(fs.readFileSync(path.join(root, "hub.json"), "utf8"), /eve/);
  });
});

describe("serve access public with --users", () => {
  test("is refused (the list would limit nothing), hub.json untouched", async () => {
    const root = tempDir();
    const add = await run(["serve", "user", "add", "alice", "--root", root]);
    secrets.add(add.stdout.trim());
    assert.equal((await run(["serve", "access", "acme/m", "private", "--users", "alice", "--root", root])).code, 0);
    const before = fs.readFileSync(path.join(root, "hub.json"), "utf8");
    assertUsage(await run(["serve", "access", "acme/m", "public", "--users", "alice", "--root", root]), /^Error: A public repo takes no --users: everyone may see and download it$/m);
    assert.equal(fs.readFileSync(path.join(root, "hub.json"), "utf8"), before);
  });
});

describe("admin messages point at the admin commands", () => {
  test("adding a user that exists says `serve user rm`, not 'edit hub.json'", async () => {
    const root = tempDir();
    const first = await run(["serve", "user", "add", "alice", "--root", root]);
    assert.equal(first.code, 0, first.stderr);
    secrets.add(first.stdout.trim());
    const again = await run(["serve", "user", "add", "alice", "--root", root]);
    assertUsage(again, /^Error: User 'alice' already exists in .*hub\.json$/m);
    assert.match(again.stderr, /modelscope serve user rm alice --root /);
  });
});

describe("a hand-edited hub.json that is not JSON: where, as line and column (README's promise)", () => {
  test("a missing comma, a stray comma, a bare word, an unclosed bracket: each at its line and column", async () => {
    const cases: [string, string][] = [
      ['{\n  "users": []\n  "private": {}\n}\n', "line 3, column 3"],
      ['{"users": [,]}', "line 1, column 12"],
      ['{\n  "private": { "acme/m": [alice] }\n}', "line 2, column 27"],
      ['{"users": [', "line 1, column 12"],
      ['{"users": [], "token_sha256": "SECRET-HASH",,}', "line 1, column 45"],
    ];
    for (const [text, place] of cases) {
      const root = tempDir();
      fs.writeFileSync(path.join(root, "hub.json"), text);
      for (const args of [["serve", "user", "list", "--root", root], ["serve", "--root", root, "--port", "0"]]) {
        const r = await run(args);
        assertUsage(r, new RegExp(`hub\\.json is not valid JSON \\(${place}\\)$`, "m"));
        assert.doesNotMatch(r.stderr, /SECRET-HASH|alice/);
      }
    }
  });
});

describe("a mirror whose upstream is away", () => {
  test("kept private bytes it cannot confirm: says so, not 'never fetched' (they were)", async () => {
    const upRoot = tempDir();
    writeModel(upRoot, "acme/priv", { "p.txt": "private bytes" });
    const add = await run(["serve", "user", "add", "alice", "--root", upRoot]);
    assert.equal(add.code, 0, add.stderr);
    const alice = add.stdout.trim();
    secrets.add(alice);
    assert.equal((await run(["serve", "access", "acme/priv", "private", "--users", "alice", "--root", upRoot])).code, 0);
    const upstream = await startServe(["--root", upRoot, "--access-log", "off"]);
    // --mirror-ttl 0: every request asks upstream again, so its going away shows at once.
    const mirror = await startServe(["--root", tempDir(), "--upstream", upstream.url, "--mirror-ttl", "0", "--access-log", "off"]);
    try {
      const url = `${mirror.url}/api/v1/models/acme/priv/repo?Revision=master&FilePath=p.txt`;
      const first = await fetch(url, { headers: { authorization: `Bearer ${alice}` } });
      assert.equal(await first.text(), "private bytes");
      await upstream.stop();
      const later = await fetch(url, { headers: { authorization: `Bearer ${alice}` } });
      assert.equal(later.status, 502);
      const message = ((await later.json()) as { Message: string }).Message;
      assert.doesNotMatch(message, /never fetched/);
      assert.match(message, /cannot be reached .*acme\/priv is not public: its kept files are served only once upstream confirms who may have them; try again when it is back/);
    } finally {
      await Promise.all([mirror.stop(), upstream.stop()]);
    }
  });
});
