// The one answer to "which token, and from where": explicit > MODELSCOPE_API_TOKEN > <home>/token > official cookie jar.
import { readOfficialCookieToken } from "./official-cookies.js";
import { readTokenFile } from "./token-file.js";
import type { Env } from "../settings.js";

export type TokenSource = "explicit" | "env" | "file" | "official-cookie";

export interface ResolvedToken {
  token: string;
  source: TokenSource;
}

export interface TokenChainOptions {
  explicit?: string | undefined;
  home: string;
  env?: Env;
}

export function resolveToken(opts: TokenChainOptions): ResolvedToken | undefined {
  const explicit = opts.explicit?.trim();
  if (explicit) return { token: explicit, source: "explicit" };
  const fromEnv = (opts.env ?? process.env).MODELSCOPE_API_TOKEN?.trim();
  if (fromEnv) return { token: fromEnv, source: "env" };
  const fromFile = readTokenFile(opts.home);
  if (fromFile) return { token: fromFile, source: "file" };
  const fromCookie = readOfficialCookieToken(opts.home);
  if (fromCookie) return { token: fromCookie, source: "official-cookie" };
  return undefined;
}

/** How a source is named to users (whoami, auth status). */
export function describeTokenSource(source: TokenSource, home: string): string {
  switch (source) {
    case "explicit":
      return "--token";
    case "env":
      return "MODELSCOPE_API_TOKEN";
    case "file":
      return `${home}/token`;
    case "official-cookie":
      return `${home}/credentials/cookies (official client)`;
  }
}
