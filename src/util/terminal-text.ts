// Text from outside (a server's message, a user name, a file name) is escaped before it reaches a
// terminal: control characters (C0, DEL, C1, which start escape sequences and move the cursor), line
// breaks (one line stays one line) and bidirectional overrides become visible \xHH / \u{HHHH} escapes.
// A backslash stays as it is: the escapes are for a reader, not for decoding.

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

function escape(ch: string): string {
  const code = ch.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
}

/** One line of outside text, safe to print: every control character escaped. */
export function forTerminal(text: string): string {
  return String(text).replace(UNSAFE, escape);
}

/** Whether `text` holds a character forTerminal would escape. */
export function hasControlChars(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}

/** Several lines (our own line breaks kept), each made safe. */
export function linesForTerminal(text: string): string {
  return text.split("\n").map(forTerminal).join("\n");
}

/** JSON for a terminal: JSON.stringify escapes C0 controls itself; the rest (DEL, C1, bidi) as \uHHHH. */
export function jsonForTerminal(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
