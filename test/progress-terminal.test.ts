// Progress bars on a terminal (bytes, speed, ETA, files), nothing noisy when piped.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { after, before, test } from "node:test";
import { MODELSCOPE_BIN, REPO_ROOT, bytes, cleanEnv, modelscope, setFaults, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

const PTY_RUN = path.join(REPO_ROOT, "test", "interop", "pty_run.py");
const WEIGHTS = bytes(1536 * 1024, 7);

let hub: TestHub;
before(async () => {
  hub = await startTestHub({ models: { "acme/slow": { "config.json": "{}", "weights.bin": WEIGHTS } }, testFaults: true });
});
after(() => hub.close());

/** Runs `modelscope ARGS` in a real pseudo-terminal and returns the exit code and everything it drew. */
async function inTerminal(home: string, args: string[]): Promise<{ code: number; screen: string }> {
  const child = spawn("/usr/bin/python3", [PTY_RUN, JSON.stringify([process.execPath, MODELSCOPE_BIN, ...args]), "[]"], {
    env: cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, TERM: "xterm", COLUMNS: "120" }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const [status] = (await once(child, "close")) as [number | null];
  assert.equal(status, 0, `pty driver failed: ${stderr}`);
  const out = JSON.parse(stdout) as { code: number; screen: string };
  return { code: out.code, screen: Buffer.from(out.screen, "base64").toString("utf8") };
}

test("on a terminal, a download draws a bar with bytes, speed, ETA and files, then prints the folder", async () => {
  // ~1.5 MiB at 512 KiB/s: long enough for the bar to redraw several times.
  await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 512 * 1024, path: "weights.bin" }]);
  const home = tempDir();
  const { code, screen } = await inTerminal(home, ["download", "acme/slow"]);
  assert.equal(code, 0, screen);
  assert.match(screen, /\d+% \| [\d.]+ (B|KiB|MiB)\/[\d.]+ MiB \| [\d.]+ (B|KiB|MiB)\/s \| ETA (\d+s|-) \| \d\/2 files/, screen);
  assert.match(screen, /100% \| 1\.5 MiB\/1\.5 MiB/, "the bar ends full");
  assert.ok(screen.includes(path.join(home, ".cache", "modelscope", "models", "acme--slow", "snapshots", "master")), screen);
});

test("piped, the same download prints only the folder: no bar, nothing on stderr", async () => {
  await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 512 * 1024, path: "weights.bin" }]);
  const home = tempDir();
  const r = await modelscope(["download", "acme/slow"], { env: cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url }) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.equal(r.stdout.trim(), path.join(home, ".cache", "modelscope", "models", "acme--slow", "snapshots", "master"));
});
