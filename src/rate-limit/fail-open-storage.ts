import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

const WARN_EVERY_MS = 10_000;

/**
 * Counts in the shared store and, when that store cannot answer (Redis down or
 * slow), lets the request through: rate limits protect the database from
 * bursts, and refusing every request during a Redis outage would turn a
 * cache outage into a full one. The library's storage has no such mode.
 */
export class FailOpenThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger('RateLimit');
  private lastWarning = 0;

  /**
   * `available` says whether the store is known to answer now; when it is
   * not, nothing waits on it. `failed` is told when a call fails, so the
   * cache on the same Redis stops waiting on it too.
   */
  constructor(
    private readonly inner: ThrottlerStorage,
    private readonly available: () => boolean,
    private readonly failed: () => void,
  ) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    if (!this.available()) return this.unlimited(ttl, 'the store is recovering');
    try {
      return await this.inner.increment(key, ttl, limit, blockDuration, throttlerName);
    } catch (error) {
      this.failed();
      return this.unlimited(ttl, (error as Error).message);
    }
  }

  private unlimited(ttl: number, reason: string): ThrottlerStorageRecord {
    if (Date.now() - this.lastWarning > WARN_EVERY_MS) {
      this.lastWarning = Date.now();
      this.logger.warn(`rate-limit store unavailable, not limiting: ${reason}`);
    }
    return { totalHits: 0, timeToExpire: Math.ceil(ttl / 1000), isBlocked: false, timeToBlockExpire: 0 };
  }
}
