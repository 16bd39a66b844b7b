// Preloaded into `modelscope download` by `download.bench.ts --trace` (node --import): when the client
// opens its TCP connections, in ms since the process started, appended as one JSON line per process to
// $BENCH_CONNECT_TRACE at exit. `parallelAt`: the first moment 3 connections were open at once (in
// scenario 2, the ranges: the first stream and the probe are two). Times measured inside the process
// hold better on a busy machine than wall times do.
import fs from "node:fs";
import net from "node:net";
import { performance } from "node:perf_hooks";

const out = process.env.BENCH_CONNECT_TRACE;
if (out) {
  const connects = [];
  let open = 0;
  let parallelAt = -1;
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    const t = Math.round(performance.now() * 10) / 10;
    connects.push(t);
    open++;
    if (open >= 3 && parallelAt < 0) parallelAt = t;
    this.once("close", () => open--);
    return connect.apply(this, args);
  };
  process.on("exit", () => {
    fs.appendFileSync(out, `${JSON.stringify({ connects, parallelAt, exit: Math.round(performance.now()) })}\n`);
  });
}
