// The one HTTP door, seen from outside: timeouts, retries with Retry-After, error mapping, credentials
// never following a redirect to another host, and HTTPS_PROXY / HTTP_PROXY / NO_PROXY through a real
// proxy. Real servers on 127.0.0.1 written here with node:http / node:net / node:tls, and real CLI runs.
import assert from "node:assert/strict";
import fs from "node:fs";
import http, { type IncomingHttpHeaders } from "node:http";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { after, before, describe, test } from "node:test";
import { AccessDeniedError, InvalidTokenError, NotFoundError, NotLoggedInError, ServerError } from "../src/errors.js";
import { HubApi } from "../src/hub/api.js";
import { closeDispatchers } from "../src/http/dispatcher.js";
import { bytes, cleanEnv, modelscope, secrets, sha256, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

const FAST = { MODELSCOPE_API_TIMEOUT: "1", MODELSCOPE_API_CONNECT_TIMEOUT: "1", MODELSCOPE_API_MAX_RETRIES: "0", MODELSCOPE_MAX_BACKOFF: "0.1" };
const SOME_TOKEN = "ms-11111111-2222-3333-4444-555555555555";
secrets.add(SOME_TOKEN);

/** Starts a server on 127.0.0.1:0 and returns its port and a closer that also drops open sockets. */
async function listen(server: net.Server): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A purpose-built hub stand-in: answers each request with the next scripted reply, and records requests. */
async function scripted(replies: { status: number; headers?: Record<string, string>; body?: unknown }[]) {
  const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    const reply = replies[Math.min(seen.length, replies.length) - 1]!;
    const text = JSON.stringify(reply.body ?? { Code: reply.status, Message: `status ${reply.status}`, Success: reply.status < 400 });
    req.resume();
    res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
    res.end(text);
  });
  const l = await listen(server);
  return { url: `http://127.0.0.1:${l.port}`, seen, close: l.close };
}

const ME = { status: 200, body: { success: true, data: { id: 7, username: "zoe", email: "zoe@example.com" } } };

after(() => closeDispatchers());

