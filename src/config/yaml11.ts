// Plain scalars read exactly as PyYAML's safe_load reads them (YAML 1.1, PyYAML's resolver.py and
// constructor.py), not as the `yaml` library's own 1.1 mode: `y`/`n` and `1e3` stay strings, `1:20` is 80,
// a float needs a dot and a signed exponent (`1.0e-5`), integers are exact (BigInt past 2^53).
// Every tag writes a parsed scalar back as its original text, so `fetch --output` changes no value's text.
import { Scalar, type ScalarTag, type Tags } from "yaml";

const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const NULL = /^(?:~|null|Null|NULL|)$/;
const INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT = /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const TIMESTAMP =
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/;

/** The original text of a parsed scalar, if its value was not changed since (see `setScalar`). */
function original(node: Scalar): string | undefined {
  return typeof node.source === "string" && node.type === "PLAIN" ? node.source : undefined;
}

/** Sets a scalar's value, dropping the original text that no longer matches it. */
export function setScalar(node: Scalar, value: unknown): void {
  node.value = value;
  delete node.source;
}

function exactInt(sign: number, digits: string, radix: number): number | bigint {
  const prefix = radix === 2 ? "0b" : radix === 8 ? "0o" : radix === 16 ? "0x" : "";
  const big = BigInt(`${prefix}${digits}`) * BigInt(sign);
  const n = Number(big);
  return Number.isSafeInteger(n) ? n : big;
}

/** PyYAML's construct_yaml_int. Returns an error text where PyYAML itself would stop (`0b_`, `0x_`). */
export function pyInt(text: string): number | bigint | Error {
  try {
    return pyIntOf(text);
  } catch {
    return new Error(`'${text}' is not a number PyYAML can read`);
  }
}

function pyIntOf(text: string): number | bigint | Error {
  let v = text.replace(/_/g, "");
  let sign = 1;
  if (v[0] === "-") sign = -1;
  if (v[0] === "-" || v[0] === "+") v = v.slice(1);
  if (v === "0") return 0;
  if (v.startsWith("0b")) return v.length > 2 ? exactInt(sign, v.slice(2), 2) : new Error(`'${text}' is not a number PyYAML can read`);
  if (v.startsWith("0x")) return v.length > 2 ? exactInt(sign, v.slice(2), 16) : new Error(`'${text}' is not a number PyYAML can read`);
  if (v[0] === "0") return exactInt(sign, v, 8);
  if (v.includes(":")) {
    let total = 0n;
    for (const part of v.split(":")) total = total * 60n + BigInt(part);
    const n = Number(total) * sign;
    return Number.isSafeInteger(n) ? n : total * BigInt(sign);
  }
  return exactInt(sign, v, 10);
}

/** PyYAML's construct_yaml_float. */
export function pyFloat(text: string): number | Error {
  let v = text.replace(/_/g, "").toLowerCase();
  let sign = 1;
  if (v[0] === "-") sign = -1;
  if (v[0] === "-" || v[0] === "+") v = v.slice(1);
  if (v === ".inf") return sign * Infinity;
  if (v === ".nan") return NaN;
  if (v.includes(":")) {
    let total = 0;
    for (const part of v.split(":")) total = total * 60 + Number(part);
    return sign * total;
  }
  const n = Number(v);
  return v === "." || Number.isNaN(n) ? new Error(`'${text}' is not a number PyYAML can read`) : sign * n;
}

/** A float as PyYAML's representer writes it: always a dot, and a signed exponent. */
export function floatText(n: number): string {
  if (Number.isNaN(n)) return ".nan";
  if (!Number.isFinite(n)) return n > 0 ? ".inf" : "-.inf";
  let s = String(n);
  if (!/[.e]/.test(s)) s += ".0";
  else if (!s.includes(".")) s = s.replace("e", ".0e");
  return s;
}

function resolved(value: unknown, onError: (msg: string) => void): unknown {
  if (value instanceof Error) {
    onError(value.message);
    return null;
  }
  return value;
}

const boolTag: ScalarTag = {
  identify: (v) => typeof v === "boolean",
  default: true,
  tag: "tag:yaml.org,2002:bool",
  test: BOOL,
  resolve: (s) => /^(?:yes|true|on)$/i.test(s),
  stringify: (node) => original(node as Scalar) ?? ((node as Scalar).value ? "true" : "false"),
};

