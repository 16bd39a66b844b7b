// Conformance: the same inputs through our loader and through omniconfig 0.1.10's loading rules run on
// the real PyYAML and toml packages (Debian's python3-yaml and python3-toml; omniconfig itself is not
// installable here, so its file-loading part is re-stated below from its source). Either both give the
// same merged values, with the same types, or omniconfig stops and we refuse with a ConfigError.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { Document, isMap, isScalar, isSeq } from "yaml";
import { loadConfig } from "../src/config/index.js";
import { YAML_OPTIONS } from "../src/config/yaml11.js";
import { ConfigError } from "../src/errors.js";
import { tempDir } from "./helpers/hub.js";

const PYTHON = "/usr/bin/python3";

/** omniconfig's file loading (ConfigParser._parse_args up to its arguments), with the real PyYAML and toml. */
const REFERENCE = String.raw`# omniconfig 0.1.10's file loading (ConfigParser._parse_args, the part before its arguments), re-stated
# from its source with the real PyYAML and toml packages. Prints the merged dict, type-tagged, as JSON.
import datetime, json, os, sys
import toml, yaml

EXTS = ("yaml", "yml", "toml")

def load(path):
    if path.endswith(".toml"):
        with open(path, "r", encoding="utf-8") as f:
            return toml.load(f)
    with open(path, "r", encoding="utf-8") as f:
        return yaml.safe_load(f)

def update_dict(d, u):
    if len(d) == 0:
        return u
    for k, v in u.items():
        if isinstance(v, dict):
            d[k] = update_dict(d.get(k, {}), v)
        else:
            d[k] = v
    return d

def files(args):
    imports, configs = [], []
    for p in args:
        (configs if p.endswith(EXTS) else imports).append(p)
    imported = []
    for ip in imports:
        assert os.path.isfile(ip)
        with open(ip, "r") as f:
            for line in f.readlines():
                line = line.strip()
                assert os.path.isfile(line)
                assert line.endswith(EXTS)
                imported.append(line)
    configs = imported + configs
    assert configs
    defaults = []
    for p in configs:
        assert os.path.isfile(p) and p.endswith(EXTS)
        rel = os.path.relpath(p, os.getcwd())
        assert not rel.startswith("..")
        parts = rel.split(os.sep)
        assert len(parts) > 1
        d = ""
        for name in parts[:-1]:
            d = os.path.join(d, name)
            for ext in EXTS:
                dp = os.path.join(d, f"__default__.{ext}")
                if os.path.isfile(dp) and dp not in defaults:
                    defaults.append(dp)
                    break
    return defaults, configs

def enc(v):
    if isinstance(v, bool): return {"bool": v}
    if isinstance(v, int): return {"int": str(v)}
    if isinstance(v, float): return {"float": repr(v)}
    if isinstance(v, str): return {"str": v}
    if v is None: return None
    if isinstance(v, bytes): return {"bytes": v.hex()}
    if isinstance(v, datetime.datetime): return {"ts": v.isoformat()}
    if isinstance(v, datetime.date): return {"ts": v.isoformat()}
    if isinstance(v, dict): return {"map": [[enc(k), enc(x)] for k, x in v.items()]}
    if isinstance(v, (list, tuple)): return {"seq": [enc(x) for x in v]}
    return {"other": repr(v)}

try:
    defaults, configs = files(json.loads(sys.stdin.read()))
    loaded = {}
    for p in defaults + configs:
        loaded = update_dict(loaded, load(p))
    # what omniconfig's next step stops on: a top level that is not a mapping, a None config section
    assert isinstance(loaded, dict)
    for section in ("model", "pipeline"):
        assert loaded.get(section, {}) is not None
    print(json.dumps({"ok": enc(loaded)}))
except Exception as e:  # omniconfig stops here: an assertion, a TypeError, a parse error
    print(json.dumps({"error": type(e).__name__}))
`;

type Enc = null | { bool: boolean } | { int: string } | { float: string } | { str: string } | { bytes: string } | { ts: string } | { map: [Enc, Enc][] } | { seq: Enc[] } | { other: string };

