// The shapes of a loaded DeepCompressor config and of its resolved model sources.
import type { Document } from "yaml";
import type { ConfigProblem } from "../errors.js";
import type { HubApi } from "../hub/api.js";
import type { ProgressEvent } from "../download/types.js";

/** The two sections that name a model source: `model:` (LLMs) and `pipeline:` (diffusion). */
export type SectionName = "model" | "pipeline";
export const SECTION_NAMES: readonly SectionName[] = ["model", "pipeline"];

/** Where a key came from: a file position, or the command line. */
export interface KeyOrigin {
  file: string;
  line?: number | undefined;
  column?: number | undefined;
}

/** One `--model-path X`-style override: section, key (snake_case) and value. */
export interface ConfigOverride {
  section: SectionName;
  key: string;
  value: unknown;
  /** The flag as the user wrote it, for messages. */
  flag: string;
  /** The value as written on the command line (handed to Python unchanged). */
  text?: string | undefined;
}

/** The keys this toolkit reads in a section; every other key is kept untouched. */
export interface ModelSourceSection {
  name?: string | undefined;
  path?: string | null | undefined;
  use_modelscope?: boolean | undefined;
  modelscope_cache_dir?: string | null | undefined;
  revision?: string | undefined;
  [key: string]: unknown;
}

export interface LoadedConfig {
  /** Configs as given (after import lists), in merge order. */
  configFiles: string[];
  /** `__default__.yaml` files found by the cascade, in merge order (all merged before `configFiles`). */
  defaultFiles: string[];
  /** The merged config as plain data. */
  data: Record<string, unknown>;
  /** The merged config as a YAML document: comments, key order and every key's origin are kept. */
  document: Document;
  /** Overrides applied after every file. */
  overrides: ConfigOverride[];
  /** Where a key (by path, e.g. ["model", "path"]) was set: its file, line and column. */
  locate(keyPath: readonly (string | number)[]): KeyOrigin | undefined;
  /** Working folder the config was loaded from (relative paths in it are relative to this). */
  cwd: string;
  /** What the Python tool would ignore or warn about (unknown keys, a model name it cannot read): exit 0, errors under `--strict`. */
  warnings: ConfigProblem[];
}

export interface LoadOptions {
  /** Working folder (default process.cwd()): the cascade starts below it and relative paths resolve against it. */
  cwd?: string | undefined;
  /** Environment for `~` expansion (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
  /** What the Python tool only warns about (unknown keys, no model name) is an error too. */
  strict?: boolean | undefined;
}

/** How a section's `path` was turned into a local folder. */
export type SourceKind =
  /** fetched (or to be fetched) from ModelScope */
  | "modelscope"
  /** an existing local folder, used as is */
  | "local"
  /** `use_modelscope: false`, or nothing for us to do: left exactly as written */
  | "untouched";

export interface ResolvedSection {
  section: SectionName;
  kind: SourceKind;
  /** Why this kind: `use_modelscope: true`, auto-detected from path or name, `use_modelscope: false`, ... */
  reason: string;
  /** The ModelScope ID (kind "modelscope"). */
  modelId?: string | undefined;
  revision?: string | undefined;
  /** The value of `path` as written (after overrides), if any. */
  originalPath?: string | null | undefined;
  /** The local folder (kinds "modelscope" and "local"). */
  localPath?: string | undefined;
  /** Cache root used (kind "modelscope"). */
  cacheDir?: string | undefined;
  /** Files of the snapshot and whether each was downloaded, cached or planned (kind "modelscope"). */
  files?: { path: string; size: number; status: string }[] | undefined;
}

export interface ResolveOptions {
  /** No network: use the cache or fail naming what is missing. */
  offline?: boolean | undefined;
  /** Say what would be downloaded; write nothing. */
  dryRun?: boolean | undefined;
  /** Only these sections (default both). */
  sections?: readonly SectionName[] | undefined;
  /** Hub to use (endpoint and token chain); default `new HubApi()`. */
  api?: HubApi | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((section: SectionName, event: ProgressEvent) => void) | undefined;
  /** Called before a section is fetched from ModelScope. */
  onResolve?: ((section: ResolvedSection) => void) | undefined;
  /** Environment for `~` and the default cache (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
}

export type { ConfigProblem };
