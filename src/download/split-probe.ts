// Whether a big file's single stream should go on in parallel ranges, decided from measured throughput.
// The stream's rate is measured alone for a window; then one more connection (the probe) asks for a
// range further on, and both are measured over the same window. Ranges pay only when the connection is
// the limit (a per-connection cap, as CDNs have): then the probe adds its own rate and the first stream
// keeps its pace. Where the limit is the CPU (a fast link, or a machine busy with something else), the
// probe's bytes come out of the first stream's, and the total does not rise: no split, whatever the
// process's CPU share. A stream that is fast alone (150 MB/s) is left alone. The probe's bytes are
// dropped (a few MiB at most); the first stream is never stopped by this. A first window in which the
// process was held up (no read for 30 ms) starts again after it.
import { DirectBody, discardBody, type HubFileResponse } from "../http/index.js";

/**
 * Each measuring window. 70 ms is still seven 10 ms steps of a paced cap; 100 ms kept the ranges back
 * ~60 ms (256 MiB at 40 MB/s per connection, idle A/B on 1 Dec 2026: 0.962 s against 1.032 s median).
 */
const WINDOW_MS = 70;
/** The probe asks for at most this much. */
export const PROBE_BYTES = 8 * 1024 * 1024;
/**
 * A stream at least this fast (bytes per ms: 150 MB/s) is never split: more connections could only win
 * little, cost CPU, and on a machine that is busy for a moment a measurement can look like they would.
 * Per-connection caps of real CDNs are well below it.
 */
const FAST = 150_000;
/** Split only when both connections together carry this much more than the first alone... */
const GAIN = 1.4;
/** ...and the first stream kept this share of its own rate (it was not the probe's CPU it lost). */
const KEPT = 0.7;
/** ...and did not rise by more than this (then the measurement met a change on the machine: no). */
const STEADY = 1.3;
/**
 * No byte read for this long during the first window: the process was held up (its threads starting, a
 * module loading, the CPU taken) and the window would read that as a slow link, which the probe's
 * window then "beats": the window starts again after it, a few times at most (a bursty link may pause).
 */
const STALL_MS = 30;
const MAX_RESTARTS = 2;
/**
 * The probe is asked for this long before the first window ends, so that its connection and first answer
 * are not on the way to the verdict; the first window ends at the probe's first byte at the latest (its
 * bytes are never counted as the first stream's alone).
 */
const LEAD_MS = 10;
/** After half the window, a clear yes: the gain and the share kept for an early split. */
const CLEAR_GAIN = 1.8;
const CLEAR_KEPT = 0.8;

/** "fast": the stream alone is fast enough; it is not measured again. */
export type Verdict = "split" | "stay" | "fast";

export class SplitProbe {
  private phase: "baseline" | "probing" | "done" = "baseline";
  private t0 = -1;
  private b0 = 0;
  private last = -1; // the previous tick, during the first window
  private restarts = 0;
  private opened = false; // the probe was asked for
  private alone = 0; // bytes per ms, the first stream alone
  private probeT0 = -1;
  private probeB0 = 0; // the first stream's bytes when the probe's first byte came
  private probeBytes = 0;
  private probeEnd = -1;
  private failed = false;
  private body: HubFileResponse["body"] | undefined;

  constructor(
    /** Opens the probe's request. */
    private readonly request: () => Promise<HubFileResponse>,
    /** Bytes the first stream has received so far. */
    private readonly received: () => number,
    /** Milliseconds, ascending (tests set their own). */
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Called as the first stream receives; a verdict once there is one (then never again). */
  tick(now = this.clock()): Verdict | undefined {
    if (this.phase === "done") return undefined;
    const stalled = this.phase === "baseline" && !this.opened && this.last >= 0 && now - this.last > STALL_MS && this.restarts < MAX_RESTARTS;
    if (stalled) this.restarts++;
    this.last = now;
    if (this.t0 < 0 || stalled) {
      this.t0 = now;
      this.b0 = this.received();
      return undefined;
    }
    if (this.phase === "baseline") {
      const ms = now - this.t0;
      if (ms < WINDOW_MS - LEAD_MS) return undefined;
      // Not ahead of time for a stream that looks fast: that one is not probed at all.
      if (!this.opened && (this.received() - this.b0) / ms < 0.8 * FAST) this.openProbe();
      if (ms < WINDOW_MS) return undefined;
      this.endFirstWindow(now, this.received());
      if (this.alone >= FAST) return this.decide("fast");
      if (!this.opened) this.openProbe();
      return undefined;
    }
    if (this.alone >= FAST) return this.decide("fast"); // the window ended at the probe's first byte
    if (this.failed) return this.decide("stay");
    if (this.probeT0 < 0) return undefined;
    const end = this.probeEnd >= 0 ? this.probeEnd : now;
    const ms = Math.max(1, end - this.probeT0);
    const first = (this.received() - this.probeB0) / ms;
    const probe = this.probeBytes / ms;
    const gain = (first + probe) / this.alone;
    // Half a window is enough when the answer is clearly yes (ranges start sooner); a no waits for all of it.
    // The first stream's pace must hold steady: if it rose, something else on the machine (or other files
    // of this download) finished, and the gain is not the probe's.
    const steady = first >= KEPT * this.alone && first <= STEADY * this.alone;
    if (this.probeEnd < 0 && ms < WINDOW_MS && !(ms >= WINDOW_MS / 2 && gain >= CLEAR_GAIN && steady && first >= CLEAR_KEPT * this.alone)) return undefined;
    return this.decide(gain >= GAIN && steady ? "split" : "stay");
  }

  private endFirstWindow(at: number, bytes: number): void {
    this.alone = (bytes - this.b0) / Math.max(1, at - this.t0);
    this.phase = "probing";
  }

  private openProbe(): void {
    this.opened = true;
    void this.runProbe();
  }

  private decide(v: Verdict): Verdict {
    this.phase = "done";
    this.stop();
    return v;
  }

  private get stopped(): boolean {
    return this.phase === "done";
  }

  /** Stops the probe's connection (also when the download ends first). */
  stop(): void {
    this.phase = "done";
    if (this.body) discardBody(this.body);
    this.body = undefined;
  }

  private async runProbe(): Promise<void> {
    try {
      const res = await this.request();
      if (this.stopped || res.status !== 206) {
        discardBody(res.body);
        this.failed = !this.stopped;
        return;
      }
      this.body = res.body;
      const count = (n: number) => {
        if (this.probeT0 < 0) {
          // From its first byte: its connection set-up is not throughput.
          this.probeT0 = this.clock();
          this.probeB0 = this.received();
          if (this.phase === "baseline") this.endFirstWindow(this.probeT0, this.probeB0);
          return;
        }
        this.probeBytes += n;
      };
      if (res.body instanceof DirectBody) {
        const scratch = Buffer.allocUnsafe(64 * 1024);
        await res.body.pipeTo({ buffer: () => scratch, data: (_b, n) => (count(n), true) });
      } else {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          count(chunk.length);
          if (this.stopped) break;
        }
      }
      this.probeEnd = this.clock();
    } catch {
      this.failed = true;
    }
  }
}
