// The storage layer of the hub: where repos, revisions and file bytes live (the cache-layout root).
export { HubStore, isServable, type StoredFile, type StoredRepo } from "./repo-store.js";
export { REPO_TYPES, parseRepoId, refOfFolder, repoRef, typeFolder, type RepoRef, type RepoType } from "./layout.js";
export { Contained, walkContained } from "./contained.js";
