import { Injectable } from '@nestjs/common';
import type { ChainableCommander } from 'ioredis';
import { RedisHealth } from '../redis/redis-health.js';
import { defineScript, luaGenerationTag } from '../redis/redis-script.js';
import { CacheKeys } from './cache-keys.js';
import type { Scope } from './cache-scopes.js';
import { CacheStore } from './cache-store.js';

const UNLOCK_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** Takes the lock under ARGV[1] for ARGV[2] ms, or finds it held under ARGV[1] already: 1; held by another: 0. */
const LOCK_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0`;

/**
 * KEYS[1] the organization's counters, KEYS[2..] the generations; ARGV[1]
 * the entry key without its tag (in the same slot). The tag starts with the
 * incarnation of the server that runs the script, read in the same atomic
 * step as the generations (see README: failover).
 */
const LOOKUP_SCRIPT = `
${luaGenerationTag(2)}
local value = redis.call('GET', ARGV[1] .. tag)
if value then redis.call('HINCRBY', KEYS[1], 'hits', 1) end
return {tag, value}`;

/**
 * The tag, as the lookup script builds it, without reading an entry. KEYS[1]
 * (the organization's counters, not read) names the organization's slot even
 * when no generation is asked for, so the incarnation is always that slot's.
 */
const GENERATIONS_SCRIPT = `
${luaGenerationTag(2)}
return tag`;

/**
 * The cache's storage on Redis. Every call goes through RedisHealth, which
 * gives it its deadline, fails it at once while Redis is down, and learns
 * from it whether Redis answers; the tag of every result starts with the
 * incarnation of the server that holds its generations, read by the same
 * script that reads them.
 */
@Injectable()
export class RedisCacheStore extends CacheStore {
  private readonly lookupScript: (keys: readonly string[], args: readonly string[]) => Promise<[string, string | null]>;
  private readonly generationsScript: (keys: readonly string[], args: readonly string[]) => Promise<string>;
  private readonly lockScript: (keys: readonly string[], args: readonly (string | number)[]) => Promise<number>;

  constructor(
    private readonly redis: RedisHealth,
    private readonly keys: CacheKeys,
  ) {
    super();
    this.lookupScript = defineScript(redis.client, 'pulseCacheLookup', LOOKUP_SCRIPT);
    this.generationsScript = defineScript(redis.client, 'pulseGenerations', GENERATIONS_SCRIPT);
    this.lockScript = defineScript(redis.client, 'pulseLock', LOCK_SCRIPT);
  }

  /** The generations, the entry and the hit count in one script: one round trip. */
  override async lookup(
    organizationId: number,
    scopes: readonly Scope[],
    entryPrefix: string,
  ): Promise<{ tag: string; value: string | null }> {
    const [tag, value] = await this.redis.call(() =>
      this.lookupScript(
        [this.keys.counters(organizationId), ...scopes.map((scope) => this.keys.generation(organizationId, scope))],
        [entryPrefix],
      ),
    );
    return { tag, value };
  }

  async generations(organizationId: number, scopes: readonly Scope[]): Promise<string> {
    return this.redis.call(() =>
      this.generationsScript(
        [this.keys.counters(organizationId), ...scopes.map((scope) => this.keys.generation(organizationId, scope))],
        [],
      ),
    );
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

  async tryLock(
    key: string,
    ttlMs: number,
    token = `${process.pid}:${Math.random().toString(36).slice(2)}`,
  ): Promise<string | null> {
    const taken = await this.redis.call(() => this.lockScript([key], [token, ttlMs]));
    return taken === 1 ? token : null;
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
async function exec(pipeline: ChainableCommander): Promise<void> {
  const results = await pipeline.exec();
  const failed = results?.find(([error]) => error);
  if (!results || failed) throw failed?.[0] ?? new Error('pipeline was not executed');
}
