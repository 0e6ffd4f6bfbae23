export interface Bucket {
  tokens: number;
  at: number;
}

/** A token bucket per key: `ratePerSecond` refill, at most `burst` tokens. */
export class RateLimiter {
  private readonly buckets = new Map<number, Bucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes one token; returns 0 when allowed, else the seconds until one is available. */
  take(key: number, now: number): number {
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    const tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      return Math.max(1, Math.ceil((1 - tokens) / this.ratePerSecond));
    }
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    return 0;
  }

  /** The bucket of `key` as it is now, for `restore` when what took its tokens is undone. */
  save(key: number): Bucket | undefined {
    return this.buckets.get(key);
  }

  restore(key: number, bucket: Bucket | undefined): void {
    if (bucket) this.buckets.set(key, bucket);
    else this.buckets.delete(key);
  }
}
