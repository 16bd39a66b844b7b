// The answers every route gives: the real hub's two JSON envelopes (legacy /api/v1 and /openapi/v1), the
// CDN's XML error, and a request body read with a limit.
import type { IncomingMessage, ServerResponse } from "node:http";

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** The body as text; more than `limit` bytes is refused (throws). */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function requestId(res: ServerResponse): string {
  return String(res.getHeader("x-request-id") ?? "");
}

export function legacyOk(res: ServerResponse, data: unknown): void {
  sendJson(res, 200, { Code: 200, Data: data, Message: "success", RequestId: requestId(res), Success: true });
}

export function legacyError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { Code: status * 100000000 + 10101, Message: message, RequestId: requestId(res), Success: false }, headers);
}

export function openApiOk(res: ServerResponse, data: unknown): void {
  sendJson(res, 200, { success: true, data, message: "success", request_id: requestId(res) });
}

export function openApiError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { success: false, code: String(status), message, request_id: requestId(res) }, headers);
}

export function xmlError(res: ServerResponse, status: number, code: string, message: string): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId(res)}</RequestId></Error>\n`;
  res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
