// A minimal Python pickle writer (protocol 2): just enough to write the official client's login, a
// `requests` RequestsCookieJar of http.cookiejar Cookies. Plain objects are written the way Python's own
// pickle writes them (class, `__new__` with no arguments, then `__dict__` as the BUILD state), so
// Python's `pickle.load` rebuilds real instances and needs only the modules named (stdlib + requests).

/** A value that pickles: None, bool, int, str, tuple, dict with string keys, or an object. */
export type PyValue = null | boolean | number | string | PyTuple | PyDict | PyObject;

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A dict, keys in insertion order. */
export class PyDict {
  constructor(readonly entries: [string, PyValue][]) {}
}

/** An instance of `module.name` whose `__dict__` (BUILD state) is `state`. */
export class PyObject {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly state: PyDict,
  ) {}
}

const PROTO = 0x80;
const STOP = 0x2e; // .
const NONE = 0x4e; // N
const NEWTRUE = 0x88;
const NEWFALSE = 0x89;
const BININT = 0x4a; // J: 4-byte signed little-endian
const LONG1 = 0x8a; // 1-byte length + two's complement little-endian
const BINUNICODE = 0x58; // X: 4-byte length + utf-8
const EMPTY_TUPLE = 0x29; // )
const MARK = 0x28; // (
const TUPLE = 0x74; // t
const EMPTY_DICT = 0x7d; // }
const SETITEMS = 0x75; // u
const GLOBAL = 0x63; // c: "module\nname\n"
const NEWOBJ = 0x81;
const BUILD = 0x62; // b

/** Pickles `value` (protocol 2, no memo: every object is written once). */
export function pickle(value: PyValue): Buffer {
  const out: Buffer[] = [Buffer.from([PROTO, 2])];
  write(value, out);
  out.push(Buffer.from([STOP]));
  return Buffer.concat(out);
}

function write(v: PyValue, out: Buffer[]): void {
  if (v === null) out.push(Buffer.from([NONE]));
  else if (typeof v === "boolean") out.push(Buffer.from([v ? NEWTRUE : NEWFALSE]));
  else if (typeof v === "number") writeInt(v, out);
  else if (typeof v === "string") writeStr(v, out);
  else if (v instanceof PyTuple) {
    if (v.items.length === 0) out.push(Buffer.from([EMPTY_TUPLE]));
    else {
      out.push(Buffer.from([MARK]));
      for (const item of v.items) write(item, out);
      out.push(Buffer.from([TUPLE]));
    }
  } else if (v instanceof PyDict) {
    out.push(Buffer.from([EMPTY_DICT]));
    if (v.entries.length === 0) return;
    out.push(Buffer.from([MARK]));
    for (const [k, val] of v.entries) {
      writeStr(k, out);
      write(val, out);
    }
    out.push(Buffer.from([SETITEMS]));
  } else if (v instanceof PyObject) {
    for (const part of [v.module, v.name]) {
      if (!/^[A-Za-z_][\w.]*$/.test(part)) throw new Error(`Not a Python name: ${part}`);
    }
    out.push(Buffer.from([GLOBAL]), Buffer.from(`${v.module}\n${v.name}\n`, "ascii"), Buffer.from([EMPTY_TUPLE, NEWOBJ]));
    write(v.state, out);
    out.push(Buffer.from([BUILD]));
  } else {
    throw new Error(`Cannot pickle ${String(v)}`);
  }
}

function writeInt(n: number, out: Buffer[]): void {
  if (!Number.isSafeInteger(n)) throw new Error(`Only whole numbers pickle as int: ${n}`);
  if (n >= -0x80000000 && n <= 0x7fffffff) {
    const b = Buffer.alloc(5);
    b[0] = BININT;
    b.writeInt32LE(n, 1);
    out.push(b);
    return;
  }
  // Two's complement, little-endian, as short as it goes (8 bytes hold every safe integer).
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64LE(BigInt(n));
  let len = 8;
  while (len > 1) {
    const top = bytes[len - 1]!;
    const next = bytes[len - 2]!;
    if ((top === 0 && next < 0x80) || (top === 0xff && next >= 0x80)) len--;
    else break;
  }
  out.push(Buffer.from([LONG1, len]), bytes.subarray(0, len));
}

function writeStr(s: string, out: Buffer[]): void {
  const data = Buffer.from(s, "utf8");
  const head = Buffer.alloc(5);
  head[0] = BINUNICODE;
  head.writeUInt32LE(data.length, 1);
  out.push(head, data);
}
