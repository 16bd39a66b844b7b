// The CLI as a new user (or an `hf` user) meets it: closed pipes, -q, summaries, the bar on narrow
// terminals, env, completion, messages that fit the situation, exit codes. Real processes, real local hub.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { barLayout, humanDuration } from "../src/cli/progress.js";
import { runInTerminal } from "./helpers/pty.js";
import {
  DEEPCOMPRESSOR_BIN,
  MODELSCOPE_BIN,
  assertNoSecrets,
  bytes,
  clearFaults,
  cleanEnv,
  deepcompressor,
  modelscope,
  setFaults,
  spawnModelscope,
  startTestHub,
  tempDir,
  waitFor,
  type TestHub,
} from "./helpers/hub.js";

const WEIGHTS = bytes(1536 * 1024, 11);

let hub: TestHub;
before(async () => {
  hub = await startTestHub({
    models: {
      "acme/m": { "config.json": "{}", "model.safetensors": bytes(3000, 2), "tokenizer.json": "{}" },
      "acme/slow": { "config.json": "{}", "weights.bin": WEIGHTS },
      "acme/revs": { revisions: { master: { "a.txt": "a" }, v1: { "a.txt": "v1" } } },
    },
    users: ["alice"],
    testFaults: true,
  });
});
after(() => hub.close());
afterEach(() => clearFaults(hub));

const env = (home: string, extra: Record<string, string | undefined> = {}) => cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, ...extra });
const snap = (home: string, id: string, rev = "master") => path.join(home, ".cache", "modelscope", "models", id.replace("/", "--"), "snapshots", rev);
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

function inTerminal(bin: string, args: string[], home: string, extra: Record<string, string> = {}) {
  return runInTerminal([process.execPath, bin, ...args], [], env(home, { TERM: "xterm", COLUMNS: "120", ...extra }));
}

/** Runs a command whose reader has gone before it writes anything (stdout closed at once). */
function withClosedStdout(args: string[], home: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MODELSCOPE_BIN, ...args], { env: env(home), stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("closed pipes (issue 10, 14)", () => {
  for (const args of [["--help"], ["cache", "ls"], ["download", "acme/m", "--dry-run"], ["env"]]) {
    test(`modelscope ${args.join(" ")} with its reader gone ends quietly`, async () => {
      const home = tempDir();
      if (args[0] === "cache") assert.equal((await modelscope(["download", "acme/m"], { env: env(home) })).code, 0);
      const r = await withClosedStdout(args, home);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /EPIPE|Error|at /, r.stderr);
    });
  }

  test("in a shell: `modelscope --help | true` and `modelscope cache ls | head -1`", async () => {
    const home = tempDir();
    const script = `"${process.execPath}" "${MODELSCOPE_BIN}" --help | true; a=\${PIPESTATUS[0]}; "${process.execPath}" "${MODELSCOPE_BIN}" cache ls | head -1 >/dev/null; echo "$a \${PIPESTATUS[0]}"`;
    const out = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      const child = spawn("bash", ["-c", script], { env: env(home) });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", () => resolve({ stdout, stderr }));
    });
    assert.equal(out.stdout.trim(), "0 0");
    assert.equal(out.stderr, "");
  });
});

