// `modelscope serve`: the local ModelScope-compatible hub, and `serve user add` to manage its users.
import fs from "node:fs";
import path from "node:path";
import { Option, type Command } from "commander";
import { UsageError } from "../../errors.js";
import { action } from "../run.js";

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`Invalid port '${v}'`, "use a number from 0 to 65535 (0 picks a free port)", { key: "badPort", vars: { value: v } });
  return n;
}

export function registerServeCommand(program: Command): void {
  // Options after `serve user add` belong to that subcommand, not to `serve` itself (both have --root).
  program.enablePositionalOptions();
  const serve = program
    .command("serve")
    .enablePositionalOptions()
    .description("run a local ModelScope-compatible hub over a cache folder (for offline clusters and tests)")
    .option("--root <dir>", "the hub's folder: a ModelScope cache (models/<owner>--<name>/snapshots/<rev>/...) plus optional hub.json")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port (0 picks a free one)", "8777")
    .option("--redirect-threshold-mb <mb>", "redirect files at least this big to the CDN host name (like the real hub)", "8")
    .option("--cdn-host <name>", "host name for redirected downloads", "localhost")
    .option("--max-upload-mb <mb>", "largest file accepted by uploads, in MiB (default: 102400)")
    .addOption(new Option("--test-faults", "enable /__test__ fault switches (tests only)").hideHelp())
    .action(
      action(async (flags: { root?: string; host: string; port: string; redirectThresholdMb: string; cdnHost: string; testFaults?: boolean; maxUploadMb?: string }) => {
        if (!flags.root) throw new UsageError("--root is required", "pass the folder to serve, e.g. `modelscope serve --root ~/.cache/modelscope`", { key: "serveNeedsRoot" });
        const threshold = Number(flags.redirectThresholdMb);
        if (!(threshold >= 0)) throw new UsageError(`Invalid --redirect-threshold-mb '${flags.redirectThresholdMb}'`, "use a number of MiB, e.g. 8", { key: "badThreshold", vars: { value: flags.redirectThresholdMb } });
        const maxUpload = flags.maxUploadMb === undefined ? undefined : Number(flags.maxUploadMb);
        if (maxUpload !== undefined && !(maxUpload > 0)) throw new UsageError(`Invalid --max-upload-mb '${flags.maxUploadMb}'`, "use a number of MiB, e.g. 10240", { key: "badThreshold", vars: { value: String(flags.maxUploadMb) } });
        const { startHubServer } = await import("../../server/hub-server.js");
        const { readHubConfig } = await import("../../server/users.js");
        const root = path.resolve(flags.root);
        if (!fs.statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
          throw new UsageError(`No such folder: ${root}`, "pass a ModelScope cache folder (models/<owner>--<name>/snapshots/<revision>/...), e.g. ~/.cache/modelscope", { key: "noSuchFolder", vars: { path: root } });
        }
        readHubConfig(root); // fail now, not on the first request, if hub.json is broken
        const hub = await startHubServer({
          root,
          host: flags.host,
          port: parsePort(flags.port),
          redirectThresholdBytes: threshold * 1024 * 1024,
          cdnHost: flags.cdnHost,
          testFaults: !!flags.testFaults,
          maxUploadBytes: maxUpload === undefined ? undefined : Math.floor(maxUpload * 1024 * 1024),
        });
        process.stdout.write(`Serving ${root} at ${hub.url}\n`);
        process.stderr.write(`Point clients at it with: export MODELSCOPE_ENDPOINT=${hub.url}\n`);
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
}
