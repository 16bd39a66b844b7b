// The test faults' throttle (the stand-in for a capped link in tests and benchmarks): a body it only paces
// goes out as the hub sends any file, through reused buffers (send-file.ts), in slices of a hundredth of
// the cap: every byte right, counted in the stats, never faster than the cap (one slice ahead at most),
// alone or shared by several bodies; a client leaving mid-body leaves nothing open behind.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import { after, before, beforeEach, describe, test } from "node:test";
import { bytes, clearFaults, hubStats, setFaults, startTestHub, type TestHub } from "./helpers/hub.js";

const MiB = 1024 * 1024;
const RATE = 4 * MiB; // bytes per second
const SLICE = Math.floor(RATE / 100);
const file = bytes(2 * MiB + 777, 21);
let hub: TestHub;

before(async () => {
  hub = await startTestHub({ testFaults: true, models: { "acme/paced": { "w.bin": file } } });
});
after(() => hub.close());
beforeEach(() => clearFaults(hub));

const url = () => `${hub.url}/api/v1/models/acme/paced/repo?Revision=master&FilePath=w.bin`;

/** A GET (following the hub's redirect): the body (as far as it came) and how long it took from the request. */
function get(target: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; seconds: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(target, { headers, agent: false }, (res) => {
        if (res.statusCode === 302) {
          res.resume();
          get(new URL(res.headers.location!, target).toString(), headers).then((r) => resolve({ ...r, seconds: (performance.now() - t0) / 1000 }), reject);
          return;
        }
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        // Whole or cut short (a cut fault): what came, once the body ends either way.
        res.on("error", () => undefined);
        res.on("close", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), seconds: (performance.now() - t0) / 1000 }));
      })
      .on("error", reject);
  });
}

/** The least time `n` bytes can take under the cap: all but the first slice paced. */
const least = (n: number) => (n - SLICE) / RATE;

describe("the throttle fault", () => {
  test("a whole body and ranges: every byte, counted, never faster than the cap", async () => {
    await setFaults(hub, [{ kind: "throttle", bytesPerSecond: RATE }]);
    const whole = await get(url());
    assert.equal(whole.status, 200);
    assert.ok(whole.body.equals(file), "the bytes differ");
    assert.ok(whole.seconds >= least(file.length), `${file.length} bytes in ${whole.seconds} s: faster than ${RATE} B/s`);
    const [start, end] = [SLICE - 5, file.length - 3];
    const part = await get(url(), { range: `bytes=${start}-${end}` });
    assert.equal(part.status, 206);
    assert.ok(part.body.equals(file.subarray(start, end + 1)), "the range's bytes differ");
    assert.ok(part.seconds >= least(end + 1 - start));
    assert.equal((await hubStats(hub)).bytesSent["w.bin"], file.length + (end + 1 - start));
  });

  test("shared: two bodies at once together under the one cap", async () => {
    await setFaults(hub, [{ kind: "throttle", bytesPerSecond: RATE, shared: true }]);
    const t0 = performance.now();
    const got = await Promise.all([get(url()), get(url())]);
    const seconds = (performance.now() - t0) / 1000;
    for (const g of got) assert.ok(g.body.equals(file));
    assert.ok(seconds >= least(2 * file.length), `2 bodies in ${seconds} s: faster than the shared cap`);
  });

  test("with a cut as well: the cut still comes after its bytes, paced", async () => {
    await setFaults(hub, [
      { kind: "throttle", bytesPerSecond: RATE },
      { kind: "close", afterBytes: MiB + 1, times: 1 },
    ]);
    const got = await get(url());
    assert.equal(got.body.length, MiB + 1);
    assert.ok(got.body.equals(file.subarray(0, MiB + 1)));
    assert.ok(got.seconds >= least(MiB + 1));
  });

  test("a client leaving a paced body: no descriptor left open, the next body is served", async () => {
    await setFaults(hub, [{ kind: "throttle", bytesPerSecond: RATE }]);
    const open = () => fs.readdirSync("/proc/self/fd").length;
    const before = open();
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.get(url(), { agent: false }, (res) => {
          if (res.statusCode === 302) {
            res.resume();
            const cdn = http.get(new URL(res.headers.location!, url()), { agent: false }, (body) => body.once("data", () => cdn.destroy()));
            cdn.on("close", () => resolve());
            cdn.on("error", () => resolve());
            return;
          }
          res.once("data", () => req.destroy());
        });
        req.on("close", () => resolve());
        req.on("error", (err) => ((err as NodeJS.ErrnoException).code === "ECONNRESET" ? resolve() : reject(err)));
      });
    }
    // The hub notices closed sockets at its next slice (10 ms); give it a moment to close its files.
    for (let i = 0; i < 50 && open() > before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(open() <= before, `descriptors: ${before} before, ${open()} after`);
    assert.ok((await get(url())).body.equals(file));
  });
});
