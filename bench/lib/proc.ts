// Child processes for the benchmark: the local hub (its own process, so the client's RSS is measured
// alone) and timed commands (wall time from spawn to exit, peak RSS from GNU time).
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const MODELSCOPE_BIN = path.join(REPO_ROOT, "dist", "cli", "modelscope.js");
const GNU_TIME = "/usr/bin/time";

/** The environment for every child: only loopback, no proxies, no user's token or cache settings. */
export function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(MODELSCOPE_|HTTPS?_PROXY$|ALL_PROXY$|NO_PROXY$)/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, HOME: home, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost", ...extra };
}

export interface RunningHubProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `modelscope serve --root ROOT --port 0` and waits for its "Serving ... at URL" line. */
export async function startHubProcess(cli: string, root: string, env: NodeJS.ProcessEnv, testFaults: boolean): Promise<RunningHubProcess> {
  const args = [cli, "serve", "--root", root, "--port", "0", ...(testFaults ? ["--test-faults"] : [])];
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`hub did not start within 20 s\n${stderr}`)), 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /Serving .* at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code} before serving\n${stderr}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    url,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface TimedRun {
  seconds: number;
  /** Peak resident set size in bytes (NaN when GNU time is not available). */
  peakRss: number;
  /** User + system CPU seconds of the command (NaN without GNU time). */
  cpuSeconds: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

export function haveGnuTime(): boolean {
  try {
    fs.accessSync(GNU_TIME, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command to completion; wall time covers spawn to exit (process start-up included, as for curl). */
export async function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv, scratch: string): Promise<TimedRun> {
  const rssFile = path.join(scratch, `rss-${process.pid}-${Date.now()}.txt`);
  const useTime = haveGnuTime();
  const [file, argv] = useTime ? [GNU_TIME, ["-f", "%M %U %S", "-o", rssFile, cmd, ...args]] : [cmd, args];
  const started = process.hrtime.bigint();
  const child = spawn(file, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c) => resolve(c));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  let peakRss = NaN;
  let cpuSeconds = NaN;
  if (useTime) {
    // GNU time writes "Command exited with non-zero status N" before the figures when the command fails.
    const lines = fs.readFileSync(rssFile, "utf8").trim().split("\n");
    const [kib, user, sys] = (lines[lines.length - 1] ?? "").trim().split(/\s+/).map(Number);
    peakRss = (kib ?? NaN) * 1024;
    cpuSeconds = (user ?? NaN) + (sys ?? NaN);
    fs.rmSync(rssFile, { force: true });
  }
  return { seconds, peakRss, cpuSeconds, code, stdout, stderr };
}

/**
 * A /proc `stat` file (of a process, or of one of its threads under task/): its command name and the
 * fields after "(comm)", which may hold spaces (state is fields[0], ppid fields[1]); undefined once gone.
 */
export function readProcStat(file: string): { comm: string; fields: string[] } | undefined {
  try {
    const stat = fs.readFileSync(file, "utf8");
    return { comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), fields: stat.slice(stat.lastIndexOf(")") + 2).split(" ") };
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) of a /proc `stat` file: utime is field 14, stime 15 (clock ticks, 100 per second on Linux); NaN once gone. */
export function statCpuSeconds(file: string): number {
  const stat = readProcStat(file);
  return stat ? (Number(stat.fields[11]) + Number(stat.fields[12])) / 100 : NaN;
}

/** CPU seconds (user + system) a running process has used so far, from /proc (Linux); NaN elsewhere. */
export function processCpuSeconds(pid: number | undefined): number {
  return pid === undefined ? NaN : statCpuSeconds(`/proc/${pid}/stat`);
}

/** CPU seconds the whole machine has spent busy (all cores, not idle or iowait), from /proc/stat; NaN elsewhere. */
export function machineBusySeconds(): number {
  try {
    const cpu = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - cpu[3]! - cpu[4]!) / 100;
  } catch {
    return NaN;
  }
}

/** Flushes dirty pages so one step's write-back does not land in the next step's timing. */
export async function syncDisks(): Promise<void> {
  await new Promise<void>((resolve) => {
    const child = spawn("sync", [], { stdio: "ignore" });
    child.once("error", () => resolve());
    child.once("close", () => resolve());
  });
}
