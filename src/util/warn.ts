// One-line warnings for things a run works around (an unreadable file it ignores, a listing without
// hashes): on stderr, each at most once per process, in the user's language, escaped for the terminal.
// Library users may take them elsewhere with setWarningSink.
import { messageLanguage } from "../settings.js";
import { forTerminal } from "./terminal-text.js";

export interface WarningText {
  en: string;
  zh: string;
}

const said = new Set<string>();
let sink: (line: string) => void = (line) => {
  process.stderr.write(`${line}\n`);
};

/** Where warnings go (default: a line on stderr). */
export function setWarningSink(fn: (line: string) => void): void {
  sink = fn;
}

/** Says `text` once per process for `key` (later calls with the same key are silent). */
export function warnOnce(key: string, text: WarningText): void {
  if (said.has(key)) return;
  said.add(key);
  const zh = messageLanguage() === "zh";
  sink(forTerminal(`${zh ? "警告：" : "Warning: "}${zh ? text.zh : text.en}`));
}
