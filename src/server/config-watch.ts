// hub.json at run time: edits (`serve user add`, an admin's editor) take effect on the next request, and
// the file failing never opens anything up. Gone, unreadable or broken: the last good rules stay (private
// and gated stay hidden) and one line goes to the log; with no good version ever loaded, every repo and
// sign-in is refused (503) until the file is fixed. Nothing of the file reaches a client.
import fs from "node:fs";
import { createHash } from "node:crypto";
import { emptyHubConfig, hubConfigPath, readHubConfig, type HubConfig, type HubUser } from "./hub-config.js";

/** The rules one request is decided by: taken once per request, so every route pays the same. */
export interface AccessSnapshot {
  config: HubConfig;
  /** No good hub.json could ever be read, and one exists: refuse everything rather than guess. */
  locked: boolean;
  userForToken(token: string | undefined): HubUser | undefined;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function snapshotOf(config: HubConfig, locked = false): AccessSnapshot {
  const byHash = new Map(config.users.map((u) => [u.token_sha256, u]));
  return { config, locked, userForToken: (token) => (token ? byHash.get(sha256Hex(token)) : undefined) };
}

export class HubConfigWatcher {
  /** How often the file was looked at and read (the test-only stats report them). */
  checks = 0;
  reads = 0;
  private key: string;
  private snapshot: AccessSnapshot;
  private hadFile: boolean;
  private warned = "";

  /** Reads hub.json strictly: a broken file throws here (a UsageError), before the hub serves anything. */
  constructor(
    private readonly root: string,
    private readonly warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    this.key = this.statKey();
    this.snapshot = snapshotOf(readHubConfig(root));
    this.hadFile = this.key !== "none";
  }

  current(): AccessSnapshot {
    this.checks++;
    const key = this.statKey();
    if (key === this.key) return this.snapshot;
    this.key = key;
    if (key === "none" && !this.hadFile) {
      this.snapshot = snapshotOf(emptyHubConfig());
      return this.snapshot;
    }
    if (key === "none") {
      this.warnOnce(`${hubConfigPath(this.root)} is gone: keeping its last good rules (restart the hub to serve without it)`);
      return this.snapshot;
    }
    try {
      this.reads++;
      this.snapshot = snapshotOf(readHubConfig(this.root));
      this.hadFile = true;
      if (this.warned) this.warn(`${hubConfigPath(this.root)} is good again: its rules apply`);
      this.warned = "";
    } catch (err) {
      const keep = this.hadFile ? "keeping its last good rules until it is fixed" : "refusing every repo and sign-in until it is fixed";
      this.warnOnce(`${(err as Error).message}: ${keep}`);
      if (!this.hadFile) this.snapshot = snapshotOf(emptyHubConfig(), true);
    }
    return this.snapshot;
  }

  private warnOnce(line: string): void {
    if (line !== this.warned) this.warn(line);
    this.warned = line;
  }

  /** Identifies the file's version without reading it; "none" when there is no file. */
  private statKey(): string {
    try {
      const st = fs.statSync(hubConfigPath(this.root));
      return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return code === "ENOENT" ? "none" : `error:${code}`;
    }
  }
}
