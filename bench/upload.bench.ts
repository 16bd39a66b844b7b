// The upload benchmark (issue 13). Not a test: it prints ratios against baselines taken in the same run,
// on the same machine, against the same local hub (its own process), and never asserts a time.
//
//   npm run build && node --import tsx bench/upload.bench.ts                 # 2 GiB, 3 runs
//   npm run build && node --import tsx bench/upload.bench.ts --size-gib 0.25 --runs 1
//   ... --baseline-cli OLD/dist/cli/modelscope.js   also time another build's first upload, interleaved
//   ... --hub-cli OLD/dist/cli/modelscope.js        serve the hub with another build
//
// The folder: one big file + 200 small ones (bench/lib/data.ts). Steps, each timed spawn to exit under
// /usr/bin/time (peak RSS, CPU):
//   curl:     one `curl` process PUTting every file, one after another over one connection, to the hub's
//             blob URL. The hub streams each body to a temp file and hashes it, as for a real upload, then
//             refuses it (the URL names a sha256 no file has), so nothing is stored: the same bytes and the
//             same server work, without the rename.
//   official: the official Python client's `upload` (unchanged, ../shared/reference/modelscope_hub), into
//             an empty hub (blobs and repos wiped before each run, its `.ms_upload_cache` too).
//   ours:     `modelscope upload`, into an empty hub, with a fresh HOME (no saved hashes).
//   re-upload: `modelscope upload` of the unchanged folder again (same HOME): no blob bytes may be sent.
// Targets: ours >= 2x the official client, within 1.5x of curl; re-upload < 1 s; peak RSS < 150 MB.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { GiB, generateModel } from "./lib/data.js";
import { MODELSCOPE_BIN, REPO_ROOT, cleanEnv, machineBusySeconds, processCpuSeconds, startHubProcess, syncDisks, timed, type RunningHubProcess, type TimedRun } from "./lib/proc.js";

const MB = 1e6;
const { values: flags } = parseArgs({
  options: {
    "size-gib": { type: "string", default: "2" },
    "small-files": { type: "string", default: "200" },
    runs: { type: "string", default: "3" },
    "tmp-dir": { type: "string" },
    "skip-official": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    "skip-curl": { type: "boolean", default: false },
    cli: { type: "string" },
    "baseline-cli": { type: "string" },
    "hub-cli": { type: "string" },
  },
});
const sizeBytes = Math.round(Number(flags["size-gib"]) * GiB);
const runs = Math.max(1, Math.floor(Number(flags.runs)));
const OFFICIAL = path.resolve(REPO_ROOT, "..", "shared", "reference", "modelscope_hub", "src");
const CLI = path.resolve(flags.cli ?? MODELSCOPE_BIN);
const BASELINE_CLI = flags["baseline-cli"] ? path.resolve(flags["baseline-cli"]) : undefined;
const officialOk = !flags["skip-official"] && fs.existsSync(OFFICIAL) && spawnSync("/usr/bin/python3", ["-c", "import requests, tqdm, filelock"]).status === 0;

const tmpParent = path.resolve(flags["tmp-dir"] ?? path.join(REPO_ROOT, ".bench-tmp"));
fs.mkdirSync(tmpParent, { recursive: true });
const work = fs.mkdtempSync(path.join(tmpParent, "upload-"));
let hub: RunningHubProcess | undefined;
async function cleanup(): Promise<void> {
  await hub?.stop();
  if (!flags.keep) fs.rmSync(work, { recursive: true, force: true });
}
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => void cleanup().then(() => process.exit(130)));

