// The one place access is decided. Every route asks `mayAccess` with the ref of the repo it will actually
// serve (the store's canonical ref, never the client's spelling) and the rules of this request; anything
// not allowed here is refused, and a hub whose rules cannot be read refuses everything.
import type { AccessSnapshot } from "./config-watch.js";
import { rulesOf, type HubUser } from "./hub-config.js";
import type { RepoRef } from "./store/layout.js";

/** see: info, listing, revisions; download: file bytes; write: uploads and changes. */
export type AccessAction = "see" | "download" | "write";

export type AccessVerdict = { ok: true } | { ok: false; status: 401 | 403 | 404 | 503 };

const OK: AccessVerdict = { ok: true };

export function mayAccess(rules: AccessSnapshot, caller: HubUser | undefined, repo: RepoRef, action: AccessAction): AccessVerdict {
  if (rules.locked) return { ok: false, status: 503 };
  const { private: hidden, gated } = rulesOf(rules.config, repo.type);
  const isMember = (list: string[]) => !!caller && list.includes(caller.username);
  // Private repos are invisible (404) to anyone not listed, as on the real hub, whatever the action.
  const privateTo = Object.hasOwn(hidden, repo.id) ? hidden[repo.id]! : undefined;
  if (privateTo && !isMember(privateTo)) return { ok: false, status: 404 };
  if (action === "see") return OK;
  if (action === "write") {
    if (!caller) return { ok: false, status: 401 };
    return mayCreate(rules, caller, repo.owner) ? OK : { ok: false, status: 403 };
  }
  const gatedTo = Object.hasOwn(gated, repo.id) ? gated[repo.id]! : undefined;
  if (gatedTo && !isMember(gatedTo)) return { ok: false, status: caller ? 403 : 401 };
  return OK;
}

/** Whether the caller may create (and so write) repos under `owner`: it is them, or an organisation listing them. */
export function mayCreate(rules: AccessSnapshot, caller: HubUser | undefined, owner: string): boolean {
  if (rules.locked || !caller) return false;
  if (caller.username === owner) return true;
  const orgs = rules.config.organizations;
  return Object.hasOwn(orgs, owner) && orgs[owner]!.includes(caller.username);
}

/** Whether the repo is private / gated (for the info a member sees). */
export function visibilityOf(rules: AccessSnapshot, repo: RepoRef): { isPrivate: boolean; gated: boolean } {
  const r = rulesOf(rules.config, repo.type);
  return { isPrivate: Object.hasOwn(r.private, repo.id), gated: Object.hasOwn(r.gated, repo.id) };
}
