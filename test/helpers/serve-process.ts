// `modelscope serve` as a real process, for tests of several hub processes and of the mirror.
import { spawn, type ChildProcess } from "node:child_process";
import { MODELSCOPE_BIN, REPO_ROOT, assertNoSecrets, cleanEnv, tempDir } from "./hub.js";

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** Everything it printed on standard output so far (the access log when it goes there). */
  stdout(): string;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `modelscope serve --port 0 ...args` and waits for the address it prints. */
export function startServe(args: string[], env: Record<string, string | undefined> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [MODELSCOPE_BIN, "serve", "--host", "127.0.0.1", "--port", "0", ...args], {
    env: cleanEnv(tempDir(), env),
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 30_000);
    const check = () => {
      const m = /Serving .* at (http:\/\/\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off("data", check);
      resolve({
        url: m[1]!,
        child,
        stdout: () => out,
        stderr: () => err,
        stop: async () => {
          if (child.exitCode === null) child.kill("SIGTERM");
          await exited;
          assertNoSecrets(out + err, `serve ${args.join(" ")}`);
        },
      });
    };
    child.stdout!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}): ${err}`));
    });
  });
}
