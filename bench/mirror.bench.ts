// The pull-through mirror under a crowd (issue 15's benchmark). Not a test: it prints ratios.
//  1. cold, one client: a fresh mirror in front of an upstream hub capped at --cap-mbps per connection;
//     one curl fetches the model's file through it.
//  2. cold, N clients: another fresh mirror; N curls at once. Targets: wall time within 1.3x of (1), upstream
//     bytes within 1.1x of the model size.
//  3. warm, N clients: the same N curls again (the mirror now has the file), against N curls reading the
//     same file from `python3 -m http.server` in the same run. Target: within 1.5x.
// Every step also prints its CPU seconds (user + system): the upstream hub's and the mirror's (from /proc,
// before and after the step), the curls' (GNU time), and the whole machine's; and whether the step was
// CPU-bound: all its CPU seconds over the cores, against its wall time.
// Usage: npm run build && node --import tsx bench/mirror.bench.ts [--size-mib 1024] [--clients 8] [--cap-mbps 40]
//          [--part-mib N] (the mirror's fill part size; default the engine's)
//          [--cli PATH] (the mirror's modelscope CLI, to compare builds; the upstream hub is always this build's)
//          [--trace FILE] (the cold steps over time, every 50 ms: see TRACE)
//          [--warm-pages MiB] (memory just freed for each cold step's fill to write into: see WARM_MIB)
//          [--replicas N] (steps 2 and 3: N mirror processes on one root, the clients spread over them in
//          turn, as behind a load balancer; one of them fills, the others follow its fill from the root)
// The mirror's CPU is also given per thread: its main thread (HTTP, the fill's sockets, the clients'
// writes) and the others (the fill's hash and write threads, file reads): the write thread's seconds
// tell a run whose fill wrote into memory the VM had to bring in first (README, mirror performance).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MODELSCOPE_BIN, REPO_ROOT, cleanEnv, machineBusySeconds, processCpuSeconds, readProcStat, startHubProcess, statCpuSeconds, timed, type RunningHubProcess } from "./lib/proc.js";

const MiB = 1024 * 1024;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const SIZE = arg("size-mib", 1024) * MiB;
const CLIENTS = arg("clients", 8);
const REPLICAS = Math.max(1, arg("replicas", 1));
const CAP = arg("cap-mbps", 40) * 1_000_000;
/** The mirror's fill part size in MiB (MODELSCOPE_DOWNLOAD_PART_SIZE_MB); 0: the engine's default. */
const PART_MIB = arg("part-mib", 0);
const MIRROR_CLI = (() => {
  const i = process.argv.indexOf("--cli");
  return i > 0 ? path.resolve(process.argv[i + 1]!) : MODELSCOPE_BIN;
})();
const CORES = os.availableParallelism();
const MODEL = "bench/mirror";
const FILE = "model.bin";

function writeModel(root: string): string {
  const dir = path.join(root, "models", "bench--mirror", "snapshots", "master");
  fs.mkdirSync(dir, { recursive: true });
  const fd = fs.openSync(path.join(dir, FILE), "w");
  const block = randomBytes(16 * MiB);
  for (let off = 0; off < SIZE; off += block.length) {
    block.writeUInt32LE(off / block.length, 0); // every block different
    fs.writeSync(fd, block, 0, Math.min(block.length, SIZE - off));
  }
  fs.closeSync(fd);
  return dir;
}

/**
 * --warm-pages MiB: before each cold step, writes and deletes a scratch file of that size, so the fill's
 * page cache reuses memory just freed. On this VM memory not touched for a while (freed pages are reported
 * back to the host) costs ~2.4 CPU-s per GiB to write into the first time, against ~0.2 when just freed
 * (dd of 1 GiB), and a fill writes 1 GiB: which of the two a step gets is otherwise chance.
 */
const WARM_MIB = arg("warm-pages", 0);

function warmPages(dir: string): void {
  if (WARM_MIB <= 0) return;
  const file = path.join(dir, "warm-pages");
  const fd = fs.openSync(file, "w");
  const block = Buffer.alloc(16 * MiB, 1);
  for (let off = 0; off < WARM_MIB * MiB; off += block.length) fs.writeSync(fd, block);
  fs.closeSync(fd);
  fs.rmSync(file);
}

/** One curl to /dev/null under GNU time: its CPU seconds. */
async function curl(url: string, scratch: string): Promise<number> {
  const r = await timed("curl", ["-sSfL", "-o", "/dev/null", url], process.env, scratch);
  if (r.code !== 0) throw new Error(`curl ${url}: ${r.code} ${r.stderr}`);
  return r.cpuSeconds;
}

