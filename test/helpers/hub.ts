// Shared test helpers: a real local hub on 127.0.0.1 (ephemeral port) over a temp root, temp HOME and
// cache dirs, and a runner for the real CLI processes. Every token a test hub mints is remembered, and
// runCli fails the test if any of them ever shows up in a command's output.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startHubServer, type HubServerOptions, type RunningHub } from "../../src/server/index.js";
import { addUser } from "../../src/server/users.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const MODELSCOPE_BIN = path.join(REPO_ROOT, "dist", "cli", "modelscope.js");
export const DEEPCOMPRESSOR_BIN = path.join(REPO_ROOT, "dist", "cli", "deepcompressor.js");

/** Every secret a test created; no CLI output may contain one. */
export const secrets = new Set<string>();

/** Every temp folder a test made; all are removed when the test file's process ends, pass or fail. */
const madeTempDirs = new Set<string>();

export function tempDir(prefix = "dc-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  madeTempDirs.add(dir);
  return dir;
}

/** Removes a folder even when a test made parts of it read-only (the permission tests do). */
export function removeDir(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    const unlock = (p: string): void => {
      try {
        const st = fs.lstatSync(p);
        if (!st.isDirectory()) return;
        fs.chmodSync(p, 0o700);
        for (const e of fs.readdirSync(p)) unlock(path.join(p, e));
      } catch {
        // gone already, or not ours: rmSync below says what is left
      }
    };
    unlock(dir);
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

// "exit" runs on every way out of a test file's process (the test runner gives each file its own),
// after the tests and their hubs are done; synchronous removal is what it allows.
process.on("exit", () => {
  for (const dir of madeTempDirs) {
    try {
      removeDir(dir);
    } catch (err) {
      process.stderr.write(`could not remove temp folder ${dir}: ${(err as Error).message}\n`);
    }
  }
});

/** Files of one revision: path -> content (string or bytes). */
export type ModelFiles = Record<string, string | Buffer>;

/** Writes a model into a hub root (or any cache folder) in the official layout. */
export function writeModel(root: string, modelId: string, files: ModelFiles, revision = "master", typeFolder: "models" | "datasets" = "models"): string {
  const dir = path.join(root, typeFolder, modelId.replace("/", "--"), "snapshots", revision);
  for (const [p, content] of Object.entries(files)) {
    const abs = path.join(dir, ...p.split("/"));
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
  }
  return dir;
}

/** Writes a dataset into a hub root (or any cache folder) in the official layout. */
export function writeDataset(root: string, datasetId: string, files: ModelFiles, revision = "master"): string {
  return writeModel(root, datasetId, files, revision, "datasets");
}

/** Deterministic pseudo-random bytes (so tests can compare hashes without keeping the data). */
export function bytes(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash("sha256").update(String(seed)).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off, 0, Math.min(block.length, size - off));
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export interface TestHubOptions extends Partial<HubServerOptions> {
  /** model id -> files (master revision), or model id -> { revision -> files }. */
  models?: Record<string, ModelFiles | { revisions: Record<string, ModelFiles> }>;
  /** Users to create; their tokens come back in `tokens`. */
  users?: string[];
  /** model id -> usernames (invisible to everyone else). */
  private?: Record<string, string[]>;
  /** model id -> usernames (visible to all, downloadable only by these). */
  gated?: Record<string, string[]>;
  /** dataset id -> files (master revision). */
  datasets?: Record<string, ModelFiles>;
  /** dataset id -> usernames (invisible to everyone else). */
  privateDatasets?: Record<string, string[]>;
}

export interface TestHub extends RunningHub {
  tokens: Record<string, string>;
}

export async function startTestHub(opts: TestHubOptions = {}): Promise<TestHub> {
  const root = opts.root ?? tempDir("dc-hub-");
  for (const [id, spec] of Object.entries(opts.models ?? {})) {
    if ("revisions" in spec && typeof spec.revisions === "object" && !Buffer.isBuffer(spec.revisions)) {
      for (const [rev, files] of Object.entries(spec.revisions as Record<string, ModelFiles>)) writeModel(root, id, files, rev);
    } else {
      writeModel(root, id, spec as ModelFiles);
    }
  }
  for (const [id, files] of Object.entries(opts.datasets ?? {})) writeDataset(root, id, files);
  const tokens: Record<string, string> = {};
  for (const name of opts.users ?? []) {
    const { token } = await addUser(root, name);
    tokens[name] = token;
    secrets.add(token);
  }
  if (opts.private || opts.gated || opts.privateDatasets) {
    const file = path.join(root, "hub.json");
    const config = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
    config.private = opts.private ?? {};
    config.gated = opts.gated ?? {};
    if (opts.privateDatasets) config.datasets = { private: opts.privateDatasets, gated: {} };
    fs.writeFileSync(file, JSON.stringify(config, null, 2));
  }
  // A test file signs in wrongly on purpose many times from 127.0.0.1: the hub's failed-sign-in limit
  // (10, then one per 6 s) would make later tests' right tokens wait for the refill. Tests of the limit
  // set their own.
  const signInLimits = opts.signInLimits ?? { burst: 10_000, refillMs: 6000 };
  const hub = await startHubServer({ host: "127.0.0.1", port: 0, ...opts, signInLimits, root });
  return { ...hub, tokens };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
  timeoutMs?: number;
}

/** A clean environment for a CLI process: temp HOME (so ~/.modelscope and ~/.cache are never the real ones). */
export function cleanEnv(home: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    LANG: "C.UTF-8",
    MODELSCOPE_CACHE: path.join(home, ".cache", "modelscope"),
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs a CLI (a dist/ script) as a real process and checks that no known token leaks into its output. */
export function runCli(bin: string, args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: opts.env ?? cleanEnv(tempDir()),
      cwd: opts.cwd ?? REPO_ROOT,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      assertNoSecrets(stdout + stderr, `${path.basename(bin)} ${args.join(" ")}`);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}

export function modelscope(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return runCli(MODELSCOPE_BIN, args, opts);
}

export function deepcompressor(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return runCli(DEEPCOMPRESSOR_BIN, args, opts);
}

/** Throws if any known token appears in `text`. */
export function assertNoSecrets(text: string, where: string): void {
  for (const s of secrets) {
    if (s && text.includes(s)) throw new Error(`a token leaked into the output of ${where}`);
  }
}

// --- download/fault helpers (issue 3) ------------------------------------------------------------

/** Sets test faults on a hub started with `testFaults: true` (see src/server/faults.ts for the kinds). */
export async function setFaults(hub: { url: string }, faults: Record<string, unknown>[]): Promise<void> {
  const res = await fetch(`${hub.url}/__test__/faults`, { method: "POST", body: JSON.stringify({ faults }) });
  if (!res.ok) throw new Error(`setting faults failed: ${res.status} ${await res.text()}`);
}

/** Clears the faults and the request log. */
export async function clearFaults(hub: { url: string }): Promise<void> {
  const res = await fetch(`${hub.url}/__test__/faults`, { method: "DELETE" });
  if (!res.ok) throw new Error(`clearing faults failed: ${res.status}`);
}

export interface HubStats {
  requests: { method: string; path: string; filePath?: string; range?: string; credentials: boolean; host: string; connection: string }[];
  bytesSent: Record<string, number>;
}

/** What the hub saw since the last clearFaults: every request, and file bytes sent per path. */
export async function hubStats(hub: { url: string }): Promise<HubStats> {
  const res = await fetch(`${hub.url}/__test__/stats`);
  return (await res.json()) as HubStats;
}

export interface SpawnedCli {
  child: import("node:child_process").ChildProcess;
  /** Resolves when the process ends (output checked for tokens, as runCli does). */
  done: Promise<CliResult>;
  /** Everything printed so far. */
  output(): string;
}

/** Starts the modelscope CLI without waiting for it (to interrupt or kill it mid-run). */
export function spawnModelscope(args: string[], opts: RunOptions = {}): SpawnedCli {
  const child = spawn(process.execPath, [MODELSCOPE_BIN, ...args], {
    env: opts.env ?? cleanEnv(tempDir()),
    cwd: opts.cwd ?? REPO_ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  child.stdin!.end(opts.input ?? "");
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      assertNoSecrets(stdout + stderr, `modelscope ${args.join(" ")}`);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done, output: () => stdout + stderr };
}

/** Polls until `check` returns true (for waiting on files or server state; never a timed assertion). */
/** Bytes a process has read so far (/proc rchar: its read calls, files and sockets); NaN once it is gone. */
export function bytesRead(pid: number): number {
  try {
    return Number(/^rchar: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, "utf8"))![1]);
  } catch {
    return NaN;
  }
}

export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// --- raw HTTP (hub tests) ------------------------------------------------------------------------

export interface RawResponse {
  status: number;
  headers: import("node:http").IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** One request on its own connection, no client library in between; `localAddress` picks the client address (127.0.0.x). */
export async function rawRequest(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {}): Promise<RawResponse> {
  const http = await import("node:http");
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? "GET", headers: opts.headers, agent: false, localAddress: opts.localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString("utf8") });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** A port nothing listens on now (taken and let go at once): an address that refuses connections. */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}
