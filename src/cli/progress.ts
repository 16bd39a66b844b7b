// Download progress on a terminal: one bar with bytes, speed, ETA and files done, on stderr, fitted to
// the terminal's width. Nothing when stderr is not a terminal (piped, CI logs): the command prints one
// summary line at the end instead.
import type { ProgressEvent } from "../download/types.js";

function human(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export { human as humanBytes };

/** Seconds as a short duration: `45s`, `1m23s`, `2h05m`. */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * The bar's layout for a terminal this wide: everything on a wide one; on a narrow one, speed and file
 * counts go first, then the byte counts, and the bar shrinks, so the line never wraps.
 */
export function barLayout(columns: number): { format: string; barsize: number } {
  const clamp = (n: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, n));
  if (columns >= 100) return { format: "{bar} {percentage}% | {doneH}/{totalH} | {speedH}/s | ETA {etaH} | {files}", barsize: clamp(columns - 78, 10, 30) };
  if (columns >= 64) return { format: "{bar} {percentage}% | {doneH}/{totalH} | ETA {etaH}", barsize: clamp(columns - 46, 10, 30) };
  if (columns >= 32) return { format: "{bar} {percentage}% ETA {etaH}", barsize: clamp(columns - 20, 8, 30) };
  return { format: "{percentage}% ETA {etaH}", barsize: 0 };
}

export interface ProgressView {
  onEvent(e: ProgressEvent): void;
  stop(): void;
}

export async function createProgress(enabled: boolean): Promise<ProgressView> {
  if (!enabled) return { onEvent: () => undefined, stop: () => undefined };
  const { SingleBar } = await import("cli-progress");
  let total = 0;
  let done = 0;
  let filesTotal = 0;
  let filesDone = 0;
  let started = false;
  let t0 = Date.now();
  let speedBase = { t: Date.now(), bytes: 0 };
  let speed = 0;
  let windows = 0;
  // A pseudo-terminal may report no size (0): then COLUMNS, then the classic 80.
  const layout = barLayout(process.stderr.columns || Number(process.env.COLUMNS) || 80);
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: layout.format,
      hideCursor: true,
      clearOnComplete: false,
      barsize: layout.barsize,
      fps: 8,
    },
    { format: "", barCompleteChar: "█", barIncompleteChar: "░" },
  );
  const payload = () => {
    const now = Date.now();
    if (now - speedBase.t >= 1000) {
      // Speed over the last second, smoothed; the first window replaces the rough start-up estimate.
      const inst = ((done - speedBase.bytes) * 1000) / (now - speedBase.t);
      speed = windows === 0 ? inst : speed * 0.6 + inst * 0.4;
      windows++;
      speedBase = { t: now, bytes: done };
    } else if (windows === 0 && now > t0) {
      speed = (done * 1000) / Math.max(1, now - t0);
    }
    const eta = speed > 0 ? Math.max(0, (total - done) / speed) : NaN;
    return {
      doneH: human(done),
      totalH: human(total),
      speedH: human(speed),
      etaH: Number.isFinite(eta) ? humanDuration(eta) : "-",
      files: `${filesDone}/${filesTotal} files`,
    };
  };
  return {
    onEvent(e) {
      if (e.type === "plan") {
        // A new plan (the next model of a `deepcompressor fetch`): finish the last bar, start a fresh one.
        if (started) bar.stop();
        started = false;
        done = 0;
        speed = 0;
        windows = 0;
        t0 = Date.now();
        speedBase = { t: t0, bytes: 0 };
        const todo = e.files.filter((f) => !f.cached);
        total = todo.reduce((a, f) => a + f.size, 0);
        filesTotal = e.files.length;
        filesDone = e.files.length - todo.length;
        if (todo.length === 0) return;
        bar.start(Math.max(1, total), 0, payload());
        started = true;
      } else if (e.type === "bytes") {
        done = Math.max(0, done + e.bytes);
      } else if (e.type === "file-start" && e.resumeFrom > 0) {
        // Bytes already on disk count toward the total, not toward the speed.
        done += e.resumeFrom;
        speedBase.bytes += e.resumeFrom;
      } else if (e.type === "file-done") {
        if (e.status !== "cached") filesDone++;
      }
      if (started) bar.update(Math.min(done, total), payload());
    },
    stop() {
      if (started) {
        bar.update(Math.min(done, total), payload());
        bar.stop();
        started = false;
      }
    },
  };
}
