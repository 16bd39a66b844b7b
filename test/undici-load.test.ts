// undici is loaded part by part (dispatcher.ts): its index (fetch, WebSocket, caches, mocks) costs twice
// the load time on the main thread before a download's first small file. Its own process (node:test runs
// each file in one), so nothing else has loaded undici before.
import assert from "node:assert/strict";
import http from "node:http";
import { createRequire } from "node:module";
import type net from "node:net";
import { test } from "node:test";
import { closeDispatchers, dispatcherFor, requestVia } from "../src/http/dispatcher.js";

const require = createRequire(import.meta.url);

test("a request through undici works without loading undici's index", async () => {
  const server = http.createServer((req, res) => res.end(`${req.method} ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as net.AddressInfo;
    const dispatcher = await dispatcherFor({ connectTimeoutMs: 5000, readTimeoutMs: 5000 });
    const res = await requestVia(dispatcher, `http://127.0.0.1:${port}/a/b?c=1&d=%20`, { method: "GET", headers: { "x-test": "1" } });
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), "GET /a/b?c=1&d=%20");
    const loaded = Object.keys(require.cache).filter((k) => k.includes(`${"/"}undici${"/"}`));
    assert.ok(loaded.length > 0, "undici was not loaded from node_modules at all");
    assert.ok(!loaded.some((k) => /\/undici\/index\.js$/.test(k)), "undici's index was loaded");
    // The CONNECT tunnel of a proxy needs `connect` on dispatchers, which the index used to add.
    assert.equal(typeof (dispatcher as unknown as { connect?: unknown }).connect, "function");
  } finally {
    await closeDispatchers();
    server.close();
  }
});
