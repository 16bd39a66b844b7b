// Credentials never belong in config files: a token-like key, or any value that looks like a token, is
// refused. Messages name the file, line and key, never the value.
import { isMap, isPair, isScalar, isSeq, visit, type Document } from "yaml";
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

const REMEDY = "credentials never belong in config files: remove it, then sign in with `modelscope login` or set MODELSCOPE_API_TOKEN";

/** Every credential in one parsed file. `origin` turns a node into file/line/column. */
export function secretProblems(doc: Document, origin: (node: unknown) => KeyOrigin | undefined): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const keyPath = (path: readonly unknown[], pairKey: unknown): string => {
    const parts: string[] = [];
    for (const step of path) if (isPair(step) && isScalar(step.key)) parts.push(String(step.key.value));
    if (isScalar(pairKey)) parts.push(String(pairKey.value));
    return parts.join(".");
  };
  visit(doc, {
    Pair(_k, pair, path) {
      const keyNode = pair.key;
      const keyText = isScalar(keyNode) ? String(keyNode.value) : "";
      const value = pair.value;
      const hasValue = isScalar(value) ? value.value !== null && value.value !== "" : isMap(value) || isSeq(value);
      if (keyText && isSecretKey(keyText) && hasValue) {
        const where = origin(keyNode);
        problems.push({ file: where?.file ?? "(config)", line: where?.line, column: where?.column, key: keyPath(path, keyNode), message: `'${keyText}' holds a credential: ${REMEDY}` });
      } else if (isScalar(value) && looksLikeToken(value.value)) {
        const where = origin(value);
        problems.push({ file: where?.file ?? "(config)", line: where?.line, column: where?.column, key: keyPath(path, keyNode), message: `the value looks like a token: ${REMEDY}` });
      }
    },
    Seq(_k, seq, path) {
      for (const item of seq.items) {
        if (isScalar(item) && looksLikeToken(item.value)) {
          const where = origin(item);
          problems.push({ file: where?.file ?? "(config)", line: where?.line, column: where?.column, key: keyPath(path, null), message: `a list item looks like a token: ${REMEDY}` });
        }
      }
    },
  });
  return problems;
}

/** Credentials passed as overrides (`--model-token ...`, or a token as `--model-path`). */
export function overrideSecretProblems(overrides: readonly ConfigOverride[]): ConfigProblem[] {
  return overrides
    .filter((o) => isSecretKey(o.key) || looksLikeToken(o.value))
    .map((o) => ({ file: "(command line)", key: o.flag, message: `${isSecretKey(o.key) ? "is a credential" : "the value looks like a token"}: credentials never belong in configs or their overrides: sign in with \`modelscope login\` or set MODELSCOPE_API_TOKEN` }));
}
