// Override flags, read as the Python DeepCompressor's omniconfig (argparse) reads them: `--model-path X`,
// `--pipeline-path X`, `--model-<key> VALUE` for every key the Python config has (see fields.ts), and
// `--flag=VALUE`. A boolean (`--model-use-modelscope`, `--model-fast-tokenizer`) takes an optional `true`
// or `false` (alone: true); there are no `--no-...` flags. String values are kept exactly as written
// (`--model-family 007` stays "007"). Unknown flags are refused with the list of valid ones.
import { UsageError } from "../errors.js";
import { FIELDS, didYouMean, flagOf, flagsOf } from "./fields.js";
import type { ConfigOverride, SectionName } from "./types.js";
import { SECTION_NAMES } from "./types.js";

/** argparse's test for an argument that is a negative number rather than an option. */
const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/;
const PY_FLOAT = /^\s*[-+]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][-+]?\d(?:_?\d)*)?|\d(?:_?\d)*\.|inf(?:inity)?|nan)\s*$/i;

function sectionOf(flagBody: string): SectionName | undefined {
  return SECTION_NAMES.find((s) => flagBody.startsWith(`${s}-`) && flagBody.length > s.length + 1);
}

/** Whether an argument is an override flag we take out of the argument list. */
export function isOverrideFlag(arg: string): boolean {
  if (!arg.startsWith("--")) return false;
  const body = arg.slice(2).split("=")[0]!;
  return sectionOf(body.startsWith("no-") ? body.slice(3) : body) !== undefined;
}

function looksLikeOption(arg: string | undefined): boolean {
  return arg !== undefined && arg.startsWith("-") && arg.length > 1 && !NEGATIVE_NUMBER.test(arg);
}

/** The valid flags of a section, for messages. */
export function validFlags(section: SectionName): string {
  return [...flagsOf(section).keys()].join(", ");
}

export function unknownFlagError(flag: string, section: SectionName, why = "is not a flag of the Python DeepCompressor"): UsageError {
  const near = didYouMean(flag, flagsOf(section).keys());
  const hint = near ? `did you mean ${near}? ` : "";
  return new UsageError(`${flag} ${why}`, `${hint}valid flags for ${section}: ${validFlags(section)}`, { key: "dcUnknownFlag", vars: { flag, hint, section, flags: validFlags(section) } });
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
    if (flag.startsWith("--no-")) {
      const positive = `--${flag.slice(5)}`;
      throw new UsageError(`${flag}: the Python DeepCompressor has no --no- flags`, `write ${positive} false`, { key: "dcNoNegation", vars: { flag, positive } });
    }
    const section = sectionOf(flag.slice(2))!;
    const key = flagsOf(section).get(flag);
    if (!key) throw unknownFlagError(flag, section);
    const type = FIELDS[section][key]!;
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (type === "bool") {
      // argparse's nargs="?": the next argument is taken as the value unless it looks like an option.
      let raw = inline;
      if (raw === undefined && args[i + 1] !== undefined && args[i + 1] !== "--" && !looksLikeOption(args[i + 1])) raw = args[++i];
      if (raw !== undefined && raw !== "true" && raw !== "false") {
        throw new UsageError(`${flag} takes true or false, not '${raw}'`, `write ${flag} true, ${flag} false, or ${flag} alone (true); put config files before it or after its value`, { key: "flagTakesBool", vars: { flag, raw } });
      }
      overrides.push({ section, key, value: raw !== "false", flag, text: raw });
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = args[i + 1];
      if (next === undefined || next === "--" || looksLikeOption(next)) throw new UsageError(`${flag} needs a value`, `for example: ${flag} VALUE (or ${flag}=VALUE for a value that starts with -)`, { key: "flagNeedsValue", vars: { flag } });
      raw = next;
      i++;
    }
    if (type === "float") {
      if (!PY_FLOAT.test(raw)) throw new UsageError(`${flag} takes a number, not '${raw}'`, `for example: ${flag} 1.0`, { key: "flagTakesNumber", vars: { flag, raw } });
      overrides.push({ section, key, value: Number(raw.trim().replace(/_/g, "").replace(/^([-+]?)inf(inity)?$/i, "$1Infinity")), flag, text: raw });
      continue;
    }
    overrides.push({ section, key, value: raw, flag, text: raw });
  }
  return { overrides, rest };
}

/** Turns an override back into the flag and value omniconfig reads (booleans as `--flag true|false`). */
export function overrideToArgs(o: ConfigOverride): string[] {
  const flag = flagOf(o.section, o.key);
  if (typeof o.value === "boolean") return [flag, String(o.value)];
  return [flag, o.text ?? String(o.value)];
}
