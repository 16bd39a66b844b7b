// The local hub's file bodies (no test faults: the fast path through two reused buffers): every byte
// and every range right across the 1 MiB buffer boundaries, and a client that leaves mid-body costs the
// hub nothing (no leaked descriptor, the next request is served).
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { bytes, startTestHub, type TestHub } from "./helpers/hub.js";

const MiB = 1024 * 1024;
const tiny = bytes(300 * 1024 + 1, 6); // one chunk: read in one go
const small = bytes(5 * MiB + 123, 7); // served by the hub itself
const big = bytes(9 * MiB + 5, 8); // redirected to the CDN host (8 MiB threshold)
let hub: TestHub;

before(async () => {
  hub = await startTestHub({ models: { "acme/files": { "tiny.bin": tiny, "small.bin": small, "big.bin": big, "empty.bin": "" } } });
});
after(() => hub.close());

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(url: string, headers: Record<string, string> = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      })
      .on("error", reject);
  });
}

/** The file's URL, following the hub's redirect to its CDN host when it gives one. */
async function fileUrl(file: string): Promise<string> {
  const url = `${hub.url}/api/v1/models/acme/files/repo?Revision=master&FilePath=${file}`;
  const first = await get(url, { range: "bytes=0-0" });
  return first.status === 302 ? new URL(first.headers.location!, url).toString() : url;
}

function openDescriptors(): number {
  return fs.readdirSync("/proc/self/fd").length;
}

describe("file bodies of the local hub", () => {
  test("whole files, byte for byte: one chunk, several, above the redirect threshold; an empty file", async () => {
    for (const [name, data] of [
      ["tiny.bin", tiny],
      ["small.bin", small],
      ["big.bin", big],
      ["empty.bin", Buffer.alloc(0)],
    ] as const) {
      const got = await get(await fileUrl(name));
      assert.equal(got.status, 200, name);
      assert.equal(Number(got.headers["content-length"]), data.length, name);
      assert.ok(got.body.equals(data), `${name}: the bytes differ`);
    }
  });

  test("ranges across the buffer boundaries", async () => {
    const url = await fileUrl("big.bin");
    for (const [start, end] of [
      [MiB - 1, MiB],
      [MiB - 100, 3 * MiB + 100],
      [0, MiB - 1],
      [2 * MiB, big.length - 1],
      [big.length - 1, big.length - 1],
    ] as const) {
      const got = await get(url, { range: `bytes=${start}-${end}` });
      assert.equal(got.status, 206);
      assert.equal(got.headers["content-range"], `bytes ${start}-${end}/${big.length}`);
      assert.ok(got.body.equals(big.subarray(start, end + 1)), `bytes ${start}-${end} differ`);
    }
  });

  test("a client leaving mid-body: no descriptor left open, the next request is served", async () => {
    const url = await fileUrl("big.bin");
    const before = openDescriptors();
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.get(url, { agent: false }, (res) => {
          let seen = 0;
          res.on("data", (c: Buffer) => {
            seen += c.length;
            if (seen > 2 * MiB) req.destroy();
          });
        });
        req.on("close", () => resolve());
        req.on("error", (err) => ((err as NodeJS.ErrnoException).code === "ECONNRESET" ? resolve() : reject(err)));
      });
    }
    // The hub notices the closed sockets asynchronously; give it a moment to close its files.
    for (let i = 0; i < 50 && openDescriptors() > before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(openDescriptors() <= before, `descriptors: ${before} before, ${openDescriptors()} after`);
    const got = await get(url);
    assert.ok(got.body.equals(big));
  });
});
