import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisHealth } from '../redis/redis-health.js';
import { CacheKeys } from './cache-keys.js';
import type { Scope } from './cache-scopes.js';
import { CacheStore } from './cache-store.js';

const UNLOCK_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * The cache's storage on Redis. Every call goes through RedisHealth, which
 * gives it its deadline, fails it at once while Redis is down, and learns
 * from it whether Redis answers; the tag of every result starts with the
 * incarnation RedisHealth read from the server.
 */
@Injectable()
export class RedisCacheStore extends CacheStore {
  constructor(
    private readonly redis: RedisHealth,
    private readonly keys: CacheKeys,
  ) {
    super();
  }

  async generations(organizationId: number, scopes: readonly Scope[]): Promise<string> {
    const values = await this.redis.call((r) =>
      r.mget(scopes.map((scope) => this.keys.generation(organizationId, scope))),
    );
    return [this.redis.incarnation, ...values.map((v) => v ?? '0')].join('.');
  }

  async bump(organizationId: number, scopes: readonly Scope[]): Promise<void> {
    await this.redis.call((r) => {
      const pipeline = r.pipeline();
      for (const scope of scopes) pipeline.incr(this.keys.generation(organizationId, scope));
      return exec(pipeline);
    });
  }

  async get(key: string): Promise<string | null> {
    return this.redis.call((r) => r.get(key));
  }

  async set(organizationId: number, key: string, value: string, ttlMs: number, member: string): Promise<void> {
    const index = this.keys.index(organizationId);
    const now = Date.now();
    await this.redis.call((r) =>
      exec(
        r
          .pipeline()
          .set(key, value, 'PX', ttlMs)
          .zadd(index, now + ttlMs, member)
          .zremrangebyscore(index, '-inf', now)
          .pexpire(index, ttlMs),
      ),
    );
  }

  async tryLock(key: string, ttlMs: number): Promise<string | null> {
    const token = `${process.pid}:${Math.random().toString(36).slice(2)}`;
    const reply = await this.redis.call((r) => r.set(key, token, 'PX', ttlMs, 'NX'));
    return reply === 'OK' ? token : null;
  }

  async unlock(key: string, token: string): Promise<void> {
    await this.redis.call((r) => r.eval(UNLOCK_SCRIPT, 1, key, token));
  }

  async countResult(organizationId: number, result: 'hits' | 'misses'): Promise<void> {
    await this.redis.call((r) => r.hincrby(this.keys.counters(organizationId), result, 1));
  }

  async counters(organizationId: number): Promise<{ hits: number; misses: number }> {
    const [hits, misses] = await this.redis.call((r) => r.hmget(this.keys.counters(organizationId), 'hits', 'misses'));
    return { hits: Number(hits ?? 0), misses: Number(misses ?? 0) };
  }

  async entries(organizationId: number): Promise<string[]> {
    return this.redis.call((r) => r.zrangebyscore(this.keys.index(organizationId), Date.now(), '+inf'));
  }
}

/** Runs a pipeline and fails if any of its commands failed. */
async function exec(pipeline: ReturnType<Redis['pipeline']>): Promise<void> {
  const results = await pipeline.exec();
  const failed = results?.find(([error]) => error);
  if (!results || failed) throw failed?.[0] ?? new Error('pipeline was not executed');
}