describe("quiet, progress and summaries (issue 12, 5)", () => {
  const commands = [
    ["login"], ["logout"], ["whoami"], ["auth", "status"], ["info"], ["serve"], ["serve", "user", "add"], ["download"],
    ["cache", "ls"], ["cache", "rm"], ["cache", "verify"], ["cache", "prune"], ["env"], ["completion"],
  ];
  test("-q/--quiet is on every modelscope and deepcompressor command", async () => {
    for (const c of commands) {
      const r = await modelscope([...c, "--help"]);
      assert.match(r.stdout, /-q, --quiet/, `modelscope ${c.join(" ")}`);
    }
    for (const c of [["fetch"], ["config", "validate"], ["check-auth"], ["ptq"]]) {
      const r = await deepcompressor([...c, "--help"]);
      assert.match(r.stdout, /-q, --quiet/, `deepcompressor ${c.join(" ")}`);
    }
  });

  test("-q keeps notes off stderr: login, dry-run and prune summaries", async () => {
    const home = tempDir();
    const login = await modelscope(["login", "--token-stdin", "-q"], { env: env(home, { MODELSCOPE_API_TOKEN: "ms-other" }), input: hub.tokens.alice });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, "Logged in as alice.\n");
    assert.equal(login.stderr, "");
    const noisy = await modelscope(["download", "acme/m", "--dry-run"], { env: env(home) });
    assert.match(noisy.stderr, /Would download 3 file/);
    for (const args of [["download", "acme/m", "--dry-run", "-q"], ["cache", "prune", "--quiet"]]) {
      const r = await modelscope(args, { env: env(home) });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "", args.join(" "));
    }
  });

  test("piped: one summary line on stderr at the end (files, bytes, time); -q drops it", async () => {
    const home = tempDir();
    const r = await modelscope(["download", "acme/m"], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), snap(home, "acme/m"));
    assert.match(r.stderr, /^Downloaded 3 file\(s\), 2\.9 KiB, in \d+s \(0 already there\)\.\n$/);
    const again = await modelscope(["download", "acme/m"], { env: env(home) });
    assert.match(again.stderr, /^Downloaded 0 file\(s\), 0 B, in \d+s \(3 already there\)\.\n$/);
    const quiet = await modelscope(["download", "acme/m", "-q", "--force"], { env: env(home) });
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stderr, "");
    const zh = await modelscope(["download", "acme/m"], { env: env(home, { LANG: "zh_CN.UTF-8" }) });
    assert.match(zh.stderr, /^已下载 0 个文件（0 B），用时 \d+s（3 个已存在）。$/m);
  });

  test("on a terminal: -q and MODELSCOPE_DISABLE_PROGRESS_BARS=1 draw no bar", async () => {
    await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 1024 * 1024, path: "weights.bin" }]);
    const withBar = await inTerminal(MODELSCOPE_BIN, ["download", "acme/slow"], tempDir());
    assert.equal(withBar.code, 0, withBar.screen);
    assert.match(withBar.screen, /100% \|/);
    for (const [args, extra] of [[["-q"], {}], [[], { MODELSCOPE_DISABLE_PROGRESS_BARS: "1" }]] as const) {
      const home = tempDir();
      const r = await inTerminal(MODELSCOPE_BIN, ["download", "acme/slow", ...args], home, extra);
      assert.equal(r.code, 0, r.screen);
      assert.doesNotMatch(r.screen, /%/, r.screen);
      assert.ok(r.screen.includes(snap(home, "acme/slow")), r.screen);
    }
  });

  test("ETA reads 45s, 1m23s, 2h05m; the bar's line fits the terminal at any width", async () => {
    assert.equal(humanDuration(45), "45s");
    assert.equal(humanDuration(83), "1m23s");
    assert.equal(humanDuration(3600 * 2 + 5 * 60 + 10), "2h05m");
    // The longest values each field can take, laid out at several widths.
    const widest = { doneH: "1023.9 MiB", totalH: "1023.9 MiB", speedH: "1023.9 MiB", etaH: "59m59s", files: "9999/9999 files", percentage: "100" };
    for (const columns of [20, 40, 60, 80, 100, 160]) {
      const { format, barsize } = barLayout(columns);
      const line = format.replace("{bar}", "#".repeat(barsize)).replace(/\{(\w+)\}/g, (_, k: keyof typeof widest) => widest[k]);
      assert.ok(line.length <= columns, `${columns} columns: ${line}`);
    }
    assert.match(barLayout(120).format, /speedH.*files/);
  });

  test("a narrow terminal (50 columns) gets a bar that never wraps; ETA in the new form", async () => {
    await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 512 * 1024, path: "weights.bin" }]);
    const r = await inTerminal(MODELSCOPE_BIN, ["download", "acme/slow"], tempDir(), { COLUMNS: "50" });
    assert.equal(r.code, 0, r.screen);
    // Each redraw starts at column 1 (or restores the cursor): split there, then drop the other escapes.
    const frames = r.screen.split(/\x1b\[\d*G|\x1b[78]|[\r\n]+/).map((l) => l.replace(ANSI, "")).filter((l) => l.includes("%"));
    assert.ok(frames.length > 0, r.screen);
    for (const f of frames) assert.ok(f.length <= 50, `too wide: ${JSON.stringify(f)}`);
    assert.match(r.screen, /ETA (\d+m\d\ds|\d+s|-)/);
  });

  test("deepcompressor fetch draws the download bar on a terminal", async () => {
    await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 1024 * 1024, path: "weights.bin" }]);
    const cwd = tempDir("dc-cwd-");
    // As the Python tool wants it: the config in a subfolder of the working folder, a name with a size.
    fs.mkdirSync(path.join(cwd, "configs"));
    fs.writeFileSync(path.join(cwd, "configs", "cfg.yaml"), 'model:\n  name: slow-7b\n  use_modelscope: true\n  path: "acme/slow"\n');
    const home = tempDir();
    const inCwd = ["/bin/sh", "-c", 'cd "$1" && exec "$2" "$3" fetch configs/cfg.yaml', "sh", cwd, process.execPath, DEEPCOMPRESSOR_BIN];
    const r = await runInTerminal(inCwd, [], env(home, { TERM: "xterm", COLUMNS: "120" }));
    assert.equal(r.code, 0, r.screen);
    assert.match(r.screen, /100% \| 1\.5 MiB\/1\.5 MiB/, r.screen);
  });
});

