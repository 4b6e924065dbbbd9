// Token buckets, one per API key: `rate` tokens a second, at most `burst` saved up. A request
// takes one token or is told how long to wait (429 with Retry-After).

export class RateLimiter {
  private buckets = new Map<string | number, { tokens: number; at: number }>();

  constructor(private readonly rate: number, private readonly burst: number, private readonly now = () => Date.now()) {}

  /** 0 when the request may proceed; otherwise whole seconds until a token is available. */
  take(key: string | number): number {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate);
    b.at = t;
    this.buckets.set(key, b);
    if (this.buckets.size > 100000) this.forgetFull(t);
    if (b.tokens >= 1) { b.tokens -= 1; return 0; }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.rate));
  }

  /** A bucket that would be full again is the same as no bucket: dropping it bounds memory. */
  private forgetFull(t: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + ((t - b.at) / 1000) * this.rate >= this.burst) this.buckets.delete(k);
  }
}