describe("timeouts and connection failures (real CLI)", () => {
  let silent: { port: number; close: () => Promise<void> };
  let accepted = 0;
  before(async () => {
    // Accepts connections and never answers.
    const server = net.createServer(() => accepted++);
    silent = await listen(server);
  });
  after(() => silent.close());

  test("a server that accepts and never answers gives `Connection timeout` within the configured time; GETs are retried", async () => {
    accepted = 0;
    const env = cleanEnv(tempDir(), { ...FAST, MODELSCOPE_API_MAX_RETRIES: "1", MODELSCOPE_ENDPOINT: `http://127.0.0.1:${silent.port}`, MODELSCOPE_API_TOKEN: SOME_TOKEN });
    // The generous process timeout is only a safety net; the assertion is about the error.
    const r = await modelscope(["whoami"], { env, timeoutMs: 30_000 });
    assert.equal(r.signal, null, "the CLI hung until the safety net killed it");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: Connection timeout/m);
    assert.match(r.stderr, /HTTPS_PROXY/);
    assert.equal(accepted, 2, "one attempt and one retry");
  });

  test("login is a POST and is not retried; a timeout saves nothing", async () => {
    accepted = 0;
    const home = tempDir();
    const env = cleanEnv(home, { ...FAST, MODELSCOPE_API_MAX_RETRIES: "3", MODELSCOPE_ENDPOINT: `http://127.0.0.1:${silent.port}` });
    const r = await modelscope(["login", "--token-stdin"], { env, input: SOME_TOKEN, timeoutMs: 30_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: Connection timeout/m);
    assert.equal(accepted, 1);
    assert.ok(!fs.existsSync(path.join(home, ".modelscope", "token")));
  });

  test("Chinese: 连接超时", async () => {
    const env = cleanEnv(tempDir(), { ...FAST, LANG: "zh_CN.UTF-8", MODELSCOPE_ENDPOINT: `http://127.0.0.1:${silent.port}`, MODELSCOPE_API_TOKEN: SOME_TOKEN });
    const r = await modelscope(["whoami"], { env, timeoutMs: 30_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^错误：连接超时/m);
    assert.match(r.stderr, /解决：请检查网络连接/);
  });

  test("nothing listening gives `Connection failed`", async () => {
    const closed = await listen(net.createServer());
    await closed.close();
    const env = cleanEnv(tempDir(), { ...FAST, MODELSCOPE_ENDPOINT: `http://127.0.0.1:${closed.port}`, MODELSCOPE_API_TOKEN: SOME_TOKEN });
    const r = await modelscope(["whoami"], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: Connection failed/m);
  });
});

describe("status codes, retries and Retry-After (HubApi against a purpose-built server)", () => {
  const api = (endpoint: string, maxRetries = 3, maxBackoffMs = 30_000) =>
    new HubApi({ endpoint, token: SOME_TOKEN, home: tempDir(), env: {}, network: { maxRetries, maxBackoffMs, readTimeoutMs: 5000, connectTimeoutMs: 5000 } });

  test("429 with Retry-After: waits what the server asks, then succeeds", async () => {
    const s = await scripted([{ status: 429, headers: { "retry-after": "1" } }, ME]);
    try {
      const delays: number[] = [];
      const me = await api(s.url).client().json<{ username: string }>({ path: "/openapi/v1/users/me", onRetry: (i) => delays.push(i.delayMs) });
      assert.equal(me.username, "zoe");
      assert.deepEqual(delays, [1000]);
      assert.equal(s.seen.length, 2);
    } finally {
      await s.close();
    }
  });

  test("Retry-After as an HTTP date, and a huge Retry-After capped by MODELSCOPE_MAX_BACKOFF", async () => {
    const s = await scripted([{ status: 503, headers: { "retry-after": "3600" } }, { status: 503, headers: { "retry-after": new Date(Date.now() + 600_000).toUTCString() } }, ME]);
    try {
      const delays: number[] = [];
      await api(s.url, 3, 50).client().json({ path: "/openapi/v1/users/me", onRetry: (i) => delays.push(i.delayMs) });
      assert.deepEqual(delays, [50, 50]);
    } finally {
      await s.close();
    }
  });

  test("5xx every time: retried MODELSCOPE_API_MAX_RETRIES times, then ServerError with the hub's message", async () => {
    const s = await scripted([{ status: 502, body: { Code: 502, Message: "bad gateway today", Success: false } }]);
    try {
      await assert.rejects(api(s.url, 2, 10).whoami(), (e: unknown) => e instanceof ServerError && e.status === 502 && e.serverMessage === "bad gateway today");
      assert.equal(s.seen.length, 3);
    } finally {
      await s.close();
    }
  });

  test("POST /api/v1/login is never retried", async () => {
    const s = await scripted([{ status: 503 }, ME]);
    try {
      await assert.rejects(api(s.url, 3, 10).login(SOME_TOKEN), ServerError);
      assert.equal(s.seen.length, 1);
    } finally {
      await s.close();
    }
  });

  test("401 with a token is InvalidTokenError, without one NotLoggedInError; 403 AccessDenied; 404 NotFound; none retried", async () => {
    const s = await scripted([{ status: 401 }]);
    try {
      await assert.rejects(api(s.url).whoami(), InvalidTokenError);
      const anonymous = new HubApi({ endpoint: s.url, home: tempDir(), env: {}, network: { maxRetries: 3 } });
      await assert.rejects(anonymous.client().json({ path: "/openapi/v1/users/me" }), NotLoggedInError);
      assert.equal(s.seen.length, 2);
      assert.equal(s.seen[0]!.headers.authorization, `Bearer ${SOME_TOKEN}`);
      assert.match(s.seen[0]!.headers.cookie ?? "", new RegExp(`m_session_id=${SOME_TOKEN}; modelscope_session=${SOME_TOKEN}`));
      assert.equal(s.seen[1]!.headers.authorization, undefined);
    } finally {
      await s.close();
    }
    const f = await scripted([{ status: 403 }, { status: 404 }]);
    try {
      await assert.rejects(api(f.url).modelInfo("acme/x"), (e: unknown) => e instanceof AccessDeniedError && e.subject.modelId === "acme/x");
      await assert.rejects(api(f.url).modelInfo("acme/x"), (e: unknown) => e instanceof NotFoundError && e.what === "acme/x" && e.signedIn);
      assert.equal(f.seen.length, 2);
    } finally {
      await f.close();
    }
  });

  test("the CLI shows a 503 after its retries as `Hub error 503` (exit 1)", async () => {
    const s = await scripted([{ status: 503, headers: { "retry-after": "0" } }]);
    try {
      const env = cleanEnv(tempDir(), { ...FAST, MODELSCOPE_API_MAX_RETRIES: "2", MODELSCOPE_ENDPOINT: s.url, MODELSCOPE_API_TOKEN: SOME_TOKEN });
      const r = await modelscope(["whoami"], { env });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^Error: Hub error 503/m);
      assert.match(r.stderr, /try again later/);
      assert.equal(s.seen.length, 3);
    } finally {
      await s.close();
    }
  });
});

