// A route: a method, a path pattern whose groups are the (percent-decoded) path parts, and its handler.
import type { Call } from "../context.js";

export interface Route {
  method: "GET" | "HEAD" | "POST" | "PUT" | "DELETE";
  path: RegExp;
  handle(call: Call): Promise<void> | void;
}

/** `owner/name` in a path: two segments, decoded by the router. */
export const REPO_ID = "([^/]+)/([^/]+)";

/** The same handler for GET and HEAD. */
export function getAndHead(path: RegExp, handle: Route["handle"]): Route[] {
  return [
    { method: "GET", path, handle },
    { method: "HEAD", path, handle },
  ];
}