const fmtS = (s: number) => (Number.isFinite(s) ? s.toFixed(3) : "n/a");
const fmtMB = (b: number) => (Number.isFinite(b) ? `${(b / MB).toFixed(0)} MB` : "n/a");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  // The folder to upload: generated in the hub layout of a scratch root, then used as a plain folder.
  const gen = await generateModel(path.join(work, "src"), { modelId: "bench/folder", totalBytes: sizeBytes, smallFiles: Math.floor(Number(flags["small-files"])) });
  const folder = gen.dir;
  const root = path.join(work, "hub");
  fs.mkdirSync(root);
  const add = spawnSync(process.execPath, [MODELSCOPE_BIN, "serve", "user", "add", "alice", "--root", root], { encoding: "utf8" });
  const token = add.stdout.trim();
  hub = await startHubProcess(path.resolve(flags["hub-cli"] ?? MODELSCOPE_BIN), root, cleanEnv(path.join(work, "hub-home")), false);
  const url = hub.url;
  process.stdout.write(`upload benchmark: ${gen.files.length} files, ${fmtMB(gen.totalBytes)} (big file ${fmtMB(gen.big.size)}), hub ${url}, ${runs} run(s)\n`);

  /** An empty hub: no blobs, no repos (hub.json keeps its users). */
  const wipe = () => {
    for (const d of [".blobs", "models"]) fs.rmSync(path.join(root, d), { recursive: true, force: true });
    fs.rmSync(path.join(folder, ".ms_upload_cache"), { recursive: true, force: true });
    fs.rmSync(path.join(folder, ".ms_upload_progress"), { recursive: true, force: true });
  };
  const create = (id: string, home: string) =>
    spawnSync(process.execPath, [MODELSCOPE_BIN, "create", id, "--exist-ok"], { env: cleanEnv(home, { MODELSCOPE_ENDPOINT: url, MODELSCOPE_API_TOKEN: token }), encoding: "utf8" });
  const check = (what: string, r: TimedRun) => {
    if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr.slice(-2000)}`);
  };

  /** A timed step, with the hub's CPU during it and what the rest of the machine used meanwhile (noise). */
  type Step = TimedRun & { hubCpu: number; otherCpu: number };
  const step = async (cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Step> => {
    const hub0 = processCpuSeconds(hub!.child.pid);
    const busy0 = machineBusySeconds();
    const r = await timed(cmd, args, env, work);
    const hubCpu = processCpuSeconds(hub!.child.pid) - hub0;
    return { ...r, hubCpu, otherCpu: Math.max(0, machineBusySeconds() - busy0 - hubCpu - r.cpuSeconds) };
  };
  const results: Record<string, Step[]> = { curl: [], official: [], baseline: [], ours: [], reupload: [] };
  for (let i = 0; i < runs; i++) {
    // curl -T: every file PUT to a blob URL of a repo that exists, one connection.
    wipe();
    create("alice/curl", path.join(work, `home-curl-${i}`));
    const blobUrl = `${url}/api/v1/repos/models/alice/curl/info/lfs/objects/${"0".repeat(64)}`;
    const curlArgs = ["-sS", "-o", "/dev/null", "-H", `Authorization: Bearer ${token}`];
    for (const f of gen.files) curlArgs.push("-T", path.join(folder, ...f.path.split("/")), blobUrl);
    await syncDisks();
    if (!flags["skip-curl"]) {
      results.curl!.push(await step("curl", curlArgs, cleanEnv(work)));
      check("curl", results.curl!.at(-1)!);
    }

    if (officialOk) {
      wipe();
      const home = path.join(work, `home-py-${i}`);
      fs.mkdirSync(home, { recursive: true });
      create("alice/py", home);
      await syncDisks();
      const env = { ...cleanEnv(home, { PYTHONPATH: OFFICIAL, MODELSCOPE_API_TOKEN: token }) };
      results.official!.push(await step("/usr/bin/python3", ["-m", "modelscope_hub.cli.main", "--endpoint", url, "upload", "alice/py", folder, "--disable-tqdm"], env));
      check("official", results.official!.at(-1)!);
    }

    const baseline = async () => {
      if (!BASELINE_CLI) return;
      wipe();
      const baseHome = path.join(work, `home-base-${i}`);
      create("alice/ours", baseHome);
      await syncDisks();
      results.baseline!.push(await step(process.execPath, [BASELINE_CLI, "upload", "alice/ours", folder, "--json"], cleanEnv(baseHome, { MODELSCOPE_ENDPOINT: url, MODELSCOPE_API_TOKEN: token })));
      check("baseline", results.baseline!.at(-1)!);
    };
    // Before ours on even runs, after on odd ones: neither build always goes first.
    if (i % 2 === 0) await baseline();

    wipe();
    const home = path.join(work, `home-ours-${i}`);
    create("alice/ours", home);
    const env = cleanEnv(home, { MODELSCOPE_ENDPOINT: url, MODELSCOPE_API_TOKEN: token });
    await syncDisks();
    results.ours!.push(await step(process.execPath, [CLI, "upload", "alice/ours", folder, "--json"], env));
    check("ours", results.ours!.at(-1)!);
    const sent = (JSON.parse(results.ours!.at(-1)!.stdout) as { bytesSent: number }).bytesSent;
    if (sent !== gen.files.filter((f) => f.size > 1024 * 1024 || f.path.endsWith(".bin") || f.path.endsWith(".safetensors")).reduce((a, f) => a + f.size, 0)) {
      process.stdout.write(`note: ours sent ${sent} blob bytes\n`);
    }
    results.reupload!.push(await step(process.execPath, [CLI, "upload", "alice/ours", folder, "--json"], env));
    check("re-upload", results.reupload!.at(-1)!);
    const again = JSON.parse(results.reupload!.at(-1)!.stdout) as { bytesSent: number; committed: boolean };
    if (again.bytesSent !== 0 || again.committed) throw new Error(`re-upload sent ${again.bytesSent} bytes (committed: ${again.committed})`);
    if (i % 2 === 1) await baseline();
  }

  const row = (name: string, rs: Step[]) => {
    if (!rs.length) return process.stdout.write(`${name.padEnd(24)} skipped\n`);
    const s = median(rs.map((r) => r.seconds));
    const rss = Math.max(...rs.map((r) => r.peakRss));
    const cpu = median(rs.map((r) => r.cpuSeconds));
    const hubCpu = median(rs.map((r) => r.hubCpu));
    const other = median(rs.map((r) => r.otherCpu));
    const each = rs.map((r) => fmtS(r.seconds)).join(", ");
    process.stdout.write(
      `${name.padEnd(24)} ${fmtS(s).padStart(8)} s  ${(gen.totalBytes / MB / s).toFixed(0).padStart(5)} MB/s  peak RSS ${fmtMB(rss).padStart(7)}  CPU ${cpu.toFixed(2)} s  hub CPU ${hubCpu.toFixed(2)} s  other load ${other.toFixed(2)} CPU-s  (runs: ${each})\n`,
    );
  };
  row("curl -T (baseline)", results.curl!);
  row("official client", results.official!);
  if (BASELINE_CLI) row("baseline build, first", results.baseline!);
  row("ours, first upload", results.ours!);
  row("ours, unchanged again", results.reupload!);
  const ours = median(results.ours!.map((r) => r.seconds));
  if (results.curl!.length) {
    const curl = median(results.curl!.map((r) => r.seconds));
    process.stdout.write(`ours vs curl: ${(ours / curl).toFixed(2)}x the time (target <= 1.5x)\n`);
  }
  if (results.official!.length) process.stdout.write(`official vs ours: ${(median(results.official!.map((r) => r.seconds)) / ours).toFixed(2)}x faster (target >= 2x)\n`);
  process.stdout.write(`re-upload: ${fmtS(median(results.reupload!.map((r) => r.seconds)))} s, 0 blob bytes (target < 1 s)\n`);
} finally {
  await cleanup();
}