interface Step {
  wall: number;
  /** Bytes the clients received. */
  bytes?: number;
  /** CPU seconds of each party during the step. */
  cpu: Record<string, number>;
  machine: number;
  /** Seconds from the start until the mirror kept the file (the fill's end), when watched. */
  filled?: number;
  /** CPU seconds of the mirror's threads in the step: its main thread first, then the others, most first. */
  threads?: number[];
}

/**
 * --trace FILE: every 50 ms of a cold step, as JSON lines: each curl's bytes received (/proc wchar: its
 * writes to /dev/null), upstream's bytes sent (the fill's progress), each party's CPU seconds and the
 * mirror's main thread's, and the machine's.
 */
const TRACE = (() => {
  const i = process.argv.indexOf("--trace");
  return i > 0 ? path.resolve(process.argv[i + 1]!) : undefined;
})();

/** The pids of the curls this process runs (under GNU time: their grandparent is us). */
function ourCurls(): number[] {
  const parent = (pid: string) => {
    const stat = readProcStat(`/proc/${pid}/stat`);
    return stat && { comm: stat.comm, ppid: stat.fields[1]! };
  };
  const out: number[] = [];
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const p = parent(pid);
    if (p?.comm !== "curl") continue;
    const pp = parent(p.ppid);
    if (pp && (Number(p.ppid) === process.pid || Number(pp.ppid) === process.pid)) out.push(Number(pid));
  }
  return out.sort((a, b) => a - b);
}

/** CPU seconds of each thread of a process (tid -> seconds). */
function perThread(pid: number | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  let tids: string[] = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    // gone
  }
  for (const tid of tids) {
    const seconds = statCpuSeconds(`/proc/${pid}/task/${tid}/stat`);
    if (!Number.isNaN(seconds)) out[tid] = seconds; // a thread that ended meanwhile is left out
  }
  return out;
}

function wchar(pid: number): number {
  try {
    return Number(/wchar: (\d+)/.exec(fs.readFileSync(`/proc/${pid}/io`, "utf8"))![1]);
  } catch {
    return NaN;
  }
}

function tracer(label: string, procs: Record<string, number | undefined>, upstreamUrl: string | undefined, t0: number): () => void {
  if (!TRACE) return () => undefined;
  const lines: string[] = [];
  const seen = new Map<number, number>();
  const timer = setInterval(async () => {
    const t = (performance.now() - t0) / 1000;
    for (const pid of ourCurls()) {
      const w = wchar(pid);
      if (!Number.isNaN(w)) seen.set(pid, w);
    }
    const cpu = Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, processCpuSeconds(pid)]));
    // The mirror's main thread alone (its task with the process's own id).
    if (procs.mirror !== undefined) cpu.mirrorMain = perThread(procs.mirror)[String(procs.mirror)] ?? NaN;
    const curlsCpu = [...seen.keys()].reduce((a, pid) => a + (processCpuSeconds(pid) || 0), 0);
    let up: number | undefined;
    if (upstreamUrl) {
      try {
        up = ((await (await fetch(`${upstreamUrl}/__test__/stats`)).json()) as { bytesSent: Record<string, number> }).bytesSent[FILE];
      } catch {
        up = undefined;
      }
    }
    lines.push(JSON.stringify({ label, pids: procs, t, now: Date.now(), clients: [...seen.values()], up, cpu, curlsCpu, machine: machineBusySeconds() }));
  }, 50);
  return () => {
    clearInterval(timer);
    fs.appendFileSync(TRACE, lines.join("\n") + "\n");
  };
}

