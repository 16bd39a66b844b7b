// `modelscope serve`: the local ModelScope-compatible hub, and `serve user add` to manage its users.
import fs from "node:fs";
import path from "node:path";
import { Option, type Command } from "commander";
import { UsageError } from "../../errors.js";
import { action, keepRunningWithoutStdout } from "../run.js";
import { registerAdminCommands } from "./serve-admin.js";

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`Invalid port '${v}'`, "use a number from 0 to 65535 (0 picks a free port)", { key: "badPort", vars: { value: v } });
  return n;
}

/** A whole number of at least `min` for a serve flag (connection caps, seconds). */
function parseCount(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`Invalid ${flag} '${v}'`, `use a whole number, ${min} or more`, { key: "badServeNumber", vars: { flag, value: v, min: String(min) } });
  return n;
}

/** An http(s) URL without user or password, or undefined (each flag says what it wants in its own error). */
function httpUrl(v: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return undefined;
  }
  return /^https?:$/.test(url.protocol) && !url.username && !url.password ? url : undefined;
}

/** `--public-url`: an http(s) URL without query or fragment; kept without its trailing slash. */
function parsePublicUrl(v: string): string {
  const url = httpUrl(v);
  if (!url || url.search || url.hash) {
    throw new UsageError(`Invalid --public-url '${v}'`, "give the address clients reach the hub at, e.g. http://hub.lab.example:8777 or https://models.lab.example", { key: "badPublicUrl", vars: { value: v } });
  }
  return url.toString().replace(/\/+$/, "");
}

/** `--upstream`: the upstream hub's address (query and fragment dropped), without its trailing slash. */
function parseUpstream(v: string): string {
  const url = httpUrl(v);
  if (!url) {
    throw new UsageError(`Invalid --upstream '${v}'`, "give the hub's address, e.g. https://modelscope.cn or http://10.0.0.5:8777", { key: "badUpstream", vars: { value: v } });
  }
  return url.origin + url.pathname.replace(/\/+$/, "");
}

interface ServeFlags {
  root?: string;
  host: string;
  port: string;
  publicUrl?: string;
  redirectThresholdMb: string;
  cdnHost?: string;
  maxConnections: string;
  maxConnectionsPerAddress: string;
  idleTimeout: string;
  upstream?: string;
  mirrorTtl: string;
  accessLog?: string;
  testFaults?: boolean;
  maxUploadMb?: string;
}

