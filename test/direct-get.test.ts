// The direct transport (http/direct-get.ts) against purpose-built servers on 127.0.0.1 that send
// exactly the bytes a test wants, split where it wants: heads in pieces, bodies in odd sizes, answers
// without Content-Length, bytes past the end, stalls, cuts, huge heads. And through HubClient: errors
// keep their meaning, redirects drop credentials, chunked answers fall back to undici.
import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, test } from "node:test";
import { ConnectionFailedError, ConnectionTimeoutError, NotFoundError } from "../src/errors.js";
import { DirectBody, DirectUnsupportedError, directAllowed, directGet, type DirectTarget } from "../src/http/direct-get.js";
import { closeDispatchers } from "../src/http/dispatcher.js";
import { HubClient, readText } from "../src/http/hub-client.js";
import { networkSettings } from "../src/settings.js";
import { bytes, secrets } from "./helpers/hub.js";
import { head, rawServer } from "./helpers/raw-server.js";

const TOKEN = "ms-99999999-8888-7777-6666-555555555555";
secrets.add(TOKEN);
const TIMEOUTS = { connectTimeoutMs: 2000, readTimeoutMs: 2000 };

after(() => closeDispatchers());

/** Writes `data` in pieces of the given sizes (cycled), a tick apart, so reads split where we say. */
async function dribble(s: net.Socket, data: Buffer, sizes: number[]): Promise<void> {
  let off = 0;
  for (let i = 0; off < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    s.write(data.subarray(off, off + n));
    off += n;
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** A target that lends small buffers and pauses every `pauseEvery` deliveries (resuming a tick later). */
function collector(opts: { bufferBytes: number; pauseEvery?: number }) {
  const got: Buffer[] = [];
  let calls = 0;
  let body: DirectBody | undefined;
  const target: DirectTarget = {
    buffer: () => Buffer.alloc(opts.bufferBytes),
    data: (buf, n) => {
      got.push(Buffer.from(buf.subarray(0, n)));
      calls++;
      if (opts.pauseEvery && calls % opts.pauseEvery === 0) {
        setImmediate(() => body!.resume());
        return false;
      }
      return true;
    },
  };
  return { target, got: () => Buffer.concat(got), bind: (b: DirectBody) => (body = b) };
}

describe("direct GET: framing", () => {
  test("a head split into pieces, body bytes in the head's packet, odd-sized reads into small buffers, pauses: every byte in order", async () => {
    const data = bytes(300_000, 1);
    const srv = await rawServer(async (s) => {
      const all = Buffer.concat([head(200, { "Content-Length": data.length, "X-Many": "a" }), data]);
      await dribble(s, all, [3, 17, 4096, 65_537, 1, 100_000]);
    });
    try {
      const res = await directGet(`${srv.url}/f?x=1`, { headers: { "user-agent": "t" }, ...TIMEOUTS });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers["x-many"], "a");
      assert.equal(res.body.length, data.length);
      const c = collector({ bufferBytes: 777, pauseEvery: 5 });
      c.bind(res.body);
      await res.body.pipeTo(c.target);
      assert.ok(c.got().equals(data), "bytes differ");
      assert.match(srv.seen[0]!.head, /^GET \/f\?x=1 HTTP\/1\.1\r\n/);
      assert.match(srv.seen[0]!.head, /\r\nconnection: close(\r\n|$)/);
    } finally {
      await srv.close();
    }
  });

  test("bytes past Content-Length are ignored (in the head's packet or after it); a body that fits in the head's packet; an empty body", async () => {
    const data = Buffer.from("hello world");
    for (const [len, payload, apart] of [
      [5, Buffer.concat([data, Buffer.from("GARBAGE")]), false],
      [5, Buffer.concat([data, Buffer.from("GARBAGE")]), true],
      [data.length, data, false],
      [0, Buffer.alloc(0), false],
    ] as const) {
      const srv = await rawServer(async (s) => {
        if (!apart) return void s.write(Buffer.concat([head(200, { "content-length": len }), payload]));
        s.write(head(200, { "content-length": len }));
        await new Promise((r) => setTimeout(r, 30));
        s.write(payload);
      });
      try {
        const res = await directGet(srv.url, { headers: {}, ...TIMEOUTS });
        const c = collector({ bufferBytes: 4 });
        await res.body.pipeTo(c.target);
        assert.equal(c.got().toString(), payload.subarray(0, len).toString());
      } finally {
        await srv.close();
      }
    }
  });

  test("a success without Content-Length (chunked) is not ours to read: DirectUnsupportedError", async () => {
    const srv = await rawServer((s) => {
      s.end(Buffer.concat([head(200, { "transfer-encoding": "chunked" }), Buffer.from("5\r\nhello\r\n0\r\n\r\n")]));
    });
    try {
      await assert.rejects(directGet(srv.url, { headers: {}, ...TIMEOUTS }), DirectUnsupportedError);
    } finally {
      await srv.close();
    }
  });

  test("a head over 64 KiB, or not HTTP at all, is refused", async () => {
    for (const reply of [Buffer.from(`HTTP/1.1 200 OK\r\nx-big: ${"a".repeat(70_000)}\r\n\r\n`), Buffer.from("SSH-2.0-OpenSSH\r\n\r\n")]) {
      const srv = await rawServer((s) => {
        s.write(reply);
      });
      try {
        await assert.rejects(directGet(srv.url, { headers: {}, ...TIMEOUTS }), /too large|not an HTTP/);
      } finally {
        await srv.close();
      }
    }
  });

  test("a header value that would start a new line is refused before anything is sent", async () => {
    const srv = await rawServer((s) => {
      s.end();
    });
    try {
      await assert.rejects(directGet(srv.url, { headers: { "x-a": "b\r\nx-evil: 1" }, ...TIMEOUTS }), /invalid header/);
      assert.equal(srv.seen.length, 0);
    } finally {
      await srv.close();
    }
  });

  test("only plain http with no proxy configured", () => {
    assert.equal(directAllowed("http://127.0.0.1:1/x", {}), true);
    assert.equal(directAllowed("https://modelscope.cn/x", {}), false);
    for (const name of ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"]) assert.equal(directAllowed("http://h/x", { [name]: "http://p:3128" }), false, name);
  });
});

describe("direct GET: failures", () => {
  test("a connection cut mid-body rejects (ConnectionFailedError through HubClient), and what came before was delivered", async () => {
    const data = bytes(100_000, 2);
    const srv = await rawServer((s) => {
      s.write(head(200, { "content-length": data.length }));
      s.end(data.subarray(0, 40_000));
    });
    try {
      const client = new HubClient({ endpoint: srv.url, network: { ...networkSettings({}), maxRetries: 0 } });
      const res = await client.request({ path: "/f", direct: true });
      assert.ok(res.body instanceof DirectBody);
      const c = collector({ bufferBytes: 8192 });
      await assert.rejects(res.body.pipeTo(c.target), (e: Error & { code?: string }) => e.code === "UND_ERR_SOCKET");
      assert.ok(c.got().equals(data.subarray(0, 40_000)));
    } finally {
      await srv.close();
    }
  });

  test("a body that stalls fails after the read timeout (body timeout, mapped to ConnectionTimeoutError)", async () => {
    const srv = await rawServer((s) => {
      s.write(Buffer.concat([head(200, { "content-length": 1000 }), Buffer.alloc(10)]));
    });
    try {
      const res = await directGet(srv.url, { headers: {}, connectTimeoutMs: 2000, readTimeoutMs: 300 });
      const started = Date.now();
      const err = await res.body.pipeTo(collector({ bufferBytes: 64 }).target).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.equal((err as { code?: string })?.code, "UND_ERR_BODY_TIMEOUT");
      assert.ok(Date.now() - started < 1500);
      const { errorForNetwork } = await import("../src/http/error-mapping.js");
      assert.ok(errorForNetwork(err, srv.url) instanceof ConnectionTimeoutError);
    } finally {
      await srv.close();
    }
  });

  test("a pause of ours is not a stall: a target that holds the body longer than the read timeout still gets it all", async () => {
    const data = bytes(50_000, 3);
    const srv = await rawServer((s) => {
      s.write(Buffer.concat([head(200, { "content-length": data.length }), data]));
    });
    try {
      const res = await directGet(srv.url, { headers: {}, connectTimeoutMs: 2000, readTimeoutMs: 200 });
      const got: Buffer[] = [];
      let first = true;
      await res.body.pipeTo({
        buffer: () => Buffer.alloc(4096),
        data: (buf, n) => {
          got.push(Buffer.from(buf.subarray(0, n)));
          if (!first) return true;
          first = false;
          setTimeout(() => res.body.resume(), 600);
          return false;
        },
      });
      assert.ok(Buffer.concat(got).equals(data));
    } finally {
      await srv.close();
    }
  });

  test("an abort signal stops a body mid-way (AbortError), and one that fires before the head", async () => {
    const srv = await rawServer((s) => {
      s.write(Buffer.concat([head(200, { "content-length": 1_000_000 }), Buffer.alloc(1000)]));
    });
    try {
      const ac = new AbortController();
      const res = await directGet(srv.url, { headers: {}, signal: ac.signal, ...TIMEOUTS });
      const piping = res.body.pipeTo(collector({ bufferBytes: 100 }).target);
      setTimeout(() => ac.abort(), 50);
      await assert.rejects(piping, (e: Error) => e.name === "AbortError");
      const early = new AbortController();
      early.abort();
      await assert.rejects(directGet(srv.url, { headers: {}, signal: early.signal, ...TIMEOUTS }), (e: Error) => e.name === "AbortError");
    } finally {
      await srv.close();
    }
  });

  test("nothing listening: the connect error keeps its code (ECONNREFUSED)", async () => {
    const srv = await rawServer(() => undefined);
    await srv.close();
    await assert.rejects(directGet(srv.url, { headers: {}, ...TIMEOUTS }), (e: Error & { code?: string }) => e.code === "ECONNREFUSED");
  });
});

describe("direct GET through HubClient", () => {
  test("an error answer keeps its meaning (404 -> NotFoundError with the server's message read from the body)", async () => {
    const body = JSON.stringify({ Code: 404, Message: "no such file" });
    const srv = await rawServer((s) => {
      s.end(Buffer.concat([head(404, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }), Buffer.from(body)]));
    });
    try {
      const client = new HubClient({ endpoint: srv.url, network: { ...networkSettings({}), maxRetries: 0 } });
      await assert.rejects(client.request({ path: "/api/v1/models/a/b/repo", direct: true, subject: { modelId: "a/b", filePath: "x" } }), NotFoundError);
      assert.match(srv.seen[0]!.head, /connection: close/);
    } finally {
      await srv.close();
    }
  });

  test("a redirect to another origin: credentials on the first hop only, the body read directly on the second", async () => {
    const data = bytes(5000, 4);
    const cdn = await rawServer((s) => {
      s.write(Buffer.concat([head(200, { "content-length": data.length }), data]));
    });
    const hub = await rawServer((s) => {
      // An unframed redirect, closed by the server: discarded without waiting.
      s.end(head(302, { location: `http://localhost:${cdn.port}/obj?sig=1` }));
    });
    try {
      const client = new HubClient({ endpoint: hub.url, token: TOKEN, network: { ...networkSettings({}), maxRetries: 0 } });
      const res = await client.request({ path: "/api/v1/models/a/b/repo", direct: true });
      assert.ok(res.body instanceof DirectBody);
      const c = collector({ bufferBytes: 1000 });
      await res.body.pipeTo(c.target);
      assert.ok(c.got().equals(data));
      assert.match(hub.seen[0]!.head, /authorization: Bearer /);
      assert.doesNotMatch(cdn.seen[0]!.head, /authorization|cookie/i);
      assert.match(cdn.seen[0]!.head, /^GET \/obj\?sig=1 /);
    } finally {
      await hub.close();
      await cdn.close();
    }
  });

  test("a chunked success is sent again through undici: the caller gets a stream with the right bytes", async () => {
    let n = 0;
    const srv = await rawServer((s) => {
      n++;
      s.end(Buffer.concat([head(200, { "transfer-encoding": "chunked" }), Buffer.from("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")]));
    });
    try {
      const client = new HubClient({ endpoint: srv.url, network: { ...networkSettings({}), maxRetries: 0 } });
      const res = await client.request({ path: "/f", direct: true });
      assert.ok(!(res.body instanceof DirectBody));
      assert.equal(await readText({ body: res.body }, 1000), "hello world");
      assert.equal(n, 2);
      assert.doesNotMatch(srv.seen[1]!.head, /connection: close/);
    } finally {
      await srv.close();
    }
  });

  test("JSON GETs come directly too: framed or chunked (decoded here, sent once), and a chunked answer cut short fails", async () => {
    const json = JSON.stringify({ Code: 200, Data: { files: ["a", "b"], n: 2 } });
    const chunked = Buffer.from(`7;ext=1\r\n${json.slice(0, 7)}\r\n${(json.length - 7).toString(16)}\r\n${json.slice(7)}\r\n0\r\n\r\n`);
    let mode = "framed";
    const srv = await rawServer(async (s) => {
      if (mode === "framed") return void s.end(Buffer.concat([head(200, { "content-length": Buffer.byteLength(json) }), Buffer.from(json)]));
      s.write(head(200, { "transfer-encoding": "chunked" }));
      // In pieces, so chunk sizes and data arrive split across reads.
      const body = mode === "chunked" ? chunked : chunked.subarray(0, 20);
      await dribble(s, body, [5, 3, 11]);
      s.end();
    });
    try {
      const client = new HubClient({ endpoint: srv.url, network: { ...networkSettings({}), maxRetries: 0 } });
      for (mode of ["framed", "chunked"]) {
        const before = srv.seen.length;
        assert.deepEqual(await client.json({ path: "/api/v1/x" }), { files: ["a", "b"], n: 2 }, mode);
        assert.equal(srv.seen.length, before + 1, `${mode}: sent once`);
        assert.match(srv.seen.at(-1)!.head, /connection: close/);
      }
      mode = "cut";
      await assert.rejects(client.json({ path: "/api/v1/x" }), ConnectionFailedError);
    } finally {
      await srv.close();
    }
  });

  test("a connection refused through HubClient is ConnectionFailedError", async () => {
    const srv = await rawServer(() => undefined);
    await srv.close();
    const client = new HubClient({ endpoint: srv.url, network: { ...networkSettings({}), maxRetries: 0 } });
    await assert.rejects(client.request({ path: "/f", direct: true }), ConnectionFailedError);
  });
});
