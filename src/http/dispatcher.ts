// The undici dispatcher every request uses: connection pooling, connect/read timeouts,
// and HTTPS_PROXY / HTTP_PROXY / NO_PROXY (undici's EnvHttpProxyAgent reads them, upper or lower case).
// Plain-http targets go to the proxy as absolute-form requests, as curl and Python requests send them
// (many proxies refuse CONNECT to ports other than 443); https targets use a CONNECT tunnel.
// undici is loaded on the first request, not at start-up: `--help`, `cache ls` and the like never need it.
import type { Dispatcher } from "undici";

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
    const { EnvHttpProxyAgent } = await import("undici");
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
