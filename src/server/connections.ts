// Caps on concurrent connections, overall and per client address, so a crowd of clients (or one client
// opening hundreds) cannot take the hub from everyone else. A connection over a cap is answered 503 with
// Retry-After and closed, before any route runs.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";

export interface ConnectionLimits {
  /** Connections at once, all clients together (0: no cap). */
  max: number;
  /** Connections at once from one address (0: no cap). Behind a proxy every client shares its address. */
  perAddress: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { max: 1024, perAddress: 256 };

const refused = new WeakSet<Socket>();

/** Whether the connection was refused (its request, if one arrives, is left alone: the 503 is already sent). */
export function isRefused(socket: Socket): boolean {
  return refused.has(socket);
}

function addressOf(socket: Socket): string {
  const a = socket.remoteAddress ?? "";
  return a.startsWith("::ffff:") ? a.slice(7) : a;
}

export function limitConnections(server: Server, limits: ConnectionLimits): void {
  const perAddress = new Map<string, number>();
  let total = 0;
  // Before the HTTP layer's own listener, so a refused socket is marked before any request is parsed.
  server.prependListener("connection", (socket: Socket) => {
    const address = addressOf(socket);
    const mine = perAddress.get(address) ?? 0;
    if ((limits.max > 0 && total >= limits.max) || (limits.perAddress > 0 && mine >= limits.perAddress)) return refuse(socket);
    total++;
    perAddress.set(address, mine + 1);
    socket.once("close", () => {
      total--;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
  });
}

function refuse(socket: Socket): void {
  refused.add(socket);
  const body = JSON.stringify({ Code: 50300000000 + 10101, Message: "Too many connections; try again shortly.", RequestId: "", Success: false });
  socket.end(
    `HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  // Long enough for the client to send its request and read the answer; then the socket is gone.
  setTimeout(() => socket.destroy(), 2000).unref();
}

const active = new WeakMap<Socket, IncomingMessage>();

/**
 * Closes connections that make no progress for `ms`: idle between requests, a request that stops arriving,
 * or a response the client stops reading (no write done). A request the hub itself is still working on
 * (hashing a big file for a listing) is left alone: the client is not at fault.
 */
export function closeStalled(server: Server, ms: number): void {
  server.timeout = ms;
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    active.set(req.socket, req);
    res.once("close", () => {
      if (active.get(req.socket) === req) active.delete(req.socket);
    });
  });
  server.on("timeout", (socket: Socket) => {
    const req = active.get(socket);
    const hubBusy = req !== undefined && req.complete && socket.writableLength === 0;
    if (!hubBusy) socket.destroy();
  });
}
