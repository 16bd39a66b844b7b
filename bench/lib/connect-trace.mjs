// Preloaded into `modelscope download` by `download.bench.ts --trace` (node --import): when the client
// opens its TCP connections, in ms since the process started, appended as one JSON line per process to
// $BENCH_CONNECT_TRACE at exit. `parallelAt`: the first moment 3 connections were open at once (in
// scenario 2, the ranges: the first stream and the probe are two). `bigFirstByte`/`bigConnect`: when
// the connection that received the most bytes (scenario 1: the big file's) got its first bytes and
// when it was opened. Times measured inside the process hold better on a busy machine than wall times do.
import fs from "node:fs";
import net from "node:net";
import { performance } from "node:perf_hooks";

const out = process.env.BENCH_CONNECT_TRACE;
if (out) {
  const now = () => Math.round(performance.now() * 10) / 10;
  const connects = [];
  /** Per connection: [opened, first bytes in, bytes in]. */
  const sockets = [];
  const kTrace = Symbol("trace");
  const received = (s, n) => {
    if (n > 0 && s[1] < 0) s[1] = now();
    if (n > 0) s[2] += n;
  };
  let open = 0;
  let parallelAt = -1;
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    const t = now();
    connects.push(t);
    const s = [t, -1, 0];
    sockets.push(s);
    this[kTrace] = s;
    open++;
    if (open >= 3 && parallelAt < 0) parallelAt = t;
    this.once("close", () => open--);
    return connect.apply(this, args);
  };
  // The direct transport reads with `onread` (no push, no 'data' events), given to net.connect: count
  // through its callback.
  const netConnect = net.connect;
  net.connect = net.createConnection = function (...args) {
    const opts = args[0] && typeof args[0] === "object" ? args[0] : undefined;
    if (opts?.onread) {
      const cb = opts.onread.callback;
      let s;
      opts.onread = { ...opts.onread, callback: (n, buf) => (received(s, n), cb(n, buf)) };
      const sock = netConnect.apply(this, args);
      s = sock[kTrace];
      return sock;
    }
    return netConnect.apply(this, args);
  };
  // Every other socket (undici's) is read through push().
  const push = net.Socket.prototype.push;
  net.Socket.prototype.push = function (chunk, ...rest) {
    if (this[kTrace] && chunk) received(this[kTrace], chunk.length);
    return push.call(this, chunk, ...rest);
  };
  process.on("exit", () => {
    const big = sockets.reduce((a, b) => (b[2] > (a?.[2] ?? -1) ? b : a), undefined);
    fs.appendFileSync(out, `${JSON.stringify({ connects, parallelAt, bigConnect: big?.[0] ?? -1, bigFirstByte: big?.[1] ?? -1, exit: Math.round(performance.now()) })}\n`);
  });
}
