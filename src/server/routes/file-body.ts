// A file's bytes as a response, for the hub and its CDN alike: Range (one `bytes=` range, 206/416), HEAD,
// and the test faults' hook on the body.
import fs from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Call } from "../context.js";
import { sendFileRange } from "../send-file.js";
import type { StoredFile, StoredRepo } from "../store/repo-store.js";

/** One `bytes=` range (start-end, start-, or -suffix). Several ranges or a malformed header: the whole file. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | "unsatisfiable" | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return { start, end };
}

export async function sendFile(call: Call, repo: StoredRepo, revision: string, file: StoredFile): Promise<void> {
  const { req, res } = call;
  const range = parseRange(req.headers.range, file.size);
  if (range === "unsatisfiable") {
    res.writeHead(416, { "content-range": `bytes */${file.size}`, "content-length": 0 });
    res.end();
    return;
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? file.size - 1;
  const headers: Record<string, string | number> = {
    "content-type": "application/octet-stream",
    "accept-ranges": "bytes",
    "last-modified": new Date(file.mtimeMs).toUTCString(),
    "content-disposition": `attachment; filename="${encodeURIComponent(file.path.split("/").pop() ?? "file")}"`,
    "content-length": Math.max(0, end - start + 1),
  };
  if (range) headers["content-range"] = `bytes ${start}-${end}/${file.size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === "HEAD" || file.size === 0) {
    res.end();
    return;
  }
  const open = () => fs.createReadStream(file.absPath, { start, end, highWaterMark: 1024 * 1024 });
  const ctx = { modelId: repo.ref.id, revision, filePath: file.path, start, end, size: file.size };
  const wrapped = call.hub.faults.wrapFileStream(ctx, open, res);
  try {
    await (wrapped instanceof Readable ? pipeline(wrapped, res) : sendFileRange(file.absPath, start, end, res, call.hub.sendBudget, wrapped));
  } catch {
    // The client went away, or a fault cut the stream: nothing more to send.
    res.destroy();
  }
}
