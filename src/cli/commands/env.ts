// `modelscope env`: what a bug report needs, without asking the hub: version, platform, endpoint, paths,
// the settings in force (and which variables set them), and the sign-in state. The token is only masked.
import type { Command } from "commander";
import { describeTokenSource, maskToken, tokenFilePath } from "../../auth/index.js";
import { officialCookiesPath } from "../../auth/official-cookies.js";
import { HubApi } from "../../hub/api.js";
import { cacheRoot, downloadSettings, messageLanguage, networkSettings, offlineFromEnv, progressBarsDisabled } from "../../settings.js";
import { VERSION } from "../../version.js";
import { action, writeJson } from "../run.js";

/** Variables the toolkit reads (README "Environment variables"); those set are shown, a token masked. */
const KNOWN_PREFIXES = ["MODELSCOPE_", "DEEPCOMPRESSOR_"];
const OTHER_VARS = ["API_TIMEOUT", "API_MAX_RETRIES", "DOWNLOAD_TIMEOUT", "DOWNLOAD_RETRY_TIMES", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "LC_ALL", "LC_MESSAGES", "LANG"];

function variablesSet(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (v === undefined || !(KNOWN_PREFIXES.some((p) => k.startsWith(p)) || OTHER_VARS.includes(k))) continue;
    // A token, or a proxy URL that may carry a password, is never shown whole.
    out[k] = k === "MODELSCOPE_API_TOKEN" ? maskToken(v.trim()) : /proxy/i.test(k) ? v.replace(/\/\/[^/@]*@/, "//***@") : v;
  }
  return out;
}

export function registerEnvCommand(program: Command): void {
  program
    .command("env")
    .description("what a bug report needs: version, endpoint, paths, settings in force, sign-in state")
    .option("--json", "machine-readable output")
    .action(
      action(async (flags: { json?: boolean }) => {
        const api = new HubApi();
        const info = api.tokenInfo();
        const net = networkSettings();
        const dl = downloadSettings();
        const report = {
          version: VERSION,
          node: process.versions.node,
          platform: `${process.platform}-${process.arch}`,
          endpoint: api.endpoint,
          endpointSource: api.endpointChoice.source,
          home: api.home,
          tokenFile: tokenFilePath(api.home),
          officialCookies: officialCookiesPath(api.home),
          cacheDir: cacheRoot(),
          signedIn: !!info,
          token: info ? maskToken(info.token) : null,
          tokenSource: info ? describeTokenSource(info.source, api.home) : null,
          settings: {
            offline: offlineFromEnv(),
            progressBars: !progressBarsDisabled(),
            language: messageLanguage(),
            connectTimeoutSeconds: net.connectTimeoutMs / 1000,
            readTimeoutSeconds: net.readTimeoutMs / 1000,
            apiMaxRetries: net.maxRetries,
            maxBackoffSeconds: net.maxBackoffMs / 1000,
            downloadTimeoutSeconds: dl.stallTimeoutMs / 1000,
            downloadMaxRetries: dl.maxRetries,
            parallelThresholdMiB: dl.parallelThresholdBytes / 2 ** 20,
            partSizeMiB: dl.partSizeBytes / 2 ** 20,
            parallelWorkers: dl.rangeWorkers,
          },
          variables: variablesSet(process.env),
        };
        if (flags.json) return writeJson(report);
        const rows: [string, string][] = [
          ["version", `deepcompressor ${report.version} (node ${report.node}, ${report.platform})`],
          ["endpoint", `${report.endpoint} (${report.endpointSource})`],
          ["home", report.home],
          ["token file", report.tokenFile],
          ["cache dir", report.cacheDir],
          ["signed in", info ? `yes: ${report.token} (from ${report.tokenSource}; not checked with the hub, see \`modelscope auth status\`)` : "no"],
        ];
        for (const [k, v] of Object.entries(report.settings)) rows.push([k, String(v)]);
        for (const [k, v] of Object.entries(report.variables)) rows.push([`$${k}`, v]);
        const width = Math.max(...rows.map(([k]) => k.length));
        for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)} : ${v}\n`);
      }),
    );
}
