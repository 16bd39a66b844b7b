// What the hub tells us, in our own shapes (camelCase, validated). The wire shapes stay in hub/api.ts.

export interface UserInfo {
  id?: string | number | undefined;
  username?: string | undefined;
  email?: string | undefined;
  avatarUrl?: string | undefined;
  description?: string | undefined;
}

export interface ModelInfo {
  /** `owner/name` */
  id: string;
  owner: string;
  name: string;
  private: boolean;
  license?: string | undefined;
  downloads?: number | undefined;
  description?: string | undefined;
  /** The hub's own answer, for fields we do not map. */
  raw: Record<string, unknown>;
}

export interface RevisionRef {
  name: string;
  /** Epoch seconds, when the hub says. */
  createdAt?: number | undefined;
}

export interface Revisions {
  branches: RevisionRef[];
  /** Newest first, as the hub orders them. */
  tags: RevisionRef[];
}

export interface RepoFile {
  /** Repo-relative, `/`-separated, checked safe. */
  path: string;
  name: string;
  size: number;
  /** Lowercase hex, or null when the hub has none for this file. */
  sha256: string | null;
  /** Commit id of the file's last change, when the hub says. */
  revision?: string | undefined;
  isLfs: boolean;
}

/** What kind of repository: the hub's `models` or `datasets` (the official client's two download types). */
export type RepoType = "model" | "dataset";

export const REPO_TYPES: readonly RepoType[] = ["model", "dataset"];

/** The hub's URL segment and the cache folder for a repo type: `models` / `datasets`. */
export function repoTypeSegment(type: RepoType | undefined): "models" | "datasets" {
  return type === "dataset" ? "datasets" : "models";
}
