// The pull-through mirror under a crowd (issue 15's benchmark). Not a test: it prints ratios.
//  1. cold, one client: a fresh mirror in front of an upstream hub capped at --cap-mbps per connection;
//     one curl fetches the model's file through it.
//  2. cold, N clients: another fresh mirror; N curls at once. Targets: wall time within 1.3x of (1), upstream
//     bytes within 1.1x of the model size.
//  3. warm, N clients: the same N curls again (the mirror now has the file), against N curls reading the
//     same file from `python3 -m http.server` in the same run. Target: within 1.5x.
// Usage: npm run build && node --import tsx bench/mirror.bench.ts [--size-mib 1024] [--clients 8] [--cap-mbps 40]
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { MODELSCOPE_BIN, REPO_ROOT, cleanEnv, startHubProcess, type RunningHubProcess } from "./lib/proc.js";

const MiB = 1024 * 1024;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const SIZE = arg("size-mib", 1024) * MiB;
const CLIENTS = arg("clients", 8);
const CAP = arg("cap-mbps", 40) * 1_000_000;
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

function curl(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn("curl", ["-sSfL", "-o", "/dev/null", url], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    c.stderr.on("data", (d) => (err += d));
    c.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`curl ${url}: ${code} ${err}`))));
  });
}

async function crowd(urls: string[]): Promise<number> {
  const t0 = performance.now();
  await Promise.all(urls.map(curl));
  return (performance.now() - t0) / 1000;
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
    // startHubProcess has no flag list for --upstream: a mirror is a hub process with these extra flags.
    const startMirror = async (name: string) => {
      const root = path.join(tmp, name);
      fs.mkdirSync(root);
      const child = spawn(process.execPath, [MODELSCOPE_BIN, "serve", "--root", root, "--port", "0", "--upstream", upstream.url, "--access-log", "off"], { env, stdio: ["ignore", "pipe", "inherit"] });
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
      return url;
    };
    const fileUrl = (base: string) => `${base}/api/v1/models/${MODEL}/repo?Revision=master&FilePath=${FILE}`;
    const mb = (n: number) => `${(n / MiB).toFixed(0)} MiB`;

    const one = await startMirror("mirror-one");
    const before1 = await upstreamBytes(upstream);
    const t1 = await crowd([fileUrl(one)]);
    const up1 = (await upstreamBytes(upstream)) - before1;
    console.log(`cold, 1 client:  ${t1.toFixed(2)} s, upstream sent ${mb(up1)}`);

    const many = await startMirror("mirror-many");
    const before8 = await upstreamBytes(upstream);
    const t8 = await crowd(Array.from({ length: CLIENTS }, () => fileUrl(many)));
    const up8 = (await upstreamBytes(upstream)) - before8;
    console.log(`cold, ${CLIENTS} clients: ${t8.toFixed(2)} s (${(t8 / t1).toFixed(2)}x one client; target <= 1.3x), upstream sent ${mb(up8)} (${(up8 / SIZE).toFixed(2)}x the model; target <= 1.1x)`);

    const warm = await crowd(Array.from({ length: CLIENTS }, () => fileUrl(many)));
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
    const stat = await crowd(Array.from({ length: CLIENTS }, () => `${pyUrl}/${FILE}`));
    const agg = (t: number) => `${((CLIENTS * SIZE) / MiB / t).toFixed(0)} MiB/s`;
    console.log(`warm, ${CLIENTS} clients: mirror ${warm.toFixed(2)} s (${agg(warm)}), python http.server ${stat.toFixed(2)} s (${agg(stat)}): ${(warm / stat).toFixed(2)}x (target <= 1.5x)`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
