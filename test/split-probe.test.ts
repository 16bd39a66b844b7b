// The split decision's arithmetic (split-probe.ts) on a clock the test sets: no network and no timing.
// The end-to-end split and no-split cases are in download-adaptive.test.ts.
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import { SplitProbe } from "../src/download/split-probe.js";
import type { HubFileResponse } from "../src/http/index.js";

const turn = () => new Promise<void>((r) => setImmediate(r));

/** A first stream and a probe whose bytes the test delivers, one millisecond step at a time. */
function rig() {
  let now = 0;
  let received = 0;
  const body = new PassThrough();
  let openedAt = -1;
  const probe = new SplitProbe(
    async () => {
      openedAt = now;
      return { status: 206, headers: {}, url: "http://cdn.invalid/x", body } as unknown as HubFileResponse;
    },
    () => received,
    () => now,
  );
  return {
    probe,
    body,
    get openedAt() {
      return openedAt;
    },
    /** `ms` steps: the first stream gets `first` bytes each; the probe `probeBytes` (if it is reading). */
    /** `ms` without a read: the process was held up, and no byte was taken. */
    stall(ms: number) {
      now += ms;
    },
    async run(ms: number, first: number, probeBytes = 0) {
      for (let i = 0; i < ms; i++) {
        now += 1;
        received += first;
        if (probeBytes > 0) body.write(Buffer.alloc(probeBytes));
        await turn();
        const v = probe.tick(now);
        if (v) return v;
      }
      return undefined;
    },
  };
}

describe("split probe", () => {
  test("a second connection that carries as much as the first: split", async () => {
    const r = rig();
    assert.equal(await r.run(71, 40_000), undefined);
    assert.equal(await r.run(200, 40_000, 40_000), "split");
  });

  test("a first stream that sped up while the probe ran (something else on the machine finished): no split", async () => {
    const r = rig();
    assert.equal(await r.run(71, 40_000), undefined);
    assert.equal(await r.run(200, 80_000, 40_000), "stay");
  });

  test("where the probe's bytes come out of the first stream's, the total does not rise: stay", async () => {
    const r = rig();
    assert.equal(await r.run(71, 40_000), undefined);
    assert.equal(await r.run(200, 30_000, 10_000), "stay");
  });

  test("a first window with the process held up in it starts again after it: the probe's bytes that come out of the first stream's are not read as a gain", async () => {
    const r = rig();
    assert.equal(await r.run(1, 40_000), undefined);
    r.stall(40); // e.g. a module loading on the main thread: the alone rate would read 24 000 a ms
    assert.equal(await r.run(71, 40_000), undefined);
    assert.equal(r.openedAt, 102, "the window ran from the first read after the stall (the probe asked for 10 ms before its end)");
    // The CPU is the limit: the first stream gives up a quarter to the probe (1.0x in total; against the
    // held-up window it would read 1.67x, steady: a split).
    assert.equal(await r.run(200, 30_000, 10_000), "stay");
  });

  test("a link that pauses again and again is measured after a few restarts all the same", async () => {
    const r = rig();
    assert.equal(await r.run(1, 40_000), undefined);
    for (let i = 0; i < 5; i++) {
      r.stall(35);
      assert.equal(await r.run(20, 40_000), undefined);
    }
    assert.ok(r.openedAt > 0 && r.openedAt <= 1 + 5 * 55, `the probe never opened (${r.openedAt})`);
  });

  test("the probe is asked for before the first window ends, which ends at its first byte: its set-up is off the way to the verdict", async () => {
    const r = rig();
    assert.equal(await r.run(61, 40_000), undefined);
    assert.equal(r.openedAt, 61, "asked for 10 ms before the end of the window (which began at 1)");
    // Its first byte comes at 66, before the window's 70 ms: the window ends there, and the probe's bytes
    // count from then on; a clear yes half a window later.
    assert.equal(await r.run(4, 40_000), undefined);
    const verdict = await r.run(60, 40_000, 40_000);
    assert.equal(verdict, "split");
  });

  test("a stream fast alone is never probed", async () => {
    const r = rig();
    assert.equal(await r.run(200, 200_000), "fast");
    assert.equal(r.openedAt, -1);
  });
});