describe("whoami --json, env, completion, bare command (issue 12, 5)", () => {
  test("whoami --json: user, masked token and its source", async () => {
    const r = await modelscope(["whoami", "--json"], { env: env(tempDir(), { MODELSCOPE_API_TOKEN: hub.tokens.alice }) });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.username, "alice");
    assert.equal(j.tokenSource, "env");
    assert.equal(j.tokenFrom, "MODELSCOPE_API_TOKEN");
    assert.equal(j.endpoint, hub.url);
    assert.match(j.token, /…/);
  });

  test("env: version, endpoint, paths, settings in force, sign-in state; the token only masked", async () => {
    const home = tempDir();
    const r = await modelscope(["env", "--json"], { env: env(home, { MODELSCOPE_API_TOKEN: hub.tokens.alice, MODELSCOPE_DOWNLOAD_MAX_RETRIES: "2", MODELSCOPE_MAX_BACKOFF: "3" }) });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.match(j.version, /^\d+\.\d+\.\d+/);
    assert.equal(j.endpoint, hub.url);
    assert.equal(j.endpointSource, "MODELSCOPE_ENDPOINT");
    assert.equal(j.home, path.join(home, ".modelscope"));
    assert.equal(j.cacheDir, path.join(home, ".cache", "modelscope"));
    assert.equal(j.signedIn, true);
    assert.equal(j.tokenSource, "MODELSCOPE_API_TOKEN");
    assert.equal(j.settings.downloadMaxRetries, 2);
    assert.equal(j.settings.maxBackoffSeconds, 3);
    assert.equal(j.variables.MODELSCOPE_DOWNLOAD_MAX_RETRIES, "2");
    assert.match(j.variables.MODELSCOPE_API_TOKEN, /…/);
    const text = await modelscope(["env"], { env: env(home) });
    assert.match(text.stdout, /^signed in\s+: no$/m);
    assert.match(text.stdout, /^endpoint\s+: .+ \(MODELSCOPE_ENDPOINT\)$/m);
  });

  test("completion bash completes commands, subcommands and flags; zsh and fish print scripts; another shell is a usage error", async () => {
    const script = (await modelscope(["completion", "bash"])).stdout;
    const complete = (words: string[]) =>
      new Promise<string>((resolve) => {
        const line = `eval "$SCRIPT"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _modelscope; echo "\${COMPREPLY[*]}"`;
        const child = spawn("bash", ["-c", line], { stdio: ["ignore", "pipe", "inherit"], env: { PATH: process.env.PATH, SCRIPT: script } });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.on("close", () => resolve(out.trim()));
      });
    assert.equal(await complete(["modelscope", "cache", "p"]), "prune");
    assert.equal(await complete(["modelscope", "download", "acme/m", "--inc"]), "--include");
    assert.match(await complete(["modelscope", ""]), /\bdownload\b.*\bcompletion\b/);
    assert.match((await modelscope(["completion", "zsh"])).stdout, /bashcompinit[\s\S]*complete -o default -F _modelscope modelscope/);
    assert.match((await modelscope(["completion", "fish"])).stdout, /complete -c modelscope -n '__fish_seen_subcommand_from cache' -a 'prune'/);
    const bad = await modelscope(["completion", "tcsh"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^Error: Unknown shell 'tcsh'$/m);
  });

  test("bare `modelscope` shows the help on stderr and exits non-zero; --help exits 0", async () => {
    const r = await modelscope([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Usage: modelscope/);
    assert.equal((await modelscope(["--help"])).code, 0);
  });
});

describe("messages that fit the situation (issue 12, 6)", () => {
  test("an --include or --exclude that matches nothing is an error naming the pattern; nothing is downloaded", async () => {
    const home = tempDir();
    const inc = await modelscope(["download", "acme/m", "--include", "*.json", "--include", "*.bin"], { env: env(home) });
    assert.equal(inc.code, 2);
    assert.match(inc.stderr, /^Error: --include '\*\.bin' matches no file of the model$/m);
    assert.ok(!fs.existsSync(path.join(snap(home, "acme/m"), "config.json")));
    const exc = await modelscope(["download", "acme/m", "--exclude", "tokenizer.jsn"], { env: env(home) });
    assert.equal(exc.code, 2);
    assert.match(exc.stderr, /^Error: --exclude 'tokenizer\.jsn' matches no file of the model$/m);
    assert.match(exc.stderr, /Fix: files with similar names: tokenizer\.json/);
    const ok = await modelscope(["download", "acme/m", "--include", "*.json"], { env: env(home) });
    assert.equal(ok.code, 0, ok.stderr);
  });

  test("a missing file lists near names; a missing revision lists the available ones", async () => {
    const home = tempDir();
    const file = await modelscope(["download", "acme/m", "confg.json"], { env: env(home) });
    assert.equal(file.code, 1);
    assert.match(file.stderr, /^Error: Not found: file 'confg\.json' in acme\/m$/m);
    assert.match(file.stderr, /Fix: files with similar names: config\.json$/m);
    const rev = await modelscope(["download", "acme/revs", "--revision", "v2"], { env: env(home) });
    assert.equal(rev.code, 1);
    assert.match(rev.stderr, /Fix: available revisions: master, v1; pass one with --revision$/m);
  });

  test("download --json prints a JSON error object on failure (stdout), the usual line on stderr", async () => {
    const r = await modelscope(["download", "acme/revs", "--revision", "v2", "--json"], { env: env(tempDir()) });
    assert.equal(r.code, 1);
    const j = JSON.parse(r.stdout);
    assert.equal(j.error.type, "NotFoundError");
    assert.match(j.error.message, /^Not found: /);
    assert.match(j.error.fix, /available revisions: master, v1/);
    assert.equal(j.error.exitCode, 1);
    assert.match(r.stderr, /^Error: Not found/m);
  });

  test("a flag value that looks like a flag (`--revision --json`) is a usage error", async () => {
    const home = tempDir();
    for (const args of [["download", "acme/m", "--revision", "--json"], ["download", "acme/m", "--local-dir", "-q"], ["cache", "rm", "acme/m", "--revision", "--yes"]]) {
      const r = await modelscope(args, { env: env(home) });
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, /^Error: --(revision|local-dir) needs a value, but got the flag -/m);
    }
    assert.ok(!fs.existsSync(path.join(home, ".cache", "modelscope", "models")));
    const zh = await modelscope(["download", "acme/m", "--revision", "--json"], { env: env(home, { LANG: "zh_CN.UTF-8" }) });
    assert.match(zh.stderr, /^错误：--revision 需要一个值，但得到的是选项 --json$/m);
  });

  test("a hub that refuses connections: two quick retries, announced on a terminal, then the hub is named", async () => {
    const srv = http.createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    const dead = `http://127.0.0.1:${port}`;
    const r = await inTerminal(MODELSCOPE_BIN, ["download", "acme/m"], tempDir(), { MODELSCOPE_ENDPOINT: dead });
    assert.equal(r.code, 1, r.screen);
    assert.match(r.screen, /ECONNREFUSED\); retrying in [\d.]+s \(1 of 2\)/);
    assert.match(r.screen, /retrying in [\d.]+s \(2 of 2\)/);
    assert.doesNotMatch(r.screen, /\(3 of/);
    assert.ok(r.screen.includes(`Fix: nothing answers at ${dead}: start the hub`), r.screen);
    // Piped: the same, without the retry notices.
    const piped = await modelscope(["download", "acme/m"], { env: env(tempDir(), { MODELSCOPE_ENDPOINT: dead }) });
    assert.equal(piped.code, 1);
    assert.doesNotMatch(piped.stderr, /retrying/);
  });

  test("SIGTERM during a download exits 143 (Ctrl-C stays 130)", async () => {
    await setFaults(hub, [{ kind: "throttle", bytesPerSecond: 64 * 1024, path: "weights.bin" }]);
    for (const [sig, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
      const home = tempDir();
      const run = spawnModelscope(["download", "acme/slow"], { env: env(home) });
      await waitFor(() => fs.existsSync(path.join(snap(home, "acme/slow"), "weights.bin.incomplete")), "the download to start");
      run.child.kill(sig);
      const r = await run.done;
      assert.equal(r.code, code, `${sig}: ${r.stderr}`);
    }
  });

  test("cache ls marks an interrupted download; cache rm shows the size it frees", async () => {
    const home = tempDir();
    assert.equal((await modelscope(["download", "acme/m"], { env: env(home) })).code, 0);
    fs.writeFileSync(path.join(snap(home, "acme/m"), "big.bin.incomplete"), "partial");
    const ls = await modelscope(["cache", "ls"], { env: env(home) });
    assert.match(ls.stdout, /acme\/m\s+master .*\[incomplete: 1 partial file\(s\)\]$/m);
    assert.match(ls.stderr, /cache prune/);
    const j = JSON.parse((await modelscope(["cache", "ls", "--json"], { env: env(home) })).stdout);
    assert.equal(j.models[0].revisions[0].incomplete, 1);
    const refused = await modelscope(["cache", "rm", "acme/m"], { env: env(home) });
    assert.match(refused.stderr, /Refusing to remove acme\/m \(2\.9 KiB\) without confirmation/);
    const rm = await modelscope(["cache", "rm", "acme/m", "-y"], { env: env(home) });
    assert.match(rm.stdout, /^Removed acme\/m: freed \d+\.\d KiB from cache\.$/m);
  });

  test("no internal wording ('the seed') in any help text, the demo or the examples", async () => {
    const helps = [["--help"], ...["login", "logout", "whoami", "auth status", "info", "serve", "download", "cache ls", "env"].map((c) => [...c.split(" "), "--help"])];
    for (const h of helps) assert.doesNotMatch((await modelscope(h)).stdout, /seed/i, h.join(" "));
    for (const h of [["--help"], ["check-auth", "--help"], ["fetch", "--help"]]) assert.doesNotMatch((await deepcompressor(h)).stdout, /seed/i, h.join(" "));
    const root = path.resolve(path.dirname(MODELSCOPE_BIN), "..", "..");
    const demo = fs.readFileSync(path.join(root, "src", "demo", "demo.ts"), "utf8");
    assert.doesNotMatch(demo.replace(/seed: string|\.update\(seed\)/g, ""), /\bseed\b/i);
    assert.doesNotMatch(fs.readFileSync(path.join(root, "examples", "README.md"), "utf8"), /seed/i);
  });

  test("under a zh locale, --help and every command summary are in Chinese", async () => {
    const zh = { env: cleanEnv(tempDir(), { LANG: "zh_CN.UTF-8" }) };
    const top = await modelscope(["--help"], zh);
    assert.match(top.stdout, /^用法：/m);
    const commandLines = top.stdout.split("命令：")[1]!.split("\n").filter((l) => /^ {2}\S/.test(l));
    assert.ok(commandLines.length >= 10);
    for (const l of commandLines) assert.match(l, /[\u4e00-\u9fff]/, `no Chinese: ${l}`);
    for (const group of [["cache"], ["auth"], ["serve"], ["serve", "user"], ["serve", "org"], ["repo"]]) {
      const sub = await modelscope([...group, "--help"], zh);
      for (const l of sub.stdout.split("命令：")[1]!.split("\n").filter((x) => /^ {2}\S/.test(x))) assert.match(l, /[\u4e00-\u9fff]/, `no Chinese: ${l}`);
    }
    const dl = await modelscope(["download", "--help"], zh);
    assert.match(dl.stdout, /^选项：/m);
    assert.match(dl.stdout, /--revision <rev>\s+分支、标签或提交/);
    const dc = await deepcompressor(["--help"], zh);
    for (const l of dc.stdout.split("命令：")[1]!.split("\n").filter((x) => /^ {2}\S/.test(x))) assert.match(l, /[\u4e00-\u9fff]/, `no Chinese: ${l}`);
  });
});

describe("failures a user can cause get their own line and fix (issue 10, 16)", () => {
  test("--local-dir that is a file, a file where the cache needs a folder, a folder where a file goes", async () => {
    const home = tempDir();
    const work = tempDir();
    const asFile = path.join(work, "a-file");
    fs.writeFileSync(asFile, "x");
    const a = await modelscope(["download", "acme/m", "--local-dir", asFile], { env: env(home) });
    assert.equal(a.code, 1);
    assert.ok(a.stderr.includes(`Error: Cannot write there: ${asFile} is a file, but a folder is needed at that place`), a.stderr);
    assert.match(a.stderr, /Fix: move or delete .* or use another folder with --local-dir DIR/);
    const models = path.join(home, ".cache", "modelscope", "models");
    fs.mkdirSync(models, { recursive: true });
    fs.writeFileSync(path.join(models, "acme--m"), "not a folder");
    const b = await modelscope(["download", "acme/m"], { env: env(home) });
    assert.equal(b.code, 1);
    assert.ok(b.stderr.includes(`${path.join(models, "acme--m")} is a file, but a folder is needed`), b.stderr);
    const dir = path.join(work, "ld");
    fs.mkdirSync(path.join(dir, "config.json"), { recursive: true });
    const c = await modelscope(["download", "acme/m", "--local-dir", dir], { env: env(home) });
    assert.equal(c.code, 1);
    assert.ok(c.stderr.includes(`${path.join(dir, "config.json")} is a folder, but a file must go at that place`), c.stderr);
    for (const r of [a, b, c]) assert.doesNotMatch(r.stderr, /this is a bug|Unexpected/);
  });

  test("MODELSCOPE_HOME that is a file, and a full disk while saving the token: each its own line and fix", async () => {
    const home = tempDir();
    fs.writeFileSync(path.join(home, ".modelscope"), "x");
    const r = await modelscope(["login", "--token-stdin"], { env: env(home), input: hub.tokens.alice });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is a file, but a folder is needed at that place\n {2}Fix: move or delete .*, or set MODELSCOPE_HOME to another folder/);
    // No write can grow a file (RLIMIT_FSIZE 0, SIGXFSZ ignored): the token file's write fails as on a full disk.
    const full = tempDir();
    const out = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn("bash", ["-c", `trap '' XFSZ; ulimit -f 0; exec "${process.execPath}" "${MODELSCOPE_BIN}" login --token-stdin`], { env: env(full) });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => resolve({ code, stderr }));
      child.stdin.end(hub.tokens.alice);
    });
    assertNoSecrets(out.stderr, "login on a full disk");
    assert.equal(out.code, 1, out.stderr);
    assert.ok(out.stderr.includes(`Error: Could not write ${path.join(full, ".modelscope", "token")}`), out.stderr);
    assert.match(out.stderr, /Fix: free some space on the disk that holds .*, or set MODELSCOPE_HOME to a folder on another disk/);
    assert.doesNotMatch(out.stderr, /this is a bug/);
    assert.deepEqual(fs.readdirSync(path.join(full, ".modelscope")), [], "no token and no temp file left");
  });
});
