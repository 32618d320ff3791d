import { Inject, Injectable, Optional } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TokenService } from '../auth/token.service.js';
import { Clock } from '../common/clock.js';
import { asksNoCache } from '../common/no-cache.decorator.js';
import { AppConfig } from '../config/app-config.js';
import { Telemetry } from '../observability/telemetry.service.js';
import { callerTracker, limitKey } from '../rate-limit/rate-limit-keys.js';
import { RateLimiter, type RateLimitDecision } from '../rate-limit/rate-limiter.js';
import { RedisHealth } from '../redis/redis-health.js';
import { LUA_INCARNATION, defineScript } from '../redis/redis-script.js';
import { CacheInvalidator } from './cache-invalidator.service.js';
import { CacheKeys } from './cache-keys.js';
import type { CacheSection, Scope } from './cache-scopes.js';
import { cachedHeaders, matchesEtag } from './cached-response.headers.js';
import { answers, deserializeBytes } from './stored-result.js';

/** Where a served result lives: enough to find it again under the generations of the moment. */
export interface ResultAddress {
  readonly organizationId: number;
  readonly section: CacheSection;
  readonly digest: string;
  readonly scopes: readonly Scope[];
  /**
   * Until when the request that produced it resolves to the same normalized
   * query: the end of the minute it was resolved in, since `period` ranges
   * end at the next whole minute; earlier when the clock changes the result.
   */
  readonly validUntil: number;
}

interface Remembered extends ResultAddress {
  readonly key: string;
}

/** The per-caller limit's decision, made by the read script, for the rate-limit guard to reuse. */
export const PRECOUNTED = Symbol('pulse.precounted');
declare module 'fastify' {
  interface FastifyRequest {
    [PRECOUNTED]?: RateLimitDecision;
  }
}

const MAX_REMEMBERED = 10_000;
const ANALYTICS_GET = /^\/api\/v1\/analytics\/(time-series|dashboard|performance|distribution)\b/;

/**
 * Counts the caller's request, reads the generations of the result's scopes,
 * builds its key and reads it: one round trip, in the organization's slot.
 * The entry key is built here from keys of that slot, so it hashes there too.
 */
const READ_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
if n > tonumber(ARGV[2]) then return {n, ttl, false} end
${LUA_INCARNATION}
local tag = incarnation
for i = 3, #KEYS do tag = tag .. '.' .. (redis.call('GET', KEYS[i]) or '0') end
local value = redis.call('GET', ARGV[3] .. tag)
if value then redis.call('HINCRBY', KEYS[2], 'hits', 1) end
return {n, ttl, value}`;

/**
 * The hot path of a cached read. A GET that was answered through the whole
 * pipeline (authentication, validation, range resolution, the cached
 * executor) leaves here where its result lives; the same URL of the same
 * organization, asked again within the same minute, is then answered before
 * any of that runs: the token verified, one Redis script (rate limit,
 * generations, entry), and the stored bytes sent as stored. Anything else —
 * an unknown URL, a miss, a forced recompute, a Redis that is not answering
 * well, an invalidation owed — goes on through the whole pipeline, which
 * gives exactly the same answer, only at a higher cost.
 *
 * Written here rather than taken from a library: it is the cached executor's
 * own key scheme and read-your-writes rule, run one layer earlier.
 */
@Injectable()
export class CachedReads {
  private readonly remembered = new Map<string, Remembered>();
  private readonly windowMs: number;
  private readonly limit: number;
  private readonly read?: (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

  constructor(
    private readonly tokens: TokenService,
    private readonly keys: CacheKeys,
    private readonly invalidator: CacheInvalidator,
    private readonly limiter: RateLimiter,
    private readonly telemetry: Telemetry,
    private readonly clock: Clock,
    config: AppConfig,
    @Optional() @Inject(RedisHealth) private readonly redis: RedisHealth | null,
  ) {
    this.windowMs = config.rateLimitWindowSeconds * 1000;
    this.limit = config.rateLimitRequests;
    // Bulk replies as Buffers: the stored body goes out as the bytes Redis sent.
    if (redis) this.read = defineScript(redis.client, 'pulseCachedRead', READ_SCRIPT, { buffers: true });
  }

  /** Called for every GET answered from the cache or computed into it. */
  remember(url: string, address: ResultAddress): void {
    if (!this.redis || !ANALYTICS_GET.test(url)) return;
    const key = `${address.organizationId}|${url}`;
    this.remembered.delete(key);
    if (this.remembered.size >= MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(key, { ...address, key });
  }

  /** Fastify preHandler: answers a remembered read that hits, or lets the request go on. */
  readonly hook = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const redis = this.redis;
    if (request.method !== 'GET' || !redis || redis.state !== 'up' || !this.invalidator.inSync()) return;
    if (asksNoCache(request.headers['cache-control'])) return;
    const principal = this.tokens.fromHeader(request.headers.authorization);
    if (!principal) return;
    const address = this.remembered.get(`${principal.organizationId}|${request.url}`);
    if (!address) return;
    const startedAt = this.clock.now().getTime();
    if (startedAt >= address.validUntil) {
      this.remembered.delete(address.key);
      return;
    }
    const rateKey = limitKey(callerTracker(principal), 'default');
    let reply3: [number, number, Buffer | null];
    try {
      reply3 = (await redis.call(() =>
        this.read!(
          [
            this.limiter.redisKey(rateKey),
            this.keys.counters(address.organizationId),
            ...address.scopes.map((scope) => this.keys.generation(address.organizationId, scope)),
          ],
          [this.windowMs, this.limit, this.keys.entry(address.organizationId, address.section, address.digest, '')],
        ),
      )) as [number, number, Buffer | null];
    } catch {
      return;
    }
    const [count, msLeft, stored] = reply3;
    // Counted once: the rate-limit guard reuses this decision if the request goes on.
    request[PRECOUNTED] = this.limiter.counted(rateKey, count, this.limit, msLeft);
    if (stored === null || !request[PRECOUNTED].allowed) return;
    // Another instance may have stored it; whoever did, a result the clock has changed is never sent.
    const result = deserializeBytes(stored);
    if (!answers(result, startedAt)) return;
    const { etag, body } = result;
    this.telemetry.cacheResults.inc({ section: address.section, result: 'HIT' });
    const { retryAfterSeconds } = request[PRECOUNTED];
    void reply.headers({
      ...cachedHeaders('HIT', etag),
      'x-ratelimit-limit': this.limit,
      'x-ratelimit-remaining': Math.max(0, this.limit - count),
      'x-ratelimit-reset': retryAfterSeconds,
    });
    if (matchesEtag(request.headers['if-none-match'], etag)) return reply.code(304).send();
    return reply.code(200).type('application/json; charset=utf-8').send(body);
  };
}
