// The address a client reached the hub at, for every redirect and link the hub hands out: `--public-url`
// when set, else the Host the client asked for (else the local address its connection came in on). Never
// `localhost` for a client on another machine.
import type { Call } from "./context.js";

const HOST_HEADER = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The hub's base URL for this request, without a trailing slash (it may carry a path, behind a proxy). */
export function publicBase(call: Call): URL {
  if (call.hub.opts.publicUrl) return new URL(call.hub.opts.publicUrl);
  const host = call.req.headers.host ?? "";
  if (HOST_HEADER.test(host)) return new URL(`http://${host}`);
  const local = call.req.socket.localAddress ?? "127.0.0.1";
  const name = local.startsWith("::ffff:") ? local.slice(7) : local;
  return new URL(`http://${name.includes(":") ? `[${name}]` : name}:${call.req.socket.localPort ?? call.hub.port}`);
}

/**
 * The host name big files are redirected to. Like the real hub's object store it is another name than the
 * hub's, so clients drop their credentials on the way: `--cdn-host`, or on one machine `localhost` for a
 * hub reached at a loopback address; for other machines, with no second name known, the hub's own name.
 */
export function cdnHostName(call: Call, base: URL): string {
  return call.hub.opts.cdnHost ?? (isLoopbackAddress(base.hostname) ? "localhost" : base.hostname);
}

/** Whether a request came in on the CDN's own name: it is served there, not redirected again. */
export function isCdnName(call: Call, hostname: string): boolean {
  return hostname === (call.hub.opts.cdnHost ?? "localhost");
}

/** Whether hub credentials on a CDN request are a client's mistake: it came on a second name for the hub. */
export function refusesCredentials(call: Call, hostname: string): boolean {
  return isCdnName(call, hostname) || (!call.hub.opts.cdnHost && isLoopbackAddress(hostname));
}

function isLoopbackAddress(hostname: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === "[::1]";
}

/** The host name (no port) the client asked for. */
export function requestHostName(call: Call): string {
  const host = call.req.headers.host ?? "";
  return host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d+$/, "");
}

/** A URL on the hub's public address for a path of the hub (`/__cdn__/...`), optionally on another host name. */
export function publicUrlFor(base: URL, hubPath: string, hostName = base.hostname): string {
  const prefix = base.pathname.replace(/\/+$/, "");
  const port = base.port ? `:${base.port}` : "";
  return `${base.protocol}//${hostName}${port}${prefix}${hubPath}`;
}