function python(cwd: string, args: string[]): { ok?: Enc; error?: string } {
  const r = spawnSync(PYTHON, ["-c", REFERENCE], { cwd, input: JSON.stringify(args), encoding: "utf8" });
  assert.equal(r.status, 0, `the reference needs python3-yaml and python3-toml (.ci/run installs them): ${r.stderr}`);
  return JSON.parse(r.stdout) as { ok?: Enc; error?: string };
}

/** Our merged document, type-tagged like the reference (a float is a scalar the float tag read). */
function encode(node: unknown): Enc {
  if (isMap(node)) return { map: node.items.map((p) => [encode(p.key), encode(p.value)]) };
  if (isSeq(node)) return { seq: node.items.map(encode) };
  if (!isScalar(node)) throw new Error(`unexpected node ${String(node)}`);
  const v = node.value;
  if (v === null) return null;
  if (typeof v === "boolean") return { bool: v };
  if (typeof v === "bigint") return { int: String(v) };
  if (typeof v === "number") return node.format === "FLOAT" || !Number.isInteger(v) ? { float: String(v) } : { int: String(v) };
  if (typeof v === "string") return { str: v };
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString("hex") };
  if (v instanceof Date) return { ts: v.toISOString() };
  throw new Error(`unexpected value ${String(v)}`);
}

/** Python's float repr and ours compared as numbers (inf, nan included); everything else exactly. */
function normalize(e: Enc): unknown {
  if (e === null || typeof e !== "object") return e;
  if ("float" in e) {
    const py = e.float.replace(/^(-?)inf$/, "$1Infinity").replace(/^nan$/, "NaN");
    return { float: String(Number(py)) };
  }
  if ("ts" in e) return { ts: new Date(e.ts.length === 10 ? `${e.ts}T00:00:00Z` : e.ts).toISOString() };
  if ("map" in e) return { map: e.map.map(([k, v]) => [normalize(k), normalize(v)]) };
  if ("seq" in e) return { seq: e.seq.map(normalize) };
  return e;
}

function tree(files: Record<string, string>): string {
  const cwd = tempDir("dc-conf-");
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(cwd, rel)), { recursive: true });
    fs.writeFileSync(path.join(cwd, rel), text);
  }
  return cwd;
}

