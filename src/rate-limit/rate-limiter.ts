import { Injectable } from '@nestjs/common';

export interface RateVerdict {
  readonly allowed: boolean;
  /** When the caller may try again; 0 when allowed. */
  readonly retryAfterSeconds: number;
}

/**
 * Counts events per key in fixed windows.
 *
 * This implementation is in memory and per process (fixed windows in a Map):
 * its counts are not shared between instances, so behind a load balancer a
 * caller gets the limit once per instance. Callers use `consume` only.
 */
@Injectable()
export class RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private nextSweep = 0;

  consume(key: string, limit: number, windowMs: number): Promise<RateVerdict> {
    const now = Date.now();
    this.sweep(now);
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count += 1;
    const allowed = window.count <= limit;
    return Promise.resolve({ allowed, retryAfterSeconds: allowed ? 0 : Math.ceil((window.resetAt - now) / 1000) });
  }

  /** Forgets ended windows now and then, so keys of callers that left do not pile up. */
  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + 60_000;
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}
