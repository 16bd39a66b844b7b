// The chunks a mirror reads once for every client waiting on a fill: one read per chunk, a window that
// follows the clients furthest on, and no chunk's memory reused while a write of it is still going.
import assert from "node:assert/strict";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { SHARED_CHUNK_BYTES, SharedChunks } from "../src/server/mirror/shared-chunks.js";
import { SendBudget } from "../src/server/send-file.js";
import { bytes, tempDir } from "./helpers/hub.js";

const C = SHARED_CHUNK_BYTES;

test("clients share each chunk's one read; behind the window is theirs to read; memory in use is never reused", async () => {
  const data = bytes(80 * C + 123, 5);
  const file = path.join(tempDir(), "landing");
  fs.writeFileSync(file, data);
  const fh = await fsp.open(file, "r");
  try {
    const budget = new SendBudget(100 * C);
    const chunks = new SharedChunks("1 0", data.length, budget);
    const a = chunks.acquire(0, fh)!;
    const b = chunks.acquire(0, fh)!;
    const [ba, bb] = await Promise.all([a.bytes, b.bytes]);
    assert.equal(ba, bb, "one read for both");
    assert.deepEqual(ba, data.subarray(0, C));
    b.release();
    // Chunk 0 is still being written to a client (a not released) when the window moves past it.
    const held = Buffer.from(ba);
    for (let i = 1; i <= 70; i++) {
      const got = chunks.acquire(i, fh)!;
      const buf = await got.bytes;
      assert.deepEqual(buf, data.subarray(i * C, (i + 1) * C), `chunk ${i}`);
      got.release();
    }
    assert.deepEqual(ba, held, "a chunk still being written keeps its bytes");
    assert.equal(chunks.acquire(0, fh), undefined, "behind the window");
    a.release();
    // Memory runs out: the client reads for itself.
    const tight = new SharedChunks("2 0", data.length, new SendBudget(C));
    const one = tight.acquire(0, fh)!;
    assert.equal(tight.acquire(1, fh), undefined, "no memory left for a second chunk");
    await one.bytes;
    one.release();
    // The last clients gone: all memory goes back, a chunk still being written once its write is done.
    const last = chunks.acquire(70, fh)!;
    await last.bytes;
    chunks.close();
    assert.equal(chunks.acquire(71, fh), undefined, "closed");
    assert.equal(budget.take(100 * C), false, "the chunk being written still holds its memory");
    last.release();
    assert.equal(budget.take(100 * C), true, "every chunk's memory given back");
  } finally {
    await fh.close();
  }
});
