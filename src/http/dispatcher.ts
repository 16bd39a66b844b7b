// The undici dispatcher every request uses: connection pooling, connect/read timeouts,
// and HTTPS_PROXY / HTTP_PROXY / NO_PROXY (undici's EnvHttpProxyAgent reads them, upper or lower case).
// Plain-http targets go to the proxy as absolute-form requests, as curl and Python requests send them
// (many proxies refuse CONNECT to ports other than 443); https targets use a CONNECT tunnel.
// undici is loaded on the first request, not at start-up: `--help`, `cache ls` and the like never need it.
// Only the parts we use are loaded (its index loads everything: fetch, WebSocket, caches, mocks).
import type { Dispatcher, EnvHttpProxyAgent } from "undici";

let loading: Promise<typeof EnvHttpProxyAgent> | undefined;

/**
 * undici's dispatchers and request API from their own modules, joined as its index joins them: ~50 ms
 * to load here against ~105 for the index, on the main thread before a download's first small file
 * (measured with `--no-opt`, as downloads run). The index if those paths ever move.
 */
function proxyAgentClass(): Promise<typeof EnvHttpProxyAgent> {
  return (loading ??= Promise.all([
    import("undici/lib/api/index.js" as string) as Promise<{ default: object }>,
    import("undici/lib/dispatcher/dispatcher.js" as string) as Promise<{ default: { prototype: object } }>,
    import("undici/lib/dispatcher/env-http-proxy-agent.js" as string) as Promise<{ default: typeof EnvHttpProxyAgent }>,
  ]).then(
    ([api, dispatcher, agent]) => {
      // What the index does: request, connect (a proxy's CONNECT tunnel), stream... on every dispatcher.
      Object.assign(dispatcher.default.prototype, api.default);
      return agent.default;
    },
    async () => (await import("undici")).EnvHttpProxyAgent,
  ));
}

const cache = new Map<string, Dispatcher>();

export interface DispatcherTimeouts {
  connectTimeoutMs: number;
  /** No response headers, or no body bytes, for this long fails the request. */
  readTimeoutMs: number;
}

export async function dispatcherFor(t: DispatcherTimeouts): Promise<Dispatcher> {
  const key = `${t.connectTimeoutMs}/${t.readTimeoutMs}`;
  let d = cache.get(key);
  if (!d) {
    const EnvHttpProxyAgent = await proxyAgentClass();
    d = cache.get(key); // another request may have made it meanwhile
    if (d) return d;
    d = new EnvHttpProxyAgent({
      connect: { timeout: t.connectTimeoutMs },
      connectTimeout: t.connectTimeoutMs,
      headersTimeout: t.readTimeoutMs,
      bodyTimeout: t.readTimeoutMs,
      keepAliveTimeout: 10_000,
      proxyTunnel: false,
    });
    cache.set(key, d);
  }
  return d;
}

/** Lets a finished CLI exit at once instead of waiting for idle keep-alive sockets. */
export async function closeDispatchers(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  await Promise.allSettled(all.map((d) => d.close()));
}

/** One request on `dispatcher` (undici's `request`, without loading its whole package). */
export function requestVia(dispatcher: Dispatcher, url: string, opts: Omit<Dispatcher.RequestOptions, "origin" | "path">): Promise<Dispatcher.ResponseData> {
  const u = new URL(url);
  return dispatcher.request({ ...opts, origin: u.origin, path: `${u.pathname}${u.search}` } as Dispatcher.RequestOptions);
}
