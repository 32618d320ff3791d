import { Inject, Injectable, Optional } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { RedisHealth } from '../redis/redis-health.js';
import { defineScript } from '../redis/redis-script.js';

export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Calls counted in the current window, this one included. */
  readonly count: number;
  /** Seconds until the window ends (at least 1). */
  readonly retryAfterSeconds: number;
}

/** The per-caller limit's decision, made by the hot path's read script (CachedReads), for the rate-limit guard to reuse. */
export const PRECOUNTED = Symbol('pulse.precounted');
declare module 'fastify' {
  interface FastifyRequest {
    [PRECOUNTED]?: RateLimitDecision;
  }
}

interface Window {
  count: number;
  resetAt: number;
}

/** One atomic fixed-window count per key: the count and the milliseconds left. */
const CONSUME_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

const SWEEP_ABOVE = 10_000;

/**
 * Fixed-window rate limits shared by every instance through Redis: one
 * script call per decision, with a deadline of twice a cache read's. A slow
 * or absent Redis never turns the
 * limits off: each instance mirrors the counts Redis gave it, and while
 * Redis does not answer it goes on counting locally from there, so a burst
 * during an outage is held to the limit on each instance instead of let
 * through. In embedded mode (no Redis) the local count is the only one.
 */
@Injectable()
export class RateLimiter {
  private readonly local = new Map<string, Window>();
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private lastSweep = 0;
  private readonly script?: (keys: readonly string[], args: readonly (string | number)[]) => Promise<[number, number]>;

  constructor(
    config: AppConfig,
    @Optional() @Inject(RedisHealth) private readonly redis: RedisHealth | null,
  ) {
    this.prefix = `${config.redisKeyPrefix}:rl`;
    // A slow reply is worth waiting for a little longer than a cache read: a
    // local count cannot see the other instances' calls.
    this.timeoutMs = Math.max(500, 2 * config.redisCommandTimeoutMs);
    if (redis) this.script = defineScript(redis.client, 'pulseRateLimit', CONSUME_SCRIPT);
  }

  /**
   * Counts one call against `key`, which names its Redis Cluster slot in
   * braces (`{o<org>}…` for an organization's callers, so the count lives in
   * the organization's slot with its cache keys).
   */
  async consume(key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
    const now = Date.now();
    if (this.redis?.isAvailable()) {
      try {
        const [count, ttl] = await this.redis.call(
          () => this.script!([this.redisKey(key)], [windowMs]),
          this.timeoutMs,
        );
        this.mirror(key, count, now + ttl);
        return decision(count, limit, ttl);
      } catch {
        // Counted locally below, from what Redis said last.
      }
    }
    return this.countLocally(key, limit, windowMs, now);
  }

  redisKey(key: string): string {
    return `${this.prefix}:${key}`;
  }

  /**
   * A decision Redis made elsewhere (the cached-read script counts in the
   * same call that reads the entry): mirrored so a later local count
   * continues from it.
   */
  counted(key: string, count: number, limit: number, msLeft: number): RateLimitDecision {
    this.mirror(key, count, Date.now() + msLeft);
    return decision(count, limit, msLeft);
  }

  private countLocally(key: string, limit: number, windowMs: number, now: number): RateLimitDecision {
    let window = this.local.get(key);
    if (!window || window.resetAt <= now) {
      if (this.local.size >= SWEEP_ABOVE) this.sweep(now);
      window = { count: 0, resetAt: now + windowMs };
      this.local.set(key, window);
    }
    window.count += 1;
    return decision(window.count, limit, window.resetAt - now);
  }

  private mirror(key: string, count: number, resetAt: number): void {
    const window = this.local.get(key);
    if (window && window.resetAt > Date.now()) {
      window.count = Math.max(window.count, count);
      window.resetAt = resetAt;
      return;
    }
    if (this.local.size >= SWEEP_ABOVE) this.sweep(Date.now());
    this.local.set(key, { count, resetAt });
  }

  /** At most once a second, so a map of many live keys is not walked on every call. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    for (const [key, window] of this.local) if (window.resetAt <= now) this.local.delete(key);
  }
}

function decision(count: number, limit: number, msLeft: number): RateLimitDecision {
  return { allowed: count <= limit, count, retryAfterSeconds: Math.max(1, Math.ceil(msLeft / 1000)) };
}
