// Download progress on a terminal: one bar with bytes, speed, ETA and files done, on stderr.
// Nothing at all when stderr is not a terminal (piped, CI logs).
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
  const t0 = Date.now();
  let speedBase = { t: Date.now(), bytes: 0 };
  let speed = 0;
  let windows = 0;
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: "{bar} {percentage}% | {doneH}/{totalH} | {speedH}/s | ETA {etaH} | {files}",
      hideCursor: true,
      clearOnComplete: false,
      barsize: 30,
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
      etaH: Number.isFinite(eta) ? `${Math.round(eta)}s` : "-",
      files: `${filesDone}/${filesTotal} files`,
    };
  };
  return {
    onEvent(e) {
      if (e.type === "plan") {
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
      }
    },
  };
}
