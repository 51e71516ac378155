import { readEnvironment } from '@recon/config';
export const DEFAULT_AUTH_FAILURES_PER_MINUTE = 30;

/** RECON_AUTH_FAILURES_PER_MINUTE: refused tokens a client address may present per minute (default 30). */
export function authFailuresPerMinuteFromEnv(): number {
  return readEnvironment('RECON_AUTH_FAILURES_PER_MINUTE') ?? DEFAULT_AUTH_FAILURES_PER_MINUTE;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Above this many tracked addresses, those whose bucket has refilled are forgotten, then the longest-tracked
 * ones until a tenth of the room is free again (memory stays bounded under many addresses).
 */
const TRACKED_ADDRESSES = 10_000;

/**
 * A token bucket per client address for refused credentials: each refusal takes a token, the bucket refills
 * at `perMinute` a minute up to `perMinute`, and an address with an empty bucket is refused (HTTP 429) before
 * any credential it sends is checked, so guessing tokens costs a minute per `perMinute` guesses.
 */
export class AuthFailureLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `address` may present a credential again; 0 when it may now. */
  retryAfterSeconds(address: string): number {
    const bucket = this.refilled(address);
    if (!bucket || bucket.tokens >= 1) return 0;
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * 60) / this.perMinute));
  }

  /** Records a refused credential from `address`. */
  recordFailure(address: string): void {
    const bucket = this.refilled(address) ?? { tokens: this.perMinute, updatedAt: this.now() };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.buckets.set(address, bucket);
    if (this.buckets.size > TRACKED_ADDRESSES) this.forgetRefilled();
  }

  private refilled(address: string): Bucket | undefined {
    const bucket = this.buckets.get(address);
    if (!bucket) return undefined;
    const now = this.now();
    bucket.tokens = Math.min(
      this.perMinute,
      bucket.tokens + ((now - bucket.updatedAt) * this.perMinute) / 60_000,
    );
    bucket.updatedAt = now;
    return bucket;
  }

  private forgetRefilled(): void {
    for (const address of [...this.buckets.keys()]) {
      if ((this.refilled(address)?.tokens ?? 0) >= this.perMinute) this.buckets.delete(address);
    }
    for (const address of this.buckets.keys()) {
      if (this.buckets.size <= TRACKED_ADDRESSES * 0.9) break;
      this.buckets.delete(address);
    }
  }
}

/** The message of the 429 answer. */
export function authFailureLimitMessage(limiter: AuthFailureLimiter, retryAfter: number): string {
  return `too many refused API tokens from this address: at most ${limiter.perMinute} per 60 s; retry in ${retryAfter} s`;
}

export const AUTH_FAILURE_LIMITER = Symbol('recon.auth-failure-limiter');
