// Purpose-built HTTP servers for transport tests: plain TCP on 127.0.0.1 that sends exactly the bytes a
// test wants. Each request head is recorded, and the bytes that follow it on its connection are counted.
import { createHash, type Hash } from "node:crypto";
import net from "node:net";

export interface Seen {
  head: string;
  /** Bytes received after the head on that connection (a request body), so far. */
  bodyBytes: number;
  /** sha256 of those bytes, so far. */
  bodyHash: Hash;
}

/** A server whose every connection gets `answer(socket, requestHead)`; it records each request head. */
export async function rawServer(answer: (s: net.Socket, head: string, seen: Seen) => void | Promise<void>) {
  const seen: Seen[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
    let buf = "";
    let mine: Seen | undefined;
    s.on("data", (d: Buffer) => {
      if (mine) {
        mine.bodyBytes += d.length;
        mine.bodyHash.update(d);
        return;
      }
      buf += d.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end >= 0) {
        const rest = Buffer.from(buf.slice(end + 4), "latin1");
        mine = { head: buf.slice(0, end), bodyBytes: rest.length, bodyHash: createHash("sha256").update(rest) };
        seen.push(mine);
        void answer(s, mine.head, mine);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** An HTTP/1.1 answer head. */
export const head = (status: number, headers: Record<string, string | number>) =>
  Buffer.from(`HTTP/1.1 ${status} X\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`, "latin1");
