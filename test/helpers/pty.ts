// Runs a real CLI process inside a pseudo-terminal (Python's stdlib pty, test/interop/pty_run.py) and
// returns its exit code and everything it drew: for the hidden prompt and the progress bar.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { REPO_ROOT } from "./hub.js";

const PTY_RUN = path.join(REPO_ROOT, "test", "interop", "pty_run.py");

/**
 * `steps`: [text to wait for on the screen, keys to type] pairs. Asynchronous on purpose: a hub serving
 * the CLI may live in the test's own process, so its event loop must keep running.
 */
export async function runInTerminal(argv: string[], steps: [string, string][], env: Record<string, string>): Promise<{ code: number; screen: string }> {
  const child = spawn("/usr/bin/python3", [PTY_RUN, JSON.stringify(argv), JSON.stringify(steps)], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const [status] = (await once(child, "close")) as [number | null];
  assert.equal(status, 0, `pty driver failed: ${stderr}`);
  const out = JSON.parse(stdout) as { code: number; screen: string };
  return { code: out.code, screen: Buffer.from(out.screen, "base64").toString("utf8") };
}
