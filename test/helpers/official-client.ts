// The official Python client (../shared/reference/modelscope_hub, run unchanged as its README there says)
// for interop tests: where it is, whether it can run here, and one way to run its CLI.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT, assertNoSecrets } from "./hub.js";

export const OFFICIAL_SRC = path.join(REPO_ROOT, "..", "shared", "reference", "modelscope_hub", "src");

const usable = fs.existsSync(OFFICIAL_SRC) && spawnSync("/usr/bin/python3", ["-c", "import requests, tqdm, filelock, urllib3"]).status === 0;

/** A node:test `skip` value: false where the client runs, else why not. */
export const skipOfficial: false | string = usable
  ? false
  : "the official client (../shared/reference/modelscope_hub) or its Debian packages (python3-requests, -tqdm, -filelock, -urllib3; .ci/run installs them) are missing";

/**
 * Runs `python3 -m modelscope_hub.cli.main ARGS` (Debian's python3, PYTHONPATH at the reference source) in
 * `env`, with the intra-cloud probe off; its output must hold no secret a test made (killed after 2 min).
 */
export function runOfficial(args: string[], env: Record<string, string>, cwd?: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/python3", ["-m", "modelscope_hub.cli.main", ...args], {
      env: { ...env, PYTHONPATH: OFFICIAL_SRC, MODELSCOPE_DOWNLOAD_INTRA_CLOUD: "false" },
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      assertNoSecrets(out, `official ${args.join(" ")}`);
      resolve({ code, out });
    });
  });
}
