// Where a JSON text stops being JSON. V8's JSON.parse says "at position N" for some mistakes but not for
// others ("Unexpected token ','", a bare word); this finds the place for all of them, so a hand-edited
// file's error can name its line and column without quoting its text.

const WS = new Set([" ", "\t", "\n", "\r"]);
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

/** The offset of the first character that cannot continue valid JSON (text.length: it ends too soon); -1 if the text is JSON. */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw new JsonStop(i);
  };
  const ws = () => {
    while (WS.has(text[i]!)) i++;
  };
  const expect = (c: string) => {
    if (text[i] !== c) fail();
    i++;
  };
  const matches = (re: RegExp) => {
    re.lastIndex = i;
    return re.exec(text)?.[0].length ?? 0;
  };
  const string = () => {
    expect('"');
    for (;;) {
      const c = text[i];
      if (c === undefined || c < " ") fail();
      i++;
      if (c === '"') return;
      if (c !== "\\") continue;
      if (text[i] === "u") {
        i++;
        if (!matches(HEX4)) fail();
        i += 4;
      } else if (ESCAPES.has(text[i]!)) i++;
      else fail();
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === "{") {
          ws();
          string();
          ws();
          expect(":");
        }
        value();
        ws();
        if (text[i] !== ",") return expect(close);
        i++;
      }
    }
    if (c === '"') return string();
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    const n = matches(NUMBER);
    if (!n) fail();
    i += n;
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return -1;
  } catch (err) {
    if (err instanceof JsonStop) return err.offset;
    return -1; // nested too deep to follow: the caller says it without a place
  }
}

class JsonStop {
  constructor(readonly offset: number) {}
}
