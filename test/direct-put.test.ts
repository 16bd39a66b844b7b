// The direct PUT (http/direct-put.ts), through HubClient as putBlob uses it, against purpose-built servers
// on 127.0.0.1: what undici did for us and the direct transport must do itself. The body goes out whole
// from a few reused buffers; answers chunked, up to the close or after a 100 Continue are read; an answer
// that comes before the body is all sent (a refusal) stops the sending and is what the caller sees (not
// EPIPE, not a hang); a cut, a source that fails, an abort each end the request with the right error.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type net from "node:net";
import { after, describe, test } from "node:test";
import { AbortedError, ConnectionFailedError, FileChangedError, ServerError } from "../src/errors.js";
import { DirectBody } from "../src/http/direct-get.js";
import type { BodySource } from "../src/http/direct-put.js";
import { closeDispatchers } from "../src/http/dispatcher.js";
import { HubClient, readBodyText } from "../src/http/hub-client.js";
import { networkSettings } from "../src/settings.js";
import { bytes } from "./helpers/hub.js";
import { head, rawServer, type Seen } from "./helpers/raw-server.js";

after(() => closeDispatchers());

const MiB = 1024 * 1024;
const client = (url: string) => new HubClient({ endpoint: url, network: { ...networkSettings({}), maxRetries: 0 } });

/** A source over `data` that records which memory it was asked to fill. */
function sourceOf(data: Buffer, opts: { failAt?: number } = {}) {
  let at = 0;
  const memory = new Set<ArrayBufferLike>();
  const source: BodySource = {
    read(buf) {
      memory.add(buf.buffer);
      if (opts.failAt !== undefined && at >= opts.failAt) throw new FileChangedError("w.bin");
      const n = Math.min(buf.length, data.length - at);
      data.copy(buf, 0, at, at + n);
      at += n;
      return n;
    },
  };
  return { source, read: () => at, buffers: () => memory.size };
}

const put = (url: string, src: BodySource, length: number, signal?: AbortSignal) =>
  client(url).request({ method: "PUT", path: "/blob", body: { data: src, length }, direct: true, subject: { modelId: "a/b", filePath: "w.bin" }, ...(signal ? { signal } : {}) });

/** Waits for `n` body bytes on the connection, then answers (the hub's usual order). */
function afterBody(seen: Seen, n: number, answer: () => void): void {
  const poll = setInterval(() => {
    if (seen.bodyBytes < n) return;
    clearInterval(poll);
    answer();
  }, 5);
}

const json = (o: unknown) => Buffer.from(JSON.stringify(o));

describe("direct PUT", () => {
  test("every byte goes out from two reused buffers; the request is a framed PUT; a chunked answer is read whole", async () => {
    const data = bytes(5 * MiB + 12_345, 31);
    const answer = json({ Code: 200, Data: { oid: "x" } });
    const srv = await rawServer((s, _h, seen) => {
      afterBody(seen, data.length, () => {
        s.write(head(200, { "transfer-encoding": "chunked" }));
        s.end(Buffer.concat([Buffer.from(`${answer.length.toString(16)}\r\n`), answer, Buffer.from("\r\n0\r\n\r\n")]));
      });
    });
    try {
      const src = sourceOf(data);
      const res = await put(srv.url, src.source, data.length);
      assert.ok(res.body instanceof DirectBody, "sent directly");
      assert.equal(await readBodyText(res.body, 1000), answer.toString());
      assert.equal(srv.seen[0]!.bodyBytes, data.length);
      assert.equal(srv.seen[0]!.bodyHash.digest("hex"), createHash("sha256").update(data).digest("hex"));
      assert.equal(src.buffers(), 2, "no buffer per piece");
      assert.match(srv.seen[0]!.head, /^PUT \/blob HTTP\/1\.1\r\n/);
      assert.match(srv.seen[0]!.head, new RegExp(`\\r\\ncontent-length: ${data.length}\\r\\n`));
    } finally {
      await srv.close();
    }
  });

  test("an answer that ends at the close, and one after a 100 Continue, are read whole", async () => {
    const data = bytes(2 * MiB, 32);
    const answer = json({ Code: 200, Message: "stored" });
    for (const how of ["until-close", "continue"] as const) {
      const srv = await rawServer((s, _h, seen) => {
        if (how === "continue") s.write("HTTP/1.1 100 Continue\r\n\r\n");
        afterBody(seen, data.length, () => {
          if (how === "until-close") return void s.end(Buffer.concat([head(200, { connection: "close" }), answer]));
          s.write(Buffer.concat([head(200, { "content-length": answer.length }), answer]));
        });
      });
      try {
        const res = await put(srv.url, sourceOf(data).source, data.length);
        assert.equal(res.status, 200, how);
        assert.equal(await readBodyText(res.body, 1000), answer.toString(), how);
      } finally {
        await srv.close();
      }
    }
  });

  test("a refusal before the body is sent stops the sending and is the error the caller sees (the server stops reading, closes or resets)", async () => {
    const data = Buffer.alloc(64 * MiB, 7);
    const refusal = json({ Code: 413, Message: "over this hub's upload limit" });
    for (const how of ["stops reading", "closes", "resets"] as const) {
      const srv = await rawServer((s) => {
        s.write(Buffer.concat([head(413, { "content-type": "application/json", "content-length": refusal.length }), refusal]));
        if (how === "stops reading") s.pause();
        else if (how === "closes") s.end();
        else s.destroy(); // unread bytes: the kernel answers our next ones with a reset (EPIPE / ECONNRESET)
      });
      try {
        const src = sourceOf(data);
        await assert.rejects(put(srv.url, src.source, data.length), (e: Error) => {
          assert.ok(e instanceof ServerError, `${how}: ${e.constructor.name}: ${e.message}`);
          assert.match(e.message, /413.*over this hub's upload limit/);
          return true;
        });
        assert.ok(src.read() < data.length, `${how}: the sending stopped (${src.read()} of ${data.length} read)`);
      } finally {
        await srv.close();
      }
    }
  });

  test("a success before the whole body was sent (the blob cannot be whole), and a cut mid-body: ConnectionFailedError (retryable), not a hang", async () => {
    const data = Buffer.alloc(64 * MiB, 7);
    const answers: Record<string, (s: net.Socket, seen: Seen) => void> = {
      "early success": (s) => {
        s.write(Buffer.concat([head(200, { "content-length": 2 }), Buffer.from("{}")]));
        s.pause();
      },
      cut: (s, seen) => afterBody(seen, MiB, () => s.destroy()),
    };
    for (const [how, answer] of Object.entries(answers)) {
      const srv = await rawServer((s, _h, seen) => answer(s, seen));
      try {
        await assert.rejects(put(srv.url, sourceOf(data).source, data.length), ConnectionFailedError, how);
      } finally {
        await srv.close();
      }
    }
  });

  test("a source that fails mid-body (the file changed) ends the request with its own error; an abort with AbortedError", async () => {
    const data = Buffer.alloc(16 * MiB, 7);
    let connections = 0;
    const srv = await rawServer((s: net.Socket) => {
      connections++;
      s.on("close", () => connections--);
    });
    try {
      await assert.rejects(put(srv.url, sourceOf(data, { failAt: 3 * MiB }).source, data.length), FileChangedError);
      const ac = new AbortController();
      const src = sourceOf(data);
      const p = put(srv.url, src.source, data.length, ac.signal);
      setTimeout(() => ac.abort(), 20);
      await assert.rejects(p, AbortedError);
      // Our side closed both connections.
      const until = Date.now() + 5000;
      while (connections > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      assert.equal(connections, 0);
    } finally {
      await srv.close();
    }
  });
});