/** The curls at once; the CPU of `procs` (name -> pid) read before and after. */
async function crowd(urls: string[], procs: Record<string, number | undefined>, scratch: string, kept?: string, label = "", upstreamUrl?: string): Promise<Step> {
  const before = Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, processCpuSeconds(pid)]));
  const machine0 = machineBusySeconds();
  const t0 = performance.now();
  const stopTrace = kept ? tracer(label, procs, upstreamUrl, t0) : () => undefined;
  // The mirror's threads (the fill's hash and write threads end with it: sampled while they run).
  const threads0 = perThread(procs.mirror);
  const threads: Record<string, number> = {};
  const sampleThreads = () => {
    for (const [tid, v] of Object.entries(perThread(procs.mirror))) threads[tid] = v - (threads0[tid] ?? 0);
  };
  const threadWatch = procs.mirror !== undefined ? setInterval(sampleThreads, 50) : undefined;
  // When the fill ended (the file appears at its final path in the mirror's root), to split the wall time.
  let filled: number | undefined;
  const watch = kept ? setInterval(() => filled ??= fs.existsSync(kept) ? (performance.now() - t0) / 1000 : undefined, 20) : undefined;
  const curls = await Promise.all(urls.map((u) => curl(u, scratch)));
  clearInterval(watch);
  clearInterval(threadWatch);
  sampleThreads();
  stopTrace();
  const wall = (performance.now() - t0) / 1000;
  const cpu: Record<string, number> = {};
  for (const [k, pid] of Object.entries(procs)) cpu[k] = processCpuSeconds(pid) - before[k]!;
  cpu.curls = curls.reduce((a, b) => a + b, 0);
  const main = String(procs.mirror);
  const others = Object.entries(threads).filter(([tid, v]) => tid !== main && v >= 0.05).map(([, v]) => v).sort((a, b) => b - a);
  return { wall, cpu, machine: machineBusySeconds() - machine0, filled, threads: procs.mirror !== undefined ? [threads[main] ?? NaN, ...others] : undefined };
}

