// Retries are silent in the library; a CLI on a terminal registers a notice here to say it is retrying
// (a refused connection would otherwise look like a hang). One process-wide listener.
import type { ModelScopeError } from "../errors.js";

export interface RetryInfo {
  /** The retry about to happen (1 = the first retry). */
  attempt: number;
  /** Retries allowed in all. */
  of: number;
  delayMs: number;
  error: ModelScopeError;
}

let listener: ((info: RetryInfo) => void) | undefined;

/** Sets (or, with undefined, clears) the process-wide retry listener. */
export function setRetryNotice(fn: ((info: RetryInfo) => void) | undefined): void {
  listener = fn;
}

export function noticeRetry(info: RetryInfo): void {
  listener?.(info);
}

/** A hub that refuses connections is down or the address is wrong: two quick retries, not the full backoff. */
export const REFUSED_MAX_RETRIES = 2;
