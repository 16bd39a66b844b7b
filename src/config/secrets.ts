// Credentials never belong in config files: a token-like key, or any value that looks like a token, is
// refused. Messages name the file, line and key, never the value.
import { isMap, isScalar, isSeq, type Document } from "yaml";
import type { ConfigProblem } from "../errors.js";
import type { ConfigOverride, KeyOrigin } from "./types.js";

/** Key names that hold credentials (compared lowercased, with - and . read as _). */
const SECRET_KEYS = new Set([
  "token",
  "api_token",
  "apitoken",
  "access_token",
  "auth_token",
  "modelscope_token",
  "modelscope_api_token",
  "ms_token",
  "hf_token",
  "huggingface_token",
  "hub_token",
  "api_key",
  "apikey",
  "secret",
  "secret_key",
  "password",
  "passwd",
  "cookie",
  "cookies",
  "session_id",
  "m_session_id",
  "authorization",
  "credentials",
]);

/** Tokens by shape: ModelScope (ms-<uuid>, or a bare uuid for older ones), Hugging Face, GitHub, bearer. */
const SECRET_VALUES: RegExp[] = [
  /^ms-[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
  /^ms-[A-Za-z0-9_-]{20,}$/,
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  /^hf_[A-Za-z0-9]{20,}$/,
  /^(ghp|gho|ghu|ghs|github_pat)_[A-Za-z0-9_]{20,}$/,
  /^sk-[A-Za-z0-9_-]{20,}$/,
  /^bearer\s+\S{12,}$/i,
];

export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-.]/g, "_");
  if (SECRET_KEYS.has(k)) return true;
  // "..._api_token", "modelscope_access_token" and the like; not "pad_token"/"eos_token" (tokenizer settings).
  return /(^|_)(api|access|auth|modelscope|ms|hf|hub|bearer|secret)_?(token|key)$/.test(k);
}

export function looksLikeToken(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const v = value.trim();
  return SECRET_VALUES.some((re) => re.test(v));
}

/** Tokens inside longer text: a URL's user part, an `Authorization: Bearer ...` header, a comment. */
const EMBEDDED: RegExp[] = [
  /(?<![A-Za-z0-9])ms-[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}(?![A-Za-z0-9])/i,
  /(?<![A-Za-z0-9])ms-[A-Za-z0-9_-]{20,}/,
  /(?<![A-Za-z0-9-])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![A-Za-z0-9-])/i,
  /(?<![A-Za-z0-9])hf_[A-Za-z0-9]{20,}/,
  /(?<![A-Za-z0-9])(ghp|gho|ghu|ghs|github_pat)_[A-Za-z0-9_]{20,}/,
  /(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{20,}/,
  /\bbearer\s+[^\s"']{12,}/i,
  // a URL with a password, or a long user name that is a token in all but shape
  /[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/@:]*:[^\s/@]+@/,
  /[A-Za-z][A-Za-z0-9+.-]*:\/\/[A-Za-z0-9._~-]{20,}@/,
];

export function containsToken(text: unknown): boolean {
  if (typeof text !== "string") return false;
  return looksLikeToken(text) || EMBEDDED.some((re) => re.test(text));
}

/** The text of a scalar as a credential check sees it (`!!binary` decoded). */
function scalarText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString("latin1");
  return undefined;
}

const REMEDY = "credentials never belong in config files: remove it, then sign in with `modelscope login` or set MODELSCOPE_API_TOKEN";

/**
 * Every credential in one parsed file: by key name, by value (anywhere in a key or a value, decoded
 * `!!binary` too) and in comments (from the raw text). `origin` turns a node into file/line/column.
 */
export function secretProblems(doc: Document, origin: (node: unknown) => KeyOrigin | undefined, rawText = "", file = "(config)"): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (node: unknown, keyPath: string[], message: string) => {
    const where = origin(node);
    problems.push({ file: where?.file ?? file, line: where?.line, column: where?.column, key: keyPath.join("."), message });
  };
  const walk = (node: unknown, keyPath: string[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const k = pair.key;
        const keyText = isScalar(k) ? String(k.value) : "";
        const here = [...keyPath, keyText];
        const value = pair.value;
        const hasValue = isScalar(value) ? value.value !== null && value.value !== "" : isMap(value) || isSeq(value);
        if (isScalar(k) && containsToken(scalarText(k.value))) add(k, keyPath, `a key looks like a token: ${REMEDY}`);
        else if (keyText && isSecretKey(keyText) && hasValue) add(k, here, `'${keyText}' holds a credential: ${REMEDY}`);
        else if (isScalar(value) && containsToken(scalarText(value.value))) add(value, here, `the value looks like a token: ${REMEDY}`);
        if (!isScalar(value)) walk(value, here);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) {
        if (isScalar(item) && containsToken(scalarText(item.value))) add(item, keyPath, `a list item looks like a token: ${REMEDY}`);
        else walk(item, keyPath);
      }
    } else if (isScalar(node) && containsToken(scalarText(node.value))) add(node, keyPath, `the value looks like a token: ${REMEDY}`);
  };
  walk(doc.contents, []);
  const seen = new Set(problems.map((p) => p.line));
  rawText.split(/\r?\n/).forEach((line, i) => {
    const hash = line.search(/(^|\s)#/);
    if (hash < 0 || seen.has(i + 1) || !containsToken(line.slice(hash))) return;
    problems.push({ file, line: i + 1, column: hash + 1, message: `a comment looks like it holds a token: ${REMEDY}` });
  });
  return problems;
}

/** Credentials passed as overrides (`--model-token ...`, or a token as `--model-path`). */
export function overrideSecretProblems(overrides: readonly ConfigOverride[]): ConfigProblem[] {
  return overrides
    .filter((o) => isSecretKey(o.key) || containsToken(o.value))
    .map((o) => ({ file: "(command line)", key: o.flag, message: `${isSecretKey(o.key) ? "is a credential" : "the value looks like a token"}: credentials never belong in configs or their overrides: sign in with \`modelscope login\` or set MODELSCOPE_API_TOKEN` }));
}