describe("credentials never follow a redirect to another host", () => {
  test("a purpose-built redirect to another host gets no Authorization and no cookie, even when it comes back", async () => {
    const cdnSeen: IncomingHttpHeaders[] = [];
    let hubPort = 0;
    const cdn = http.createServer((req, res) => {
      cdnSeen.push(req.headers);
      // Bounce back to the hub's origin: credentials must stay gone.
      if (req.url === "/first") {
        res.writeHead(302, { location: `http://127.0.0.1:${hubPort}/back` });
        return res.end();
      }
      res.end("cdn bytes");
    });
    const c = await listen(cdn);
    const hubSeen: { url: string; headers: IncomingHttpHeaders }[] = [];
    const hubServer = http.createServer((req, res) => {
      hubSeen.push({ url: req.url!, headers: req.headers });
      if (req.url!.startsWith("/api/v1/models/acme/m/repo?")) {
        res.writeHead(302, { location: `http://localhost:${c.port}/first` });
        return res.end();
      }
      res.end("back at the hub");
    });
    const h = await listen(hubServer);
    hubPort = h.port;
    try {
      const api = new HubApi({ endpoint: `http://127.0.0.1:${h.port}`, token: SOME_TOKEN, home: tempDir(), env: {} });
      const res = await api.openFile("acme/m", "a.bin");
      assert.equal(await res.body.text(), "back at the hub");
      assert.equal(hubSeen[0]!.headers.authorization, `Bearer ${SOME_TOKEN}`);
      assert.equal(cdnSeen.length, 1);
      assert.equal(cdnSeen[0]!.authorization, undefined);
      assert.equal(cdnSeen[0]!.cookie, undefined);
      assert.equal(hubSeen[1]!.url, "/back");
      assert.equal(hubSeen[1]!.headers.authorization, undefined);
      assert.equal(hubSeen[1]!.headers.cookie, undefined);
    } finally {
      await h.close();
      await c.close();
    }
  });

  test("the local hub's CDN (which answers 400 to hub credentials) serves a private model's big file to a member", async () => {
    const big = bytes(4096, 3);
    const hub = await startTestHub({ models: { "acme/secret": { "big.bin": big, "small.txt": "s" } }, users: ["alice"], private: { "acme/secret": ["alice"] }, redirectThresholdBytes: 1000 });
    try {
      const api = new HubApi({ endpoint: hub.url, token: hub.tokens.alice, home: tempDir(), env: {} });
      const res = await api.openFile("acme/secret", "big.bin");
      assert.match(res.url, /\/__cdn__\//);
      assert.equal(new URL(res.url).hostname, "localhost");
      const body = Buffer.from(await res.body.arrayBuffer());
      assert.equal(sha256(body), sha256(big));
      // A range request through the redirect too (resume).
      const part = await api.openFile("acme/secret", "big.bin", { range: { start: 4000 } });
      assert.equal(part.status, 206);
      assert.ok(Buffer.from(await part.body.arrayBuffer()).equals(big.subarray(4000)));
      // And the CDN really refuses credentials: sending them by hand gets the 400.
      const direct = await fetch(res.url.replace("localhost", "127.0.0.1"), { headers: { authorization: `Bearer ${hub.tokens.alice}` } });
      assert.equal(direct.status, 400);
      await direct.body?.cancel();
    } finally {
      await hub.close();
    }
  });
});

// A self-signed certificate for 127.0.0.1 (test only), so the proxy can be checked with an https hub (CONNECT).
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBkDCCATagAwIBAgIUKoGU0Y8tayu83YmM/2a4Z7AgxbkwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyNDE5NTIwMFoYDzIxMjYxMDMx
MTk1MjAwWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAToQ+P69z0Y0fUZ7JpGypq9jETaugmZA0L/R19kKmp41F+NBQvGFj77
gWKyKDdLVJxGi3nJwNjCPFyhOaiOw3mwo2QwYjAdBgNVHQ4EFgQUjGgLEDXmZKbH
Zxy5rvdhZQJeds8wHwYDVR0jBBgwFoAUjGgLEDXmZKbHZxy5rvdhZQJeds8wDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0gAMEUC
IFBgoV6GZEdo1K7I+pzy5RY4txfXD2e+wHCAHhU7SXy2AiEA1X7uSln9FJzEPRSt
Je10v301abpnwW0CppuIwMR7tP8=
-----END CERTIFICATE-----
`;
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSAorV9+9jkdY9gxI
8bi7Ob6WDdmm5bDTkhkQonAgdbqhRANCAAToQ+P69z0Y0fUZ7JpGypq9jETaugmZ
A0L/R19kKmp41F+NBQvGFj77gWKyKDdLVJxGi3nJwNjCPFyhOaiOw3mw
-----END PRIVATE KEY-----
`;

describe("HTTPS_PROXY / HTTP_PROXY / NO_PROXY through a real local proxy", () => {
  let hub: TestHub;
  let alice: string;
  let proxy: { port: number; close: () => Promise<void> };
  let tlsFront: { port: number; close: () => Promise<void> };
  const log: string[] = [];
  let certFile: string;

  before(async () => {
    hub = await startTestHub({ users: ["alice"] });
    alice = hub.tokens.alice!;
    // The proxy: absolute-form requests (plain http) are forwarded; CONNECT opens a tunnel.
    const server = http.createServer((req, res) => {
      log.push(`${req.method} ${req.url}`);
      const target = new URL(req.url!);
      const up = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      up.on("error", () => res.destroy());
      req.pipe(up);
    });
    server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      log.push(`CONNECT ${req.url}`);
      const [host, port] = req.url!.split(":");
      const up = net.connect(Number(port), host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        up.write(head);
        up.pipe(client);
        client.pipe(up);
      });
      up.on("error", () => client.destroy());
      client.on("error", () => up.destroy());
    });
    proxy = await listen(server);
    // An https front for the hub (TLS terminated here, bytes passed to the hub), to exercise HTTPS_PROXY.
    const front = tls.createServer({ cert: TEST_CERT, key: TEST_KEY }, (socket) => {
      const up = net.connect(Number(new URL(hub.url).port), "127.0.0.1");
      socket.pipe(up).pipe(socket);
      up.on("error", () => socket.destroy());
      socket.on("error", () => up.destroy());
    });
    tlsFront = await listen(front);
    certFile = path.join(tempDir(), "ca.pem");
    fs.writeFileSync(certFile, TEST_CERT);
  });
  after(async () => {
    await proxy.close();
    await tlsFront.close();
    await hub.close();
  });

  const whoami = (extra: Record<string, string | undefined>) =>
    modelscope(["whoami"], { env: cleanEnv(tempDir(), { MODELSCOPE_API_TOKEN: alice, MODELSCOPE_API_MAX_RETRIES: "0", ...extra }) });

  test("HTTP_PROXY: a plain-http hub is reached through the proxy (absolute-form request)", async () => {
    log.length = 0;
    const r = await whoami({ MODELSCOPE_ENDPOINT: hub.url, HTTP_PROXY: `http://127.0.0.1:${proxy.port}` });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^username\s*: alice$/m);
    assert.deepEqual(log, [`GET ${hub.url}/openapi/v1/users/me`]);
  });

  test("lower-case http_proxy works too", async () => {
    log.length = 0;
    const r = await whoami({ MODELSCOPE_ENDPOINT: hub.url, http_proxy: `http://127.0.0.1:${proxy.port}` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(log.length, 1);
  });

  test("HTTPS_PROXY: an https hub is reached through a CONNECT tunnel", async () => {
    log.length = 0;
    const r = await whoami({ MODELSCOPE_ENDPOINT: `https://127.0.0.1:${tlsFront.port}`, HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`, NODE_EXTRA_CA_CERTS: certFile });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^username\s*: alice$/m);
    assert.deepEqual(log, [`CONNECT 127.0.0.1:${tlsFront.port}`]);
  });

  test("NO_PROXY: a listed host is reached directly", async () => {
    log.length = 0;
    const r = await whoami({ MODELSCOPE_ENDPOINT: hub.url, HTTP_PROXY: `http://127.0.0.1:${proxy.port}`, HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`, NO_PROXY: "localhost,127.0.0.1" });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(log, []);
  });

  test("a proxy that is down gives `Connection failed` naming the fix", async () => {
    const dead = await listen(net.createServer());
    await dead.close();
    const r = await whoami({ MODELSCOPE_ENDPOINT: hub.url, HTTP_PROXY: `http://127.0.0.1:${dead.port}` });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: Connection failed/m);
  });
});
