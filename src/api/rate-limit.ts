// Per-key request rate: a token bucket per access key (rate per second, burst), as App Mesh
// throttles each account; beyond it a request gets TooManyRequestsException.

export interface RateLimitOptions {
  /** Sustained requests per second per key. */
  readonly perSecond: number;
  /** Requests a key may make at once after being idle. */
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly options: RateLimitOptions, private readonly now: () => number = () => Date.now()) {}

  /** Takes one request's token for `key`; false when the key is over its rate. */
  take(key: string): boolean {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.options.burst, at: now };
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.options.perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
