import { Inject, Injectable, Optional } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TokenService } from '../auth/token.service.js';
import { Clock } from '../common/clock.js';
import { asksNoCache } from '../common/no-cache.decorator.js';
import { AppConfig } from '../config/app-config.js';
import { Telemetry } from '../observability/telemetry.service.js';
import { forcedRecomputesKey } from '../rate-limit/forced-recomputes.js';
import { callerTracker, limitKey } from '../rate-limit/rate-limit-keys.js';
import { PRECOUNTED, RateLimiter } from '../rate-limit/rate-limiter.js';
import { RedisHealth } from '../redis/redis-health.js';
import { defineScript, luaGenerationTag } from '../redis/redis-script.js';
import { CacheInvalidator } from './cache-invalidator.service.js';
import { CacheKeys } from './cache-keys.js';
import { CachedExecutor, type CachedResult, type CacheOutcome, type ForcedAddress } from './cached-executor.service.js';
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

/** A URL answered from the cache (`stored`), or computed afresh on request (`forced`). */
type Remembered =
  | (ResultAddress & { readonly key: string; readonly kind: 'stored' })
  | (ForcedAddress & { readonly key: string; readonly kind: 'forced' });

const MAX_REMEMBERED = 10_000;

/** A URL's entry: a no-cache header makes the same URL a forced read. */
const rememberedKey = (organizationId: number, url: string, noCacheHeader: boolean) =>
  `${organizationId}|${noCacheHeader ? 'no-cache|' : ''}${url}`;
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
${luaGenerationTag(3)}
local value = redis.call('GET', ARGV[3] .. tag)
if value then redis.call('HINCRBY', KEYS[2], 'hits', 1) end
return {n, ttl, value}`;

/**
 * Counts the caller's request and, when the caller may go on, charges the
 * organization's forced-recompute budget (as ForcedRecomputes does, but only
 * when the budget is not spent: a spent one is left for the pipeline to
 * charge and refuse) and reads the generations of the result's scopes: one
 * round trip, in the organization's slot. Returns the caller's count and
 * window, and the tag with the budget's count and window, or no tag.
 */
const FORCED_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
if n > tonumber(ARGV[2]) then return {n, ttl, false} end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[3]) then return {n, ttl, false} end
local f = redis.call('INCR', KEYS[2])
local fttl = redis.call('PTTL', KEYS[2])
if fttl < 0 then redis.call('PEXPIRE', KEYS[2], ARGV[1]); fttl = tonumber(ARGV[1]) end
${luaGenerationTag(4)}
return {n, ttl, tag, f, fttl}`;

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
  private readonly forcedRead?: (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;
  private readonly forcedLimit: number;

  constructor(
    private readonly tokens: TokenService,
    private readonly keys: CacheKeys,
    private readonly invalidator: CacheInvalidator,
    private readonly limiter: RateLimiter,
    private readonly telemetry: Telemetry,
    private readonly clock: Clock,
    private readonly executor: CachedExecutor,
    config: AppConfig,
    @Optional() @Inject(RedisHealth) private readonly redis: RedisHealth | null,
  ) {
    this.windowMs = config.rateLimitWindowSeconds * 1000;
    this.limit = config.rateLimitRequests;
    this.forcedLimit = config.rateLimitForced;
    if (redis) {
      // Bulk replies as Buffers: the stored body goes out as the bytes Redis sent.
      this.read = defineScript(redis.client, 'pulseCachedRead', READ_SCRIPT, { buffers: true });
      this.forcedRead = defineScript(redis.client, 'pulseForcedRead', FORCED_SCRIPT);
    }
  }

  /** Called for every GET answered from the cache or computed into it. */
  remember(url: string, address: ResultAddress): void {
    this.keep({ ...address, key: `${address.organizationId}|${url}`, kind: 'stored' }, url);
  }

  /**
   * Called for every GET computed afresh on request (`use_cache=false`, or
   * `Cache-Control: no-cache`, which `noCacheHeader` says): the same request
   * is computed afresh again on the hot path.
   */
  rememberForced(url: string, noCacheHeader: boolean, forced: ForcedAddress): void {
    this.keep({ ...forced, key: rememberedKey(forced.organizationId, url, noCacheHeader), kind: 'forced' }, url);
  }

  private keep(entry: Remembered, url: string): void {
    if (!this.redis || !ANALYTICS_GET.test(url)) return;
    this.remembered.delete(entry.key);
    if (this.remembered.size >= MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(entry.key, entry);
  }

  /** Fastify preHandler: answers a remembered read that hits, or lets the request go on. */
  readonly hook = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const redis = this.redis;
    if (request.method !== 'GET' || !redis || redis.state !== 'up' || !this.invalidator.inSync()) return;
    const principal = this.tokens.fromHeader(request.headers.authorization);
    if (!principal) return;
    const noCache = asksNoCache(request.headers['cache-control']);
    const address = this.remembered.get(rememberedKey(principal.organizationId, request.url, noCache));
    if (!address) return;
    const startedAt = this.clock.now().getTime();
    if (startedAt >= address.validUntil) {
      this.remembered.delete(address.key);
      return;
    }
    const rateKey = limitKey(callerTracker(principal), 'default');
    if (address.kind === 'forced') return this.computeAfresh(request, reply, address, rateKey);
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
    this.telemetry.cacheResults.inc({ section: address.section, result: 'HIT' });
    return this.send(request, reply, 'HIT', result.etag, result.body, count);
  };

  /**
   * A remembered forced read: the caller's limit and the forced budget
   * charged and the generations read in one script, then computed afresh as
   * the pipeline would (CachedExecutor.runFresh). When the caller is over
   * its limit or the budget is spent, the pipeline answers (429) with the
   * counts made here; when the computation fails, the pipeline computes
   * again and answers the failure (the budget is then charged twice).
   */
  private async computeAfresh(
    request: FastifyRequest,
    reply: FastifyReply,
    address: ForcedAddress,
    rateKey: string,
  ): Promise<FastifyReply | undefined> {
    const { organizationId } = address;
    const forcedKey = forcedRecomputesKey(organizationId);
    let counted: [number, number, string | null, number?, number?];
    try {
      counted = (await this.redis!.call(() =>
        this.forcedRead!(
          [
            this.limiter.redisKey(rateKey),
            this.limiter.redisKey(forcedKey),
            this.keys.counters(organizationId),
            ...address.scopes.map((scope) => this.keys.generation(organizationId, scope)),
          ],
          [this.windowMs, this.limit, this.forcedLimit],
        ),
      )) as typeof counted;
    } catch {
      return;
    }
    const [count, msLeft, tag, forcedCount, forcedMsLeft] = counted;
    request[PRECOUNTED] = this.limiter.counted(rateKey, count, this.limit, msLeft);
    if (!tag || !request[PRECOUNTED].allowed) return;
    this.limiter.counted(forcedKey, forcedCount!, this.forcedLimit, forcedMsLeft!);
    let result: CachedResult;
    try {
      result = await this.executor.runFresh(address, tag);
    } catch {
      return;
    }
    return this.send(request, reply, 'BYPASS', result.etag, result.body, count);
  }

  private send(
    request: FastifyRequest,
    reply: FastifyReply,
    cache: CacheOutcome,
    etag: string,
    body: string | Buffer,
    count: number,
  ): FastifyReply {
    void reply.headers({
      ...cachedHeaders(cache, etag),
      'x-ratelimit-limit': this.limit,
      'x-ratelimit-remaining': Math.max(0, this.limit - count),
      'x-ratelimit-reset': request[PRECOUNTED]!.retryAfterSeconds,
    });
    if (matchesEtag(request.headers['if-none-match'], etag)) return reply.code(304).send();
    return reply.code(200).type('application/json; charset=utf-8').send(body);
  }
}
