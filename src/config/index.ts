// DeepCompressor YAML configs: load (cascade, merge, overrides, checks), resolve, write resolved.
export { loadConfig } from "./load.js";
export { resolveModels } from "./resolve.js";
export { outputPlacementWarnings, renderResolved, writeResolved } from "./write-resolved.js";
export { extractOverrides, overrideToArgs } from "./overrides.js";
export { classifyAll } from "./classify.js";
export { isModelId } from "../errors.js";
export { containsToken, isSecretKey, looksLikeToken } from "./secrets.js";
export { SECTION_NAMES } from "./types.js";
export type * from "./types.js";
