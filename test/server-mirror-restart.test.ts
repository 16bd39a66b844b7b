// A mirror's client following a fill whose fetch started over (an integrity retry) before it said so:
// the landing file then holds less than the fill had announced. A client that has sent none of the
// old bytes waits for the new ones and gets the file whole; it used to be cut (its download failed).
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { test } from "node:test";
import { sendWhileLanding, type Fill } from "../src/server/mirror/fill.js";
import { Landing } from "../src/server/mirror/landing.js";
import { SendBudget } from "../src/server/send-file.js";
import { bytes, sha256, tempDir } from "./helpers/hub.js";

const MiB = 1024 * 1024;

test("a landing file shorter than announced (the fetch started over) makes the client wait, not cut it", async () => {
  const finalPath = path.join(tempDir("dc-landing-"), "w.bin");
  const incomplete = `${finalPath}.incomplete`;
  const data = bytes(300_000, 3);
  // The first attempt had landed it all; the retry emptied the file and has not said so yet.
  fs.writeFileSync(incomplete, "");
  const landing = new Landing();
  landing.update(data.length);
  let finish!: () => void;
  const fill: Fill = { promise: new Promise<void>((r) => (finish = r)), state: { done: false }, landing, waiters: 0, chunkBudget: new SendBudget(8 * MiB) };
  const server = http.createServer((_req, res) => {
    void sendWhileLanding(res, finalPath, data.length, 0, data.length - 1, fill, () => res.writeHead(200, { "content-length": data.length }), new SendBudget(8 * MiB)).then((outcome) => {
      if (outcome === "cut") res.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const body = fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`).then((res) => res.arrayBuffer());
    body.catch(() => undefined);
    // The request is in and the hub has found the file short (a page-cached read takes well under this).
    await new Promise((r) => setTimeout(r, 200));
    // The retry says so, its bytes land, and the fill ends with the file kept.
    landing.update(0);
    fs.writeFileSync(incomplete, data);
    landing.update(data.length);
    fs.renameSync(incomplete, finalPath);
    fill.state.done = true;
    finish();
    assert.equal(sha256(Buffer.from(await body)), sha256(data));
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