export function registerServeCommand(program: Command): void {
  // Options after `serve user add` belong to that subcommand, not to `serve` itself (both have --root).
  program.enablePositionalOptions();
  const serve = program
    .command("serve")
    .enablePositionalOptions()
    .description("run a local ModelScope-compatible hub over a cache folder (for offline clusters and tests)")
    .option("--root <dir>", "the hub's folder: a ModelScope cache (models/<owner>--<name>/snapshots/<rev>/...) plus optional hub.json")
    .option("--host <host>", "address to listen on (0.0.0.0: every network)", "127.0.0.1")
    .option("--port <port>", "port (0 picks a free one)", "8777")
    .option("--public-url <url>", "the address clients reach the hub at, for redirects and links (default: the Host each client asks for)")
    .option("--redirect-threshold-mb <mb>", "redirect files at least this big to the CDN host name (like the real hub)", "8")
    .option("--cdn-host <name>", "another name of this hub for redirected downloads (default: localhost for a client at 127.0.0.1, else the hub's own name)")
    .option("--max-connections <n>", "connections at once, all clients (0: no cap)", "1024")
    .option("--max-connections-per-address <n>", "connections at once from one address (0: no cap; raise it behind a proxy)", "256")
    .option("--idle-timeout <seconds>", "close a connection that makes no progress this long", "60")
    .option("--upstream <url>", "pull-through mirror of this hub (e.g. https://modelscope.cn): misses are fetched once, kept in --root")
    .option("--mirror-ttl <seconds>", "with --upstream: how long listings, revisions, info and access answers are reused", "60")
    .option("--access-log <file|off>", "one line per request: standard output (default), a file, or off")
    .option("--max-upload-mb <mb>", "largest file accepted by uploads, in MiB (default: 102400)")
    .addOption(new Option("--test-faults", "enable /__test__ fault switches (tests only)").hideHelp())
    .action(
      action(async (flags: ServeFlags) => {
        if (!flags.root) throw new UsageError("--root is required", "pass the folder to serve, e.g. `modelscope serve --root ~/.cache/modelscope`", { key: "serveNeedsRoot" });
        const threshold = Number(flags.redirectThresholdMb);
        if (!(threshold >= 0)) throw new UsageError(`Invalid --redirect-threshold-mb '${flags.redirectThresholdMb}'`, "use a number of MiB, e.g. 8", { key: "badThreshold", vars: { value: flags.redirectThresholdMb } });
        const maxUpload = flags.maxUploadMb === undefined ? undefined : Number(flags.maxUploadMb);
        if (maxUpload !== undefined && !(maxUpload > 0)) throw new UsageError(`Invalid --max-upload-mb '${flags.maxUploadMb}'`, "use a number of MiB, e.g. 10240", { key: "badThreshold", vars: { value: String(flags.maxUploadMb) } });
        const { startHubServer } = await import("../../server/hub-server.js");
        const root = path.resolve(flags.root);
        const ttl = Number(flags.mirrorTtl);
        if (!(ttl >= 0)) throw new UsageError(`Invalid --mirror-ttl '${flags.mirrorTtl}'`, "use a number of seconds, e.g. 60", { key: "badMirrorTtl", vars: { value: flags.mirrorTtl } });
        if (!flags.upstream && serve.getOptionValueSource("mirrorTtl") === "cli") {
          throw new UsageError("--mirror-ttl applies only with --upstream", "add --upstream URL to run a mirror, or drop --mirror-ttl", { key: "mirrorTtlAlone" });
        }
        const mirror = flags.upstream ? { upstream: parseUpstream(flags.upstream), metaTtlMs: ttl * 1000, accessTtlMs: ttl * 1000 } : undefined;
        const accessLog = !flags.accessLog ? "stdout" : flags.accessLog === "off" ? "off" : { file: path.resolve(flags.accessLog) };
        // A mirror starts empty: its root is made (0700) rather than refused. A plain hub serves what is there.
        if (mirror) {
          try {
            fs.mkdirSync(root, { recursive: true, mode: 0o700 });
          } catch {
            // a file there, or no permission: the root check below says which, in one line
          }
        }
        // Checks the root and reads hub.json strictly: a problem stops the start with one line (exit 2).
        const hub = await startHubServer({
          root,
          host: flags.host,
          port: parsePort(flags.port),
          publicUrl: flags.publicUrl === undefined ? undefined : parsePublicUrl(flags.publicUrl),
          redirectThresholdBytes: threshold * 1024 * 1024,
          cdnHost: flags.cdnHost,
          maxConnections: parseCount("--max-connections", flags.maxConnections, 0),
          maxConnectionsPerAddress: parseCount("--max-connections-per-address", flags.maxConnectionsPerAddress, 0),
          idleTimeoutMs: parseCount("--idle-timeout", flags.idleTimeout, 1) * 1000,
          testFaults: !!flags.testFaults,
          mirror,
          accessLog,
          maxUploadBytes: maxUpload === undefined ? undefined : Math.floor(maxUpload * 1024 * 1024),
        });
        process.stdout.write(`Serving ${root} at ${hub.url}\n`);
        keepRunningWithoutStdout(() => {
          process.stderr.write(`Standard output was closed: no access log from now on; serving goes on (use --access-log FILE to keep one)\n`);
        });
        if (mirror) process.stderr.write(`Mirror of ${mirror.upstream}: what is not in the root is fetched from it once and kept\n`);
        process.stderr.write(`Point clients at it with: export MODELSCOPE_ENDPOINT=${hub.url}\n`);
        if (!flags.publicUrl && (flags.host === "0.0.0.0" || flags.host === "::")) {
          process.stderr.write(`Other machines use this machine's address (http://<address>:${hub.port}); redirects follow the address each client used, or set --public-url\n`);
        }
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once("SIGINT", stop);
          process.once("SIGTERM", stop);
        });
        await hub.close();
      }),
    );

  const user = serve.command("user").description("manage the local hub's users (hub.json)");
  user
    .command("add <name>")
    .description("add a user and print a new token (shown once; only its sha256 is stored)")
    .requiredOption("--root <dir>", "the hub's folder")
    .option("--email <email>", "the user's email")
    .action(
      action(async (name: string, flags: { root: string; email?: string }) => {
        const { addUser } = await import("../../server/users.js");
        const { token } = await addUser(path.resolve(flags.root), name, flags.email);
        process.stderr.write(`Added user '${name}'. Their token (shown once, store it safely):\n`);
        process.stdout.write(`${token}\n`);
      }),
    );
  registerAdminCommands(serve, user);
}