const nullTag: ScalarTag = {
  identify: (v) => v === null || v === undefined,
  createNode: () => new Scalar(null),
  default: true,
  tag: "tag:yaml.org,2002:null",
  test: NULL,
  resolve: () => new Scalar(null),
  stringify: (node) => original(node as Scalar) ?? "null",
};

const intTag: ScalarTag = {
  identify: (v) => typeof v === "bigint" || Number.isInteger(v),
  default: true,
  tag: "tag:yaml.org,2002:int",
  test: INT,
  resolve: (s, onError) => resolved(pyInt(s), onError),
  stringify: (node) => original(node as Scalar) ?? String((node as Scalar).value),
};

const floatTag: ScalarTag = {
  identify: (v) => typeof v === "number",
  default: true,
  tag: "tag:yaml.org,2002:float",
  format: "FLOAT",
  test: FLOAT,
  resolve: (s, onError) => resolved(pyFloat(s), onError),
  stringify: (node) => original(node as Scalar) ?? floatText(Number((node as Scalar).value)),
};

const timestampTag: ScalarTag = {
  identify: (v) => v instanceof Date,
  default: true,
  tag: "tag:yaml.org,2002:timestamp",
  test: TIMESTAMP,
  resolve: (s) => {
    const m = /^(\d{4})-(\d\d?)-(\d\d?)(?:(?:[Tt]|[ \t]+)(\d\d?):(\d\d):(\d\d)(?:\.(\d*))?(?:[ \t]*(Z|[-+]\d\d?(?::\d\d)?))?)?$/.exec(s)!;
    const [, y, mo, d, h = "0", mi = "0", sec = "0", frac = "", tz] = m;
    let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), Number(frac.padEnd(3, "0").slice(0, 3)));
    if (tz && tz !== "Z") {
      const [th, tm = "0"] = tz.slice(1).split(":");
      ms -= (tz[0] === "-" ? -1 : 1) * (Number(th) * 60 + Number(tm)) * 60_000;
    }
    return new Date(ms);
  },
  stringify: (node) => original(node as Scalar) ?? ((node as Scalar).value as Date).toISOString(),
};

/** `<<` (a merge key, expanded by expand.ts) and `=` (PyYAML's `value` tag, which safe_load cannot build). */
const mergeTag: ScalarTag = { identify: () => false, default: true, tag: "tag:yaml.org,2002:merge", test: /^<<$/, resolve: (s) => s };
const valueTag: ScalarTag = { identify: () => false, default: true, tag: "tag:yaml.org,2002:value", test: /^=$/, resolve: (s) => s };

const OURS = new Set(["tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:merge"]);

const BOOL_WORDS: Record<string, boolean> = { yes: true, no: false, true: true, false: false, on: true, off: false };

/** Explicitly tagged (`!!int '12'`): any text, converted as PyYAML's constructors do (or refused where they stop). */
const explicit: ScalarTag[] = [
  { ...boolTag, default: false, test: undefined, resolve: (s, onError) => resolved(s.toLowerCase() in BOOL_WORDS ? BOOL_WORDS[s.toLowerCase()] : new Error(`'${s}' is not a boolean PyYAML can read`), onError) },
  { ...nullTag, default: false, test: undefined },
  { ...intTag, default: false, test: undefined },
  { ...floatTag, default: false, test: undefined },
  { ...timestampTag, default: false, test: undefined, resolve: (s, onError, o) => (TIMESTAMP.test(s) ? timestampTag.resolve(s, onError, o) : resolved(new Error(`'${s}' is not a timestamp PyYAML can read`), onError)) },
];

/** The yaml-1.1 schema with PyYAML's scalar resolvers in place of the library's own. */
export function pyyamlTags(defaults: Tags): Tags {
  return [...defaults.filter((t) => typeof t !== "string" && !OURS.has(t.tag)), boolTag, nullTag, intTag, floatTag, timestampTag, mergeTag, valueTag, ...explicit];
}

/** Tags safe_load can build (anything else, such as `!!python/object` or `!foo`, stops PyYAML). */
export const SAFE_TAGS = new Set(["str", "int", "float", "bool", "null", "binary", "timestamp", "omap", "pairs", "set", "seq", "map"].map((t) => `tag:yaml.org,2002:${t}`));

/** Parse and document options: YAML 1.1 with PyYAML's scalars, duplicate keys allowed (the last wins). */
export const YAML_OPTIONS = { version: "1.1" as const, schema: "yaml-1.1", customTags: pyyamlTags, merge: false, keepSourceTokens: false, prettyErrors: false, uniqueKeys: false, intAsBigInt: false };
