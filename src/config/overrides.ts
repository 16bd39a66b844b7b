// Kebab-case override flags, as the Python DeepCompressor (omniconfig) names them: `--model-path X`,
// `--pipeline-path X`, `--model-name X`, `--model-use-modelscope [true|false]` (alone: true),
// `--no-model-use-modelscope`, `--model-modelscope-cache-dir D`, `--model-revision R`, and
// `--<section>-<key> VALUE` for any other key of the section. `--flag=value` works too.
import { parse as parseYamlScalar } from "yaml";
import { UsageError } from "../errors.js";
import type { ConfigOverride, SectionName } from "./types.js";
import { SECTION_NAMES } from "./types.js";

const BOOL_KEYS = new Set(["use_modelscope"]);
const BOOL_WORDS = /^(true|false|yes|no|on|off|1|0)$/i;

function sectionOf(flagBody: string): { section: SectionName; rest: string } | undefined {
  for (const s of SECTION_NAMES) {
    if (flagBody.startsWith(`${s}-`) && flagBody.length > s.length + 1) return { section: s, rest: flagBody.slice(s.length + 1) };
  }
  return undefined;
}

/** Whether an argument is an override flag we take out of the argument list. */
export function isOverrideFlag(arg: string): boolean {
  if (!arg.startsWith("--")) return false;
  const body = arg.slice(2).split("=")[0]!;
  return sectionOf(body.startsWith("no-") ? body.slice(3) : body) !== undefined;
}

function toBool(flag: string, raw: string): boolean {
  if (/^(true|yes|on|1)$/i.test(raw)) return true;
  if (/^(false|no|off|0)$/i.test(raw)) return false;
  throw new UsageError(`${flag} takes true or false`, undefined, { key: "flagTakesBool", vars: { flag } });
}

/** A value from the command line, typed the way YAML would read it (strings stay strings for paths). */
function typedValue(key: string, raw: string): unknown {
  if (["path", "name", "revision", "modelscope_cache_dir"].includes(key)) return raw;
  try {
    return parseYamlScalar(raw, { version: "1.1" }) as unknown;
  } catch {
    return raw;
  }
}

/**
 * Takes the override flags out of `args` (stopping at `--`). Returns the overrides in order and the
 * remaining arguments with the flags and their values removed.
 */
export function extractOverrides(args: readonly string[]): { overrides: ConfigOverride[]; rest: string[] } {
  const overrides: ConfigOverride[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      rest.push(...args.slice(i));
      break;
    }
    if (!isOverrideFlag(arg)) {
      rest.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    let body = flag.slice(2);
    const negated = body.startsWith("no-");
    if (negated) body = body.slice(3);
    const { section, rest: kebab } = sectionOf(body)!;
    const key = kebab.replace(/-/g, "_");
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (BOOL_KEYS.has(key)) {
      let value: boolean;
      if (negated) {
        if (inline !== undefined) throw new UsageError(`${flag} takes no value`, undefined, { key: "flagTakesNoValue", vars: { flag } });
        value = false;
      } else if (inline !== undefined) {
        value = toBool(flag, inline);
      } else if (args[i + 1] !== undefined && BOOL_WORDS.test(args[i + 1]!)) {
        value = toBool(flag, args[++i]!);
      } else {
        value = true;
      }
      overrides.push({ section, key, value, flag });
      continue;
    }
    if (negated) {
      overrides.push({ section, key, value: false, flag });
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith("--") && next.length > 2)) throw new UsageError(`${flag} needs a value`, `for example: ${flag} VALUE`, { key: "flagNeedsValue", vars: { flag } });
      raw = next;
      i++;
    }
    overrides.push({ section, key, value: typedValue(key, raw), flag });
  }
  return { overrides, rest };
}

/** Turns overrides back into flags (for handing them to the Python tool). */
export function overrideToArgs(o: ConfigOverride): string[] {
  const flag = `--${o.section}-${o.key.replace(/_/g, "-")}`;
  if (typeof o.value === "boolean") return o.value ? [flag] : [`--no-${flag.slice(2)}`];
  return [flag, String(o.value)];
}