/** "CPU s: upstream 1.2, mirror 3.4, curls 2.0 = 6.6 (machine 7.0) ...": the step's CPU against what 2 cores give in its wall time. */
function cpuLine(step: Step, server = "mirror"): string {
  const parts = Object.entries(step.cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`);
  const total = Object.values(step.cpu).reduce((a, b) => a + b, 0);
  const pct = (cpu: number) => `${((cpu / CORES / step.wall) * 100).toFixed(0)}%`;
  // Other work on the machine counts too: the cores it took were not there for this step.
  const verdict = step.machine / CORES / step.wall >= 0.9 ? "CPU-bound" : "not CPU-bound";
  // Every process of the server (replicas: mirror, mirror2, ...).
  const serverCpu = Object.entries(step.cpu).filter(([k]) => k === server || new RegExp(`^${server}\\d+$`).test(k)).reduce((a, [, v]) => a + v, 0);
  return `    CPU s: ${parts.join(", ")} = ${total.toFixed(2)} (${pct(total)} of ${CORES} cores over ${step.wall.toFixed(2)} s); machine ${step.machine.toFixed(2)} (${pct(step.machine)}: ${verdict}); ${server} ${(serverCpu / ((step.bytes ?? 0) / 1024 ** 3)).toFixed(2)} CPU-s per GiB served${step.threads ? `\n    ${server} threads: main ${step.threads[0]!.toFixed(2)}, others ${step.threads.slice(1).map((v) => v.toFixed(2)).join(" ")}` : ""}`;
}

async function upstreamBytes(hub: RunningHubProcess): Promise<number> {
  const stats = (await (await fetch(`${hub.url}/__test__/stats`)).json()) as { bytesSent: Record<string, number> };
  return stats.bytesSent[FILE] ?? 0;
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(REPO_ROOT, ".bench-tmp-mirror-"));
  const stops: (() => Promise<void>)[] = [];
  try {
    const env = cleanEnv(path.join(tmp, "home"));
    const upRoot = path.join(tmp, "upstream");
    const dir = writeModel(upRoot);
    const upstream = await startHubProcess(MODELSCOPE_BIN, upRoot, env, true);
    stops.push(upstream.stop);
    await (await fetch(`${upstream.url}/api/v1/models/${MODEL}/repo/files?Revision=master`)).arrayBuffer(); // the hub hashes on its first listing
    await fetch(`${upstream.url}/__test__/faults`, { method: "POST", body: JSON.stringify({ kind: "throttle", bytesPerSecond: CAP }) });
    // The mirror's fill parts (--part-mib): the clients follow the fill's landed prefix, which lags its
    // total by about (streams - 1) parts.
    const mirrorEnv = PART_MIB > 0 ? { ...env, MODELSCOPE_DOWNLOAD_PART_SIZE_MB: String(PART_MIB) } : env;
    // startHubProcess has no flag list for --upstream: a mirror is a hub process with these extra flags.
    const startMirror = async (name: string) => {
      const root = path.join(tmp, name);
      fs.mkdirSync(root, { recursive: true }); // a replica shares the root
      const child = spawn(process.execPath, [MIRROR_CLI, "serve", "--root", root, "--port", "0", "--upstream", upstream.url, "--access-log", "off"], { env: mirrorEnv, stdio: ["ignore", "pipe", "inherit"] });
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
          const m = /Serving .* at (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once("exit", (code) => reject(new Error(`mirror exited ${code}`)));
      });
      stops.push(async () => {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
      });
      return { url, pid: child.pid };
    };
    const fileUrl = (base: string) => `${base}/api/v1/models/${MODEL}/repo?Revision=master&FilePath=${FILE}`;
    const mb = (n: number) => `${(n / MiB).toFixed(0)} MiB`;

    const scratch = path.join(tmp, "scratch");
    fs.mkdirSync(scratch);
    const run = async (urls: string[], procs: Record<string, number | undefined>, kept?: string) => ({ ...(await crowd(urls, procs, scratch, kept, `${urls.length}`, upstream.url)), bytes: urls.length * SIZE });
    const keptIn = (name: string) => path.join(tmp, name, "models", MODEL.replace("/", "--"), "snapshots", "master", FILE);
    const fillLine = (s: Step) => (s.filled === undefined ? "" : `; the fill ended at ${s.filled.toFixed(2)} s, the last client ${(s.wall - s.filled).toFixed(2)} s later`);
    console.log(`mirror: ${path.relative(REPO_ROOT, MIRROR_CLI)}${PART_MIB > 0 ? `, fill parts of ${PART_MIB} MiB` : ""}; load before: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);

    const one = await startMirror("mirror-one");
    warmPages(tmp);
    const before1 = await upstreamBytes(upstream);
    const s1 = await run([fileUrl(one.url)], { upstream: upstream.child.pid, mirror: one.pid }, keptIn("mirror-one"));
    const t1 = s1.wall;
    const up1 = (await upstreamBytes(upstream)) - before1;
    console.log(`cold, 1 client:  ${t1.toFixed(2)} s, upstream sent ${mb(up1)}${fillLine(s1)}`);
    console.log(cpuLine(s1));

    const many = [await startMirror("mirror-many")];
    while (many.length < REPLICAS) many.push(await startMirror("mirror-many"));
    // The crowd spread over the replicas in turn; each replica's CPU counted (the first one's per thread).
    const crowdUrls = Array.from({ length: CLIENTS }, (_, i) => fileUrl(many[i % many.length]!.url));
    const replicaPids = Object.fromEntries(many.slice(1).map((m, i) => [`mirror${i + 2}`, m.pid]));
    if (REPLICAS > 1) console.log(`${REPLICAS} mirror processes on one root, the clients spread over them`);
    warmPages(tmp);
    const before8 = await upstreamBytes(upstream);
    const s8 = await run(crowdUrls, { upstream: upstream.child.pid, mirror: many[0]!.pid, ...replicaPids }, keptIn("mirror-many"));
    const t8 = s8.wall;
    const up8 = (await upstreamBytes(upstream)) - before8;
    console.log(`cold, ${CLIENTS} clients: ${t8.toFixed(2)} s (${(t8 / t1).toFixed(2)}x one client; target <= 1.3x), upstream sent ${mb(up8)} (${(up8 / SIZE).toFixed(2)}x the model; target <= 1.1x)${fillLine(s8)}`);
    console.log(cpuLine(s8));

    const sw = await run(crowdUrls, { mirror: many[0]!.pid, ...replicaPids });
    const warm = sw.wall;
    const py = spawn("python3", ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir], { stdio: ["ignore", "pipe", "pipe"] });
    stops.push(async () => {
      py.kill("SIGTERM");
      await new Promise((r) => py.once("exit", r));
    });
    const pyUrl = await new Promise<string>((resolve) => {
      let out = "";
      py.stdout.on("data", (d) => {
        out += d;
        const m = /port (\d+)/.exec(out);
        if (m) resolve(`http://127.0.0.1:${m[1]}`);
      });
    });
    const ss = await run(Array.from({ length: CLIENTS }, () => `${pyUrl}/${FILE}`), { "http.server": py.pid });
    const stat = ss.wall;
    const agg = (t: number) => `${((CLIENTS * SIZE) / MiB / t).toFixed(0)} MiB/s`;
    console.log(`warm, ${CLIENTS} clients: mirror ${warm.toFixed(2)} s (${agg(warm)}), python http.server ${stat.toFixed(2)} s (${agg(stat)}): ${(warm / stat).toFixed(2)}x (target <= 1.5x)`);
    console.log(cpuLine(sw));
    console.log(cpuLine(ss, "http.server"));
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
