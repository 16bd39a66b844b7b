// Locks (hard links to one owner file per process) and verify records (one summary per revision, written
// at checkpoints): what they leave on disk, how a dead holder's lock is taken over, and how a changed
// file stops being vouched for.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { isStaleLock, tryLock } from "../src/download/lock.js";
import { bytes, cleanEnv, modelscope, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

let hub: TestHub;
before(async () => {
  hub = await startTestHub({ models: { "acme/a": { "x.bin": bytes(5000, 1), "c.json": "{}", "sub/y.bin": bytes(3000, 2) } } });
});
after(() => hub.close());

const env = (home: string) => cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url });
const cache = (home: string) => path.join(home, ".cache", "modelscope");
const summaryOf = (home: string) => path.join(cache(home), "models", "acme--a", ".dc-meta", "master", "verified-summary.json");

/** A pid that no process has (above the kernel's pid_max on Linux). */
const DEAD_PID = 2 ** 22 + 4321;

describe("per-file locks", () => {
  test("a lock is a hard link to this process's owner file; a second try fails while it is held", async () => {
    const dir = tempDir();
    const file = path.join(dir, "dc-a.lock");
    const lock = await tryLock(file);
    assert.ok(lock);
    const owners = fs.readdirSync(dir).filter((n) => n.startsWith("dc-owner-"));
    assert.equal(owners.length, 1, fs.readdirSync(dir).join(","));
    assert.equal(fs.statSync(file).ino, fs.statSync(path.join(dir, owners[0]!)).ino);
    assert.equal(JSON.parse(fs.readFileSync(file, "utf8")).pid, process.pid);
    assert.equal(await tryLock(file), undefined, "the same lock twice");
    assert.equal(await isStaleLock(file), false);
    const other = await tryLock(path.join(dir, "dc-b.lock"));
    assert.ok(other, "a second file's lock");
    await lock.release();
    await other.release();
    assert.deepEqual(fs.readdirSync(dir).filter((n) => !n.startsWith("dc-owner-")), []);
  });

  test("a lock whose holder died is taken over; one held by a live process on another host is not, until its heartbeat stops", async () => {
    const dir = tempDir();
    const dead = path.join(dir, "dc-dead.lock");
    fs.writeFileSync(dead, JSON.stringify({ pid: DEAD_PID, host: os.hostname(), nonce: "n1", created: "" }));
    const lock = await tryLock(dead);
    assert.ok(lock, "the dead holder's lock was not taken over");
    assert.equal(JSON.parse(fs.readFileSync(dead, "utf8")).pid, process.pid);
    await lock.release();

    const remote = path.join(dir, "dc-remote.lock");
    fs.writeFileSync(remote, JSON.stringify({ pid: 1, host: "another-host", nonce: "n2", created: "" }));
    assert.equal(await tryLock(remote), undefined);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(remote, old, old);
    const taken = await tryLock(remote);
    assert.ok(taken, "a lock untouched for a minute is stale");
    await taken.release();
  });

  test("a process leaves no lock files behind when it ends; a killed one leaves locks the next run takes over", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "acme/a"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(path.join(cache(home), ".lock")), []);

    // A process holding two locks, killed: its owner file and both links stay, and are stale.
    const lockDir = path.join(tempDir(), ".lock");
    const script = `import { tryLock } from ${JSON.stringify(path.resolve("src/download/lock.ts"))};
      await tryLock(${JSON.stringify(path.join(lockDir, "dc-1.lock"))});
      await tryLock(${JSON.stringify(path.join(lockDir, "dc-2.lock"))});
      process.stdout.write("held\\n");
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    assert.equal(await tryLock(path.join(lockDir, "dc-1.lock")), undefined, "held by a live process");
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    const left = fs.readdirSync(lockDir).filter((n) => !n.includes(`-${process.pid}-`)); // not this test's owner file
    assert.equal(left.length, 3, left.join(","));
    for (const n of left) assert.equal(await isStaleLock(path.join(lockDir, n)), true, n);
    const lock = await tryLock(path.join(lockDir, "dc-1.lock"));
    assert.ok(lock);
    await lock.release();
  });
});

describe("verify records", () => {
  test("one summary per revision, no file per record; a cache hit trusts it and re-hashes nothing", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "acme/a"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    const meta = path.dirname(summaryOf(home));
    assert.deepEqual(fs.readdirSync(meta).sort(), ["listing.json", "verified-summary.json"]);
    const summary = JSON.parse(fs.readFileSync(summaryOf(home), "utf8"));
    assert.deepEqual(Object.keys(summary.files).sort(), ["c.json", "sub/y.bin", "x.bin"]);
    const hit = await modelscope(["download", "acme/a", "--json"], { env: env(home) });
    assert.deepEqual(
      JSON.parse(hit.stdout).files.map((f: { status: string }) => f.status),
      ["cached", "cached", "cached"],
    );
  });

  test("a file changed in place with its size and mtime kept: trusted until `cache verify` finds it, then repaired", async () => {
    const home = tempDir();
    assert.equal((await modelscope(["download", "acme/a"], { env: env(home) })).code, 0);
    const file = path.join(cache(home), "models", "acme--a", "snapshots", "master", "x.bin");
    const data = fs.readFileSync(file);
    data[0] = data[0]! ^ 1;
    fs.writeFileSync(file, data);
    // The entry vouches for the changed file as it is now (as if the change had kept size and mtime).
    const summary = JSON.parse(fs.readFileSync(summaryOf(home), "utf8"));
    summary.files["x.bin"][1] = fs.statSync(file).mtimeMs;
    fs.writeFileSync(summaryOf(home), JSON.stringify(summary));
    // By design a download trusts size + mtime (re-hashing is `cache verify`'s job)...
    const trusted = await modelscope(["download", "acme/a", "x.bin", "--json"], { env: env(home) });
    assert.equal(JSON.parse(trusted.stdout).files[0].status, "cached");
    const bad = await modelscope(["cache", "verify", "acme/a"], { env: env(home) });
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /MISMATCH\s+x\.bin/);
    assert.ok(!("x.bin" in JSON.parse(fs.readFileSync(summaryOf(home), "utf8")).files), "verify left the entry");
    // ...and once verify has dropped the entry, the next download repairs the file.
    const fix = await modelscope(["download", "acme/a", "--json"], { env: env(home) });
    assert.deepEqual(
      JSON.parse(fix.stdout).files.filter((f: { status: string }) => f.status === "downloaded").map((f: { path: string }) => f.path),
      ["x.bin"],
    );
  });

  test("a file the summary does not vouch for (e.g. from the official client) is hashed once and recorded", async () => {
    const home = tempDir();
    assert.equal((await modelscope(["download", "acme/a"], { env: env(home) })).code, 0);
    fs.rmSync(summaryOf(home));
    const again = await modelscope(["download", "acme/a", "--json"], { env: env(home) });
    assert.deepEqual(
      JSON.parse(again.stdout).files.map((f: { status: string }) => f.status),
      ["cached", "cached", "cached"],
    );
    assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(summaryOf(home), "utf8")).files).sort(), ["c.json", "sub/y.bin", "x.bin"]);
  });

  test("prune drops the entries of files that are gone (--dry-run only says so)", async () => {
    const home = tempDir();
    assert.equal((await modelscope(["download", "acme/a"], { env: env(home) })).code, 0);
    fs.rmSync(path.join(cache(home), "models", "acme--a", "snapshots", "master", "c.json"));
    const dry = await modelscope(["cache", "prune", "--dry-run", "--json"], { env: env(home) });
    assert.equal(dry.code, 0, dry.stderr);
    assert.ok("c.json" in JSON.parse(fs.readFileSync(summaryOf(home), "utf8")).files, "--dry-run changed the summary");
    const r = await modelscope(["cache", "prune", "--json"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    const orphans: string[] = JSON.parse(r.stdout).orphanRecords;
    assert.deepEqual(orphans, [`${summaryOf(home)} [c.json]`]);
    assert.deepEqual(JSON.parse(dry.stdout).orphanRecords, orphans);
    assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(summaryOf(home), "utf8")).files).sort(), ["sub/y.bin", "x.bin"]);
  });
});
