import type { ThrottlerStorage } from '@nestjs/throttler';
import { RateLimiter } from './rate-limiter.js';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** @nestjs/throttler's storage on the RateLimiter: a caller over its limit is blocked until its window ends. */
export class RateLimiterStorage implements ThrottlerStorage {
  constructor(private readonly limiter: RateLimiter) {}

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const { allowed, count, retryAfterSeconds } = await this.limiter.consume(key, limit, ttl);
    return {
      totalHits: count,
      timeToExpire: retryAfterSeconds,
      isBlocked: !allowed,
      timeToBlockExpire: allowed ? 0 : retryAfterSeconds,
    };
  }
}
