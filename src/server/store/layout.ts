// Repo ids and the cache-layout folder names they live in:
//   ROOT/models/<owner>--<name>/...   ROOT/datasets/<owner>--<name>/...
// A folder name decodes to exactly one id (split at the first `--`, as both clients read their caches), and
// only that id reaches it: `acme--llama/7b` and `acme/llama--7b` would share the folder `acme--llama--7b`,
// so the first, which does not round-trip, names nothing.

import { repoTypeSegment, type RepoType } from "../../hub/types.js";

// One definition of the repo types for the client and the hub.
export { REPO_TYPES, type RepoType } from "../../hub/types.js";

declare const canonical: unique symbol;

/** A repo id in its one canonical spelling. Made only by `repoRef`, so holding one means it was checked. */
export interface RepoRef {
  readonly type: RepoType;
  /** `owner/name`. */
  readonly id: string;
  readonly owner: string;
  readonly name: string;
  /** `<owner>--<name>`, the folder under `typeFolder(type)`. */
  readonly folder: string;
  readonly [canonical]: true;
}

const SEGMENT = /^[A-Za-z0-9][\w.-]*$/;

/** `models` / `datasets`: the folder a repo type lives in (and its segment in the API's paths). */
export function typeFolder(type: RepoType): string {
  return repoTypeSegment(type);
}

/** The ref of `owner/name` when that is the canonical spelling of an id; undefined otherwise. */
export function repoRef(type: RepoType, owner: string, name: string): RepoRef | undefined {
  if (!SEGMENT.test(owner) || !SEGMENT.test(name) || owner.includes("--") || owner.endsWith("-")) return undefined;
  const folder = `${owner}--${name}`;
  return { type, id: `${owner}/${name}`, owner, name, folder } as RepoRef;
}

/** The ref of an `owner/name` string (hub.json keys, CLI arguments). */
export function parseRepoId(type: RepoType, id: string): RepoRef | undefined {
  const parts = id.split("/");
  return parts.length === 2 ? repoRef(type, parts[0]!, parts[1]!) : undefined;
}

/** The one id a folder name stands for, or undefined when the name is no repo folder. */
export function refOfFolder(type: RepoType, folder: string): RepoRef | undefined {
  const at = folder.indexOf("--");
  if (at <= 0) return undefined;
  const ref = repoRef(type, folder.slice(0, at), folder.slice(at + 2));
  return ref?.folder === folder ? ref : undefined;
}