/** Runs both; returns what each did. */
function both(files: Record<string, string>, args: string[]) {
  const cwd = tree(files);
  const ref = python(cwd, args);
  let ours: { ok?: unknown; error?: string };
  try {
    ours = { ok: normalize(encode(loadConfig(args, [], { cwd }).document.contents)) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    ours = { error: err.message };
  }
  const refOut: { ok?: unknown; error?: string } = ref.ok !== undefined ? { ok: normalize(ref.ok) } : ref;
  return { ref: refOut, ours };
}

function assertSame(files: Record<string, string>, args: string[], what: string) {
  const { ref, ours } = both(files, args);
  assert.ok(ref.ok !== undefined, `${what}: omniconfig + PyYAML read it (${ref.error})`);
  assert.equal(ours.error, undefined, `${what}: we read it too`);
  assert.deepEqual(ours.ok, ref.ok, what);
}

function assertBothRefuse(files: Record<string, string>, args: string[], what: string, ourMessage: RegExp) {
  const { ref, ours } = both(files, args);
  assert.ok(ref.error, `${what}: omniconfig stops on it`);
  assert.ok(ours.error, `${what}: we refuse it`);
  assert.match(ours.error, ourMessage, what);
}

/** Plain scalars and their PyYAML readings (the values are checked against real PyYAML, not written here). */
const SCALARS = [
  "y", "n", "Y", "N", "yes", "No", "NO", "on", "Off", "true", "False", "TRUE", "~", "null", "Null", "NULL", "",
  "1e3", "1.0e-5", "1.0e5", "3.0e+10", "1.0E+3", "1.", ".5", "-.5", "+1.5", "1_000.5", ".inf", "-.Inf", "+.INF", ".nan", ".NaN",
  "0", "-0", "+7", "010", "0o17", "09", "0x1F", "0b101", "-0x_1f", "1_000", "1:20", "-1:30", "1:30.5", "190:20:30",
  "9007199254740993", "-123456789012345678901234567890", "2001-12-14", "1.2.3", "0.0.0.0", "1e", "0x", "abc", "=a", "<<a",
];

describe("conformance with omniconfig + PyYAML", () => {
  test("plain scalars, as values and as keys, read as PyYAML reads them", () => {
    const value = SCALARS.map((s, i) => `v${i}: ${s}`).join("\n");
    assertSame({ "configs/values.yaml": `${value}\n` }, ["configs/values.yaml"], "values");
    const keys = SCALARS.filter((s) => s && !s.startsWith("- ")).map((s, i) => `${s}: ${i}`).join("\n");
    assertSame({ "configs/keys.yaml": `${keys}\n` }, ["configs/keys.yaml"], "keys (y and n stay text)");
    assertSame({ "configs/flow.yaml": `l: [${SCALARS.filter((s) => s && !/^[-=<]/.test(s)).join(", ")}]\n` }, ["configs/flow.yaml"], "in a flow list");
  });

  test("text we write (overrides, local folders) reads back in PyYAML as the same text, quoted only where needed", () => {
    const texts = [...SCALARS, "- a", "# x", "a: b", "ms", "/abs/path", "~/x", "007", "1.0", "null", "<<", "="];
    const doc = new Document(Object.fromEntries(texts.map((t, i) => [`k${i}`, t])), YAML_OPTIONS);
    const cwd = tree({ "configs/w.yaml": doc.toString() });
    const ref = python(cwd, ["configs/w.yaml"]);
    assert.deepEqual(ref.ok, { map: texts.map((t, i) => [{ str: `k${i}` }, { str: t }]) });
    const plain = doc.toString().split("\n").filter((l) => /^k\d+: [^'"]/.test(l)).length;
    assert.ok(plain > 10, "text PyYAML reads as text anyway (y, n, 1e3, 09, ...) stays unquoted");
  });

  test("quoted, block and tagged scalars; duplicate keys (the last wins); aliases and << merge keys", () => {
    const text = [
      "q: '1:20'",
      'dq: "y\\x41\\u00e9"',
      "blk: |",
      "  line one",
      "  line two",
      "fold: >-",
      "  a",
      "  b",
      "t1: !!str 12",
      "t2: !!float '3'",
      "t3: !!binary aGVsbG8=",
      "dup: 1",
      "nest:",
      "  a: 1",
      "  a: 2",
      "dup: 2",
      "base: &b {x: 1, y: [1, 2], z: {k: v}}",
      "other: &o {x: 9, w: 8}",
      "m1:",
      "  <<: *b",
      "  x: 3",
      "m2:",
      "  <<: [*o, *b]",
      "  u: 0",
      "ref: *b",
      "lst: &l [a, b]",
      "lst2: *l",
      "1: int key",
      "'1': str key",
      "t4: !!int '0x1F'",
      "",
    ].join("\n");
    assertSame({ "configs/c.yaml": text }, ["configs/c.yaml"], "one file");
  });

  test("the cascade: __default__.yaml|.yml|.toml per folder, TOML configs, import lists, later wins", () => {
    const files = {
      "__default__.yaml": "cwd: never read\n",
      "configs/__default__.yml": "model:\n  dtype: torch.float16\n  fast_tokenizer: true\nquant:\n  w: 4\n  l: [1, 2]\n",
      "configs/__default__.toml": "ignored = true\n",
      "configs/llm/__default__.toml": "[model]\ndtype = 'torch.bfloat16'\nlr = 1e-5\nbig = 12345678901234567890\n[quant]\nw = 8.0\n",
      "configs/llm/a.yaml": "model:\n  name: qwen-7b\n  path: acme/a\nquant:\n  l: [9]\n",
      "configs/llm/b.toml": "[model]\npath = 'acme/b'\nwhen = 1979-05-27\n",
      "configs/other/c.yml": "quant: {extra: y}\n",
      "lists/run.txt": "configs/other/c.yml\nconfigs/llm/b.toml\n",
    };
    assertSame(files, ["configs/llm/a.yaml", "configs/llm/b.toml"], "defaults then configs");
    assertSame(files, ["configs/llm/a.yaml", "lists/run.txt"], "an import list goes before the positional configs");
    assertSame({ ...files, "configs/llm/a.yaml": "quant:\n  l: ''\n", "configs/llm/z.yaml": "quant:\n  l: {a: 1}\n" }, ["configs/llm/a.yaml", "configs/llm/z.yaml"], "a mapping over an empty value replaces it");
  });

  test("inputs omniconfig stops on are refused with one line each", () => {
    const ok = "model:\n  name: qwen-7b\n";
    assertBothRefuse({ "configs/a.yaml": "" }, ["configs/a.yaml"], "an empty config", /is empty/);
    assertBothRefuse({ "configs/a.yaml": "# only a comment\n" }, ["configs/a.yaml"], "a comment-only config", /is empty/);
    assertBothRefuse({ "configs/__default__.yaml": "# nothing\n", "configs/a.yaml": ok }, ["configs/a.yaml"], "an empty __default__.yaml", /configs.__default__\.yaml: is empty/);
    assertBothRefuse({ "configs/a.yaml": ok, "l.txt": "configs/a.yaml\n\n" }, ["l.txt"], "a blank line in an import list", /l\.txt:2:1: a blank line/);
    assertBothRefuse({ "configs/a.yaml": ok, "l.txt": "# runs\nconfigs/a.yaml\n" }, ["l.txt"], "a comment in an import list", /l\.txt:1:1: an import list has no comments/);
    assertBothRefuse({ "configs/a.yaml": ok, "configs/l.txt": "a.yaml\n" }, ["configs/l.txt"], "an import-list entry relative to the list", /write 'configs.a\.yaml'/);
    assertBothRefuse({ "configs/A.YAML": ok }, ["configs/A.YAML"], "an upper-case .YAML", /upper-case extension.*rename it to A\.yaml/);
    assertBothRefuse({ "a.yaml": ok }, ["a.yaml"], "a config directly in the working folder", /directly in the working folder/);
    assertBothRefuse({ "configs/a.yaml": "model:\n" }, ["configs/a.yaml"], "model: null", /model: is empty \(null\)/);
    assertBothRefuse({ "configs/__default__.yaml": "model:\n  name: qwen-7b\n", "configs/a.yaml": "model: ~\n" }, ["configs/a.yaml"], "model: null over a default", /model: is empty \(null\)/);
    assertBothRefuse({ "configs/__default__.yaml": "quant: 4\n", "configs/a.yaml": "quant:\n  w: 4\n" }, ["configs/a.yaml"], "a mapping over a number", /quant: is a mapping here but not in configs.__default__\.yaml \(line 1\)/);
    assertBothRefuse({ "configs/a.yaml": "quant: [1]\n", "configs/b.yaml": "quant: {w: 1}\n" }, ["configs/a.yaml", "configs/b.yaml"], "a mapping over a list", /is a mapping here/);
    assertBothRefuse({ "configs/a.yaml": "x: !!python/object:os.system {}\n" }, ["configs/a.yaml"], "a Python tag", /not one PyYAML's safe_load reads/);
    assertBothRefuse({ "configs/a.yaml": "x: =\n" }, ["configs/a.yaml"], "a plain = value", /put it in quotes/);
    assertBothRefuse({ "configs/a.yaml": "x: 0b_\n" }, ["configs/a.yaml"], "0b_", /not a number PyYAML can read/);
    assertBothRefuse({ "configs/a.yaml": "x: !!int abc\n" }, ["configs/a.yaml"], "!!int abc", /not a number PyYAML can read/);
    assertBothRefuse({ "configs/a.yaml": "x: <<\n" }, ["configs/a.yaml"], "a plain << value", /put it in quotes/);
    assertBothRefuse({ "configs/a.yaml": "x:\n  <<: 1\n" }, ["configs/a.yaml"], "<< over a number", /merge key \(<<\) needs a mapping/);
    assertBothRefuse({ "configs/a.yaml": "? [1]\n: 2\n" }, ["configs/a.yaml"], "a list as a key", /a key must be a plain value/);
    assertBothRefuse({ "configs/a.toml": "x = \n" }, ["configs/a.toml"], "a TOML syntax error", /TOML syntax error/);
  });

  test("outside the working folder is refused (omniconfig asserts)", () => {
    const elsewhere = tree({ "configs/a.yaml": "model:\n  name: qwen-7b\n" });
    const cwd = tempDir("dc-conf-");
    assert.ok(python(cwd, [path.join(elsewhere, "configs/a.yaml")]).error);
    assert.throws(() => loadConfig([path.join(elsewhere, "configs/a.yaml")], [], { cwd }), /outside the working folder/);
  });
});
