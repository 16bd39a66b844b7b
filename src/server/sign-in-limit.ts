// Failed sign-ins are rate-limited per client address: a few at once, then one per interval, so guessing
// tokens at thousands a second is not possible. Past the limit every sign-in from that address is answered
// 429 with Retry-After, a right token included, without looking at it.

export interface SignInLimits {
  /** Failures allowed at once. */
  burst: number;
  /** One more failure is allowed per this many milliseconds. */
  refillMs: number;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = { burst: 10, refillMs: 6000 };

/** Addresses remembered at most; those with their full allowance are forgotten first. */
const MAX_ADDRESSES = 10_000;

export class SignInLimiter {
  private readonly buckets = new Map<string, { tries: number; at: number }>();

  constructor(private readonly limits: SignInLimits) {}

  /** Seconds this address must wait before its next sign-in; 0 when it may try now. */
  retryAfter(address: string, now = Date.now()): number {
    const tries = this.tries(address, now);
    return tries >= 1 ? 0 : Math.max(1, Math.ceil(((1 - tries) * this.limits.refillMs) / 1000));
  }

  failed(address: string, now = Date.now()): void {
    const tries = this.tries(address, now) - 1;
    this.buckets.delete(address); // re-inserted last: the Map's order is then least recently failed first
    this.buckets.set(address, { tries, at: now });
    if (this.buckets.size > MAX_ADDRESSES) this.prune(now);
  }

  private tries(address: string, now: number): number {
    const b = this.buckets.get(address);
    if (!b) return this.limits.burst;
    return Math.min(this.limits.burst, b.tries + (now - b.at) / this.limits.refillMs);
  }

  private prune(now: number): void {
    for (const address of this.buckets.keys()) if (this.tries(address, now) >= this.limits.burst) this.buckets.delete(address);
    for (const address of this.buckets.keys()) {
      if (this.buckets.size <= MAX_ADDRESSES) break;
      this.buckets.delete(address);
    }
  }
}
