// The public library API.
export { HubApi, type HubApiOptions, type LogoutResult, type ListFilesOptions } from "./hub/api.js";
export type { UserInfo, ModelInfo, RepoFile, Revisions, RevisionRef, RepoType } from "./hub/types.js";
export { maskToken, resolveToken, type ResolvedToken, type TokenSource } from "./auth/index.js";
export { readAccounts, switchAccount, type Account, type AccountStore } from "./auth/index.js";
export * from "./errors.js";
export { snapshotDownload, downloadFile, downloadFiles } from "./download/index.js";
export { scanCache, removeFromCache, verifyCache, pruneCache, type CachedModel, type CachedRevision, type VerifyReport, type PruneReport } from "./download/cache-manage.js";
export type * from "./download/types.js";
export { startHubServer, addUser, type HubServerOptions, type RunningHub } from "./server/index.js";
export { resolveEndpoint, modelscopeHome, cacheRoot, DEFAULT_ENDPOINT } from "./settings.js";
export { VERSION } from "./version.js";
export { loadConfig, resolveModels, renderResolved, writeResolved, extractOverrides } from "./config/index.js";
export type { LoadedConfig, LoadOptions, ConfigOverride, ResolvedSection, ResolveOptions, SectionName, SourceKind, KeyOrigin, ModelSourceSection } from "./config/index.js";
export { createRepo, uploadFile, uploadFolder, createTag, deleteFiles, type DeleteFilesResult } from "./upload/index.js";
export type * from "./upload/types.js";
