// How much work a pickle asks of the unpickler, counted before it runs. Walks the opcodes (protocols
// 0-5, argument layouts from Python's pickle format) without building anything, and refuses a stream
// with too many opcodes or too many BUILDs: BUILD copies a (possibly shared, memoized) state into an
// object, so a small crafted file can ask for billions of copies (75 KB took 37 s in pickleparser).

/** How each opcode's argument is laid out: a fixed byte count, a length prefix of n bytes, or n lines. */
type Arg = { fixed: number } | { lenBytes: 1 | 4 | 8 } | { lines: 1 | 2 };

const NONE: Arg = { fixed: 0 };
const ARGS = new Map<number, Arg>();
const set = (ops: string | number[], arg: Arg) => {
  for (const op of typeof ops === "string" ? [...ops].map((c) => c.charCodeAt(0)) : ops) ARGS.set(op, arg);
};
// No argument: MARK STOP POP POP_MARK DUP NONE REDUCE APPEND BUILD DICT EMPTY_DICT APPENDS LIST EMPTY_LIST
// OBJ SETITEM TUPLE EMPTY_TUPLE SETITEMS BINPERSID; NEWOBJ TUPLE1-3 NEWTRUE NEWFALSE EMPTY_SET ADDITEMS
// FROZENSET NEWOBJ_EX STACK_GLOBAL MEMOIZE NEXT_BUFFER READONLY_BUFFER.
set("(.012NRabd}el]ost)uQ", NONE);
set([0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98], NONE);
set("Khq", { fixed: 1 }); // BININT1 BINGET BINPUT
set([0x80, 0x82], { fixed: 1 }); // PROTO EXT1
set("M", { fixed: 2 }); // BININT2
set([0x83], { fixed: 2 }); // EXT2
set("Jjr", { fixed: 4 }); // BININT LONG_BINGET LONG_BINPUT
set([0x84], { fixed: 4 }); // EXT4
set("G", { fixed: 8 }); // BINFLOAT
set([0x95], { fixed: 8 }); // FRAME
set("UC", { lenBytes: 1 }); // SHORT_BINSTRING SHORT_BINBYTES
set([0x8a, 0x8c], { lenBytes: 1 }); // LONG1 SHORT_BINUNICODE
set("TXB", { lenBytes: 4 }); // BINSTRING BINUNICODE BINBYTES
set([0x8b], { lenBytes: 4 }); // LONG4
set([0x8d, 0x8e, 0x96], { lenBytes: 8 }); // BINUNICODE8 BINBYTES8 BYTEARRAY8
set("ILSVFgpP", { lines: 1 }); // INT LONG STRING UNICODE FLOAT GET PUT PERSID
set("ci", { lines: 2 }); // GLOBAL INST

const BUILD = "b".charCodeAt(0);
const STOP = ".".charCodeAt(0);

export interface PickleBudget {
  maxOps: number;
  maxBuilds: number;
}

/** Why the pickle in `data` is over budget or malformed, or undefined when it may be unpickled. */
export function pickleOverBudget(data: Uint8Array, budget: PickleBudget): string | undefined {
  let ops = 0;
  let builds = 0;
  for (let pos = 0; pos < data.length; ) {
    const op = data[pos++]!;
    const arg = ARGS.get(op);
    if (!arg) return `unknown pickle opcode 0x${op.toString(16)}`;
    if (++ops > budget.maxOps) return `more than ${budget.maxOps} pickle operations`;
    if (op === BUILD && ++builds > budget.maxBuilds) return `more than ${budget.maxBuilds} objects to build`;
    if (op === STOP) return undefined;
    if ("fixed" in arg) pos += arg.fixed;
    else if ("lenBytes" in arg) {
      if (pos + arg.lenBytes > data.length) break;
      let len = 0;
      for (let i = arg.lenBytes - 1; i >= 0; i--) len = len * 256 + data[pos + i]!;
      pos += arg.lenBytes + len;
    } else {
      for (let n = 0; n < arg.lines; n++) {
        const nl = data.indexOf(0x0a, pos);
        if (nl < 0) return "truncated pickle";
        pos = nl + 1;
      }
    }
  }
  return "truncated pickle";
}
