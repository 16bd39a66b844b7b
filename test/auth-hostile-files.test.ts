// Issue 10 items 9 and 12: the files a sign-in is read from cannot hang, crash or stall a command, and a
// killed login leaves no stray copy of the token behind. The official client's jar is only read here.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanEnv, modelscope, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

let hub: TestHub;
let alice: string;
// Removed when this file's process ends (test/helpers/hub.ts).
const dir = () => tempDir("dc-authfiles-");

before(async () => {
  hub = await startTestHub({ users: ["alice"] });
  alice = hub.tokens.alice!;
});
after(async () => {
  await hub.close();
});

const envFor = (home: string) => cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url });
const msHome = (home: string) => path.join(home, ".modelscope");

/** Protocol-2 pickle bytes. */
const op = (...parts: (number | string)[]) => Buffer.concat(parts.map((p) => (typeof p === "number" ? Buffer.from([p]) : Buffer.from(p, "latin1"))));
const shortStr = (s: string) => op(0x8c, s.length, s);

/**
 * 7 levels of lists, each holding the level below 40 times by reference (BINGET): ~600 bytes that
 * unfold into 40^7 paths for a walk that does not notice it has been somewhere before.
 */
function sharedReferenceBomb(): Buffer {
  const parts: Buffer[] = [op(0x80, 2, "}", "q", 0)];
  for (let level = 1; level <= 7; level++) {
    parts.push(op("("), ...Array.from({ length: 40 }, () => op("h", level - 1)), op("l", "q", level));
  }
  // {"_cookies": <level 7>}
  parts.push(op("}"), shortStr("_cookies"), op("h", 7, "s", "."));
  return Buffer.concat(parts);
}

/** One dict of 5,000 keys BUILT into 6,400 fresh dicts: a few tens of KB, 32 million copies to unpickle. */
function buildBomb(): Buffer {
  const parts: Buffer[] = [op(0x80, 2, "}", "(")];
  for (let i = 0; i < 5000; i++) parts.push(shortStr(`k${i}`), op("K", 1));
  parts.push(op("u", "q", 0));
  for (let i = 0; i < 6400; i++) parts.push(op("}", "h", 0, "b", "0"));
  parts.push(op("."));
  return Buffer.concat(parts);
}

function writeJar(home: string, data: Buffer): string {
  const file = path.join(msHome(home), "credentials", "cookies");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
  return file;
}

const haveMkfifo = spawnSync("mkfifo", ["--version"]).status === 0;

describe("the official client's cookie jar, crafted", () => {
  // Shared references are walked once each (the jar is then simply empty); a BUILD bomb is refused unread.
  for (const [name, make, warns] of [
    ["shared references (~600 bytes)", sharedReferenceBomb, false],
    ["a BUILD bomb", buildBomb, true],
  ] as const) {
    test(`${name}: not signed in${warns ? ", one warning line" : ""}, the command ends by itself`, async () => {
      const home = dir();
      const file = writeJar(home, make());
      // The process timeout is only a safety net; the assertion is that the command ended on its own.
      const r = await modelscope(["whoami"], { env: envFor(home), timeoutMs: 20_000 });
      assert.equal(r.signal, null, "the command hung on the jar until the safety net killed it");
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^Error: Not logged in/m);
      const warnings = r.stderr.split("\n").filter((l) => l.startsWith("Warning: "));
      assert.equal(warnings.length, warns ? 1 : 0, r.stderr);
      if (warns) assert.ok(warnings[0]!.startsWith(`Warning: ignoring the official client's login ${file}: `), warnings[0]);
    });
  }

  test("a jar bigger than any real one is not read", async () => {
    const home = dir();
    writeJar(home, Buffer.alloc(1024 * 1024, 0x28));
    const r = await modelscope(["auth", "status", "--offline"], { env: envFor(home) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Warning: ignoring the official client's login .*bytes/m);
  });

  test("a named pipe as the jar does not hang the command", { skip: !haveMkfifo && "no mkfifo" }, async () => {
    const home = dir();
    const file = path.join(msHome(home), "credentials", "cookies");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    assert.equal(spawnSync("mkfifo", [file]).status, 0);
    const r = await modelscope(["auth", "status", "--offline"], { env: envFor(home), timeoutMs: 20_000 });
    assert.equal(r.signal, null, "hung on the pipe");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Warning: ignoring the official client's login .*named pipe/m);
  });
});

describe("the saved token file", () => {
  test("a named pipe as <home>/token does not hang: ignored with one warning", { skip: !haveMkfifo && "no mkfifo" }, async () => {
    const home = dir();
    fs.mkdirSync(msHome(home), { recursive: true });
    assert.equal(spawnSync("mkfifo", [path.join(msHome(home), "token")]).status, 0);
    const r = await modelscope(["auth", "status", "--offline"], { env: envFor(home), timeoutMs: 20_000 });
    assert.equal(r.signal, null, "hung on the pipe");
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /Not logged in/);
    assert.match(r.stderr, /^Warning: ignoring the saved token .*token: it is a named pipe, not a regular file/m);
  });

  test("<home>/token linked to /dev/zero neither aborts nor fills memory", async () => {
    const home = dir();
    fs.mkdirSync(msHome(home), { recursive: true });
    fs.symlinkSync("/dev/zero", path.join(msHome(home), "token"));
    const r = await modelscope(["auth", "status", "--offline"], { env: envFor(home), timeoutMs: 20_000 });
    assert.equal(r.signal, null);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^Warning: ignoring the saved token .*not a regular file/m);
    assert.doesNotMatch(r.stderr, /Unexpected error|FATAL|heap/i);
  });

  test("a .token.*.tmp left by a login killed mid-write is removed by the next run; logout leaves none", async () => {
    const home = dir();
    fs.mkdirSync(msHome(home), { recursive: true, mode: 0o700 });
    // What `kill -9` between writing the temp file and renaming it leaves (pid 99999999 cannot exist).
    const stray = path.join(msHome(home), ".token.99999999.0123456789ab.tmp");
    fs.writeFileSync(stray, `${alice}\n`, { mode: 0o600 });
    const status = await modelscope(["auth", "status", "--offline"], { env: envFor(home) });
    assert.equal(status.code, 1);
    assert.ok(!fs.existsSync(stray), "the stray copy of the token is still there");

    fs.writeFileSync(stray, `${alice}\n`, { mode: 0o600 });
    const login = await modelscope(["login", "--token-stdin"], { env: envFor(home), input: alice });
    assert.equal(login.code, 0, login.stderr);
    assert.ok(!fs.existsSync(stray));
    fs.writeFileSync(stray, `${alice}\n`, { mode: 0o600 });
    const out = await modelscope(["logout"], { env: envFor(home) });
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(
      fs.readdirSync(msHome(home)).filter((n) => n.startsWith(".token") || n === "token"),
      [],
      "logout left a copy of the token",
    );
  });

  test("a temp file of a login still running is left alone", async () => {
    const home = dir();
    fs.mkdirSync(msHome(home), { recursive: true, mode: 0o700 });
    const live = path.join(msHome(home), `.token.${process.pid}.abcdef012345.tmp`);
    fs.writeFileSync(live, "x\n", { mode: 0o600 });
    await modelscope(["auth", "status", "--offline"], { env: envFor(home) });
    assert.ok(fs.existsSync(live), "removed the temp file of a live process");
  });
});
