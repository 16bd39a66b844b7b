// The package version and User-Agent, read once from package.json next to dist/ (cheap: one small file).
import { readFileSync } from "node:fs";

/** Our package.json: the first one above this module (dist/version.js, or a CLI bundle's chunk deeper in dist/cli/). */
function readVersion(): string {
  for (const up of ["../package.json", "../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "deepcompressor") return pkg.version ?? "0.0.0";
    } catch {
      // not there: one folder up
    }
  }
  return "0.0.0";
}

export const VERSION = readVersion();
export const USER_AGENT = `deepcompressor/${VERSION}; node/${process.versions.node}; platform/${process.platform}`;
