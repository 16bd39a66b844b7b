// Progress bars on a terminal (bytes, speed, ETA, files), nothing noisy when piped.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test } from "node:test";
import { runInTerminal } from "./helpers/pty.js";
import { MODELSCOPE_BIN, bytes, cleanEnv, modelscope, setFaults, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

const WEIGHTS = bytes(1536 * 1024, 7);

let hub: TestHub;
before(async () => {
  hub = await startTestHub({ models: { "acme/slow": { "config.json": "{}", "weights.bin": WEIGHTS } }, testFaults: true });
});
after(() => hub.close());

function inTerminal(home: string, args: string[]): Promise<{ code: number; screen: string }> {
  return runInTerminal([process.execPath, MODELSCOPE_BIN, ...args], [], cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, TERM: "xterm", COLUMNS: "120" }));
}

test("on a terminal, a download draws a bar with bytes, speed, ETA and files, then prints the folder", async () => {
  // ~1.5 MiB at 512 KiB/s: long enough for the bar to redraw several times.
  await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 512 * 1024, path: "weights.bin" }]);
  const home = tempDir();
  const { code, screen } = await inTerminal(home, ["download", "acme/slow"]);
  assert.equal(code, 0, screen);
  assert.match(screen, /\d+% \| [\d.]+ (B|KiB|MiB)\/[\d.]+ MiB \| [\d.]+ (B|KiB|MiB)\/s \| ETA ((\d+m)?\d+s|-) \| \d\/2 files/, screen);
  assert.match(screen, /100% \| 1\.5 MiB\/1\.5 MiB/, "the bar ends full");
  assert.ok(screen.includes(path.join(home, ".cache", "modelscope", "models", "acme--slow", "snapshots", "master")), screen);
});

test("piped, the same download prints the folder and one summary line on stderr: no bar", async () => {
  await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 512 * 1024, path: "weights.bin" }]);
  const home = tempDir();
  const r = await modelscope(["download", "acme/slow"], { env: cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url }) });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^Downloaded 2 file\(s\), 1\.5 MiB, in \d+s \(0 already there\)\.\n$/);
  assert.equal(r.stdout.trim(), path.join(home, ".cache", "modelscope", "models", "acme--slow", "snapshots", "master"));
});
