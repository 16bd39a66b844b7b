// The chunks a mirror reads once for every client waiting on a fill: one read per chunk, a window that
// follows the clients furthest on, and no chunk's memory reused while a write of it is still going.
import assert from "node:assert/strict";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { SHARED_CHUNK_BYTES, SharedChunks } from "../src/server/mirror/shared-chunks.js";
import { bytes, tempDir } from "./helpers/hub.js";

const C = SHARED_CHUNK_BYTES;

test("clients share each chunk's one read; behind the window is theirs to read; memory in use is never reused", async () => {
  const data = bytes(40 * C + 123, 5);
  const file = path.join(tempDir(), "landing");
  fs.writeFileSync(file, data);
  const fh = await fsp.open(file, "r");
  try {
    const chunks = new SharedChunks("1 0", data.length);
    const a = chunks.acquire(0, fh)!;
    const b = chunks.acquire(0, fh)!;
    const [ba, bb] = await Promise.all([a.bytes, b.bytes]);
    assert.equal(ba, bb, "one read for both");
    assert.deepEqual(ba, data.subarray(0, C));
    b.release();
    // Chunk 0 is still being written to a client (a not released) when the window moves past it.
    const held = Buffer.from(ba);
    for (let i = 1; i <= 20; i++) {
      const got = chunks.acquire(i, fh)!;
      const buf = await got.bytes;
      assert.deepEqual(buf, data.subarray(i * C, (i + 1) * C), `chunk ${i}`);
      got.release();
    }
    assert.deepEqual(ba, held, "a chunk still being written keeps its bytes");
    assert.equal(chunks.acquire(0, fh), undefined, "behind the window");
    a.release();
    // The last chunk is short; chunks read into reused memory are right.
    for (let i = 21; i <= 40; i++) {
      const got = chunks.acquire(i, fh)!;
      const buf = await got.bytes;
      assert.deepEqual(buf, data.subarray(i * C, Math.min((i + 1) * C, data.length)), `chunk ${i}`);
      got.release();
    }
  } finally {
    await fh.close();
  }
});
