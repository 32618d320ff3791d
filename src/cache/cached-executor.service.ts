import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { AppConfig } from '../config/app-config.js';
import { Telemetry } from '../observability/telemetry.service.js';
import { ForcedRecomputes } from '../rate-limit/forced-recomputes.js';
import { CacheKeys, digestOf, etagOf } from './cache-keys.js';
import { scopesOf, type CacheSection, type ResultDependencies, type Scope } from './cache-scopes.js';
import { memberOf } from './cache-stats.js';
import { CacheStore } from './cache-store.js';
import { CacheInvalidator } from './cache-invalidator.service.js';
import type { ResultAddress } from './cached-reads.js';
import { Expiring } from './expiring.js';
import { FreshFlights } from './fresh-flights.js';
import { answers, deserialize, serialize, type StoredResult } from './stored-result.js';

export type CacheOutcome = 'HIT' | 'MISS' | 'BYPASS' | 'ERROR';

/**
 * A serialized analytics result, how the cache produced it, and where it is
 * stored (HIT, MISS), or how to compute it again (BYPASS).
 */
export class CachedResult {
  constructor(
    readonly body: string,
    readonly etag: string,
    readonly cache: CacheOutcome,
    readonly address?: ResultAddress,
    readonly again?: ForcedAddress,
  ) {}
}

/** A forced computation the hot path may run again for the same URL (CachedReads): its address and its query. */
export interface ForcedAddress extends ResultAddress {
  readonly request: CachedQuery;
}

/** What to compute and cache; the generations of what it depends on (`scopesOf`) are part of its key. */
export interface CachedQuery extends ResultDependencies {
  readonly organizationId: number;
  readonly section: CacheSection;
  /** The normalized query, without the organization. */
  readonly query: unknown;
  /** Skip the stored copy, compute, and store the fresh result. */
  readonly fresh: boolean;
  /** A fresh computation already paid for (refresh-cache charges the forced budget once for all it warms). */
  readonly prepaid?: boolean;
  /** The result, or an `Expiring` one when the clock alone changes it. */
  readonly compute: () => Promise<unknown>;
}

type Computed = StoredResult;

const LOCK_POLL_MS = 20;
/** Longer than any wait between a request's range resolution and its run here. */
const RESOLVED_WITHIN_MS = 1000;
/** A cache read that could not be answered (unlike `null`: answered, nothing stored). */
const UNREACHABLE = Symbol('unreachable');

/**
 * The one path every analytics result takes. The key holds the generations
 * read *before* computing, so a result computed across a write is stored
 * under generations no reader asks for any more: it can never be served.
 *
 * Identical computations are shared in the process whatever Redis does: a
 * miss joins the computation of its key (the key's generations prove it
 * began after any write the request could have seen); a forced or uncached
 * one (Redis away) joins only a computation that begins after the request
 * arrived (FreshFlights), so it still reflects every write that returned
 * before it.
 */
@Injectable()
export class CachedExecutor {
  private readonly logger = new Logger('CachedExecutor');
  private readonly flights = new Map<string, Promise<Computed>>();
  private readonly freshFlights = new FreshFlights<Computed>();
  private readonly ttlMs: number;
  private readonly lockTtlMs: number;

  constructor(
    private readonly store: CacheStore,
    private readonly keys: CacheKeys,
    private readonly invalidator: CacheInvalidator,
    private readonly forced: ForcedRecomputes,
    private readonly telemetry: Telemetry,
    private readonly clock: Clock,
    config: AppConfig,
  ) {
    this.ttlMs = config.cacheTtlSeconds * 1000;
    // A lock outlives the longest computation the database allows.
    this.lockTtlMs = config.analyticsStatementTimeoutMs + 2000;
  }

  async run(request: CachedQuery): Promise<CachedResult> {
    const { organizationId, section } = request;
    const startedAt = this.clock.now().getTime();
    // Period ranges end at the next whole minute: the same request resolves alike until then. Its
    // range was resolved a moment before this (by the caller), so a request begun just after a
    // minute's end counts, for the hot path, as one of the minute before (already over: not remembered).
    const validUntil = Math.ceil((startedAt - RESOLVED_WITHIN_MS) / 60_000) * 60_000;
    // A forced computation's charge and the generations are read at once: one round trip's wait, not two.
    const charged = request.fresh && !request.prepaid ? this.forced.charge(organizationId) : undefined;
    const digest = digestOf(request.query);
    const local = `${organizationId}|${section}|${digest}`;
    const scopes = scopesOf(section, request);
    const entryPrefix = this.keys.entry(organizationId, section, digest, '');
    // The generations (and, unless forced, the entry under them) in one read.
    let found: { tag: string; value: string | null } | null = null;
    if (this.invalidator.inSync()) {
      const [, read] = await Promise.all([
        charged,
        this.retryOnce(() =>
          request.fresh
            ? this.store.generations(organizationId, scopes).then((tag) => ({ tag, value: null }))
            : this.store.lookup(organizationId, scopes, entryPrefix),
        ),
      ]);
      found = read === UNREACHABLE ? null : read;
    } else {
      await charged;
    }
    // Without generations nothing may be read, stored or shared across a write.
    if (found === null) return this.finish(section, { ...(await this.computeFresh(local, request)), cache: 'ERROR' });
    const { tag, value: stored } = found;
    // The hot path may answer this address again until the range resolves differently or the clock changes the result.
    const addressOf = ({ until }: StoredResult): ResultAddress => ({
      organizationId,
      section,
      digest,
      scopes,
      validUntil: Math.min(validUntil, until ?? Infinity),
    });

    if (request.fresh) {
      return this.bypass(request, digest, scopes, tag, (result) => ({ ...addressOf(result), request }));
    }
    const key = entryPrefix + tag;
    const member = memberOf(section, scopes, digest, tag);

    const hit = stored === null ? null : deserialize(stored);
    // The lookup counted the hit already.
    if (hit !== null && answers(hit, startedAt)) {
      return this.finish(section, { ...hit, cache: 'HIT', address: addressOf(hit) });
    }

    let flight = this.flights.get(key);
    if (!flight) {
      flight = this.computeOnce(request, key, member).finally(() => this.flights.delete(key));
      this.flights.set(key, flight);
    }
    const result = await flight;
    // A computation that began before this request may answer as of an instant the clock has since passed.
    if (!answers(result, startedAt)) return this.run(request);
    return this.finish(section, { ...result, cache: 'MISS', address: addressOf(result) }, organizationId, 'misses');
  }

  /**
   * A forced computation whose caller has paid its charge and read the
   * generations of its scopes (`tag`), as the hot path does in one script.
   */
  runFresh({ request, digest, scopes }: ForcedAddress, tag: string): Promise<CachedResult> {
    return this.bypass(request, digest, scopes, tag);
  }

  /** Computes afresh (FreshFlights) and stores the result under `tag`'s key. */
  private async bypass(
    request: CachedQuery,
    digest: string,
    scopes: readonly Scope[],
    tag: string,
    again?: (result: Computed) => ForcedAddress,
  ): Promise<CachedResult> {
    const { organizationId, section } = request;
    const result = await this.computeFresh(`${organizationId}|${section}|${digest}`, request);
    const key = this.keys.entry(organizationId, section, digest, tag);
    const member = memberOf(section, scopes, digest, tag);
    // Stored once the answer is on its way (its write and round trip are not the client's wait): any
    // later request on this instance finds it, its lookup sent after this store on the same connection.
    setImmediate(() => void this.save(organizationId, key, result, member));
    return this.finish(section, { ...result, cache: 'BYPASS', again: again?.(result) }, organizationId, 'misses');
  }

  /**
   * Computes a missing result once across instances: the holder of a short
   * Redis lock computes and stores; the others poll for the stored copy and
   * take the lock over if the holder disappears without storing. If the cache
   * fails meanwhile, the request computes by itself.
   */
  private async computeOnce(request: CachedQuery, key: string, member: string): Promise<Computed> {
    const lockKey = this.keys.lock(key);
    const deadline = Date.now() + this.lockTtlMs;
    let token: string | null = null;
    // One token for every attempt, so a lock call is retried like a read when Redis turns out slow
    // rather than gone (a late reply may have taken the lock: asked again, it is found ours). When
    // the lock cannot be had at all, this instance computes, its own flight still shared.
    const mine = randomUUID();
    const tryLock = () => this.retryOnce(() => this.store.tryLock(lockKey, this.lockTtlMs, mine));
    let lock = await tryLock();
    while (lock === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
      const stored = await this.retryOnce(() => this.store.get(key));
      if (stored === UNREACHABLE) break;
      const current = this.current(stored);
      if (current) return current;
      lock = await tryLock();
    }
    if (typeof lock === 'string') token = lock;
    try {
      // A holder may have stored and released between our first read and our lock (or our last poll).
      const current = this.current(token ? await this.store.get(key).catch(() => null) : null);
      if (current) return current;
      const result = await this.compute(request);
      await this.save(request.organizationId, key, result, member);
      return result;
    } finally {
      if (token) await this.store.unlock(lockKey, token).catch(() => undefined);
    }
  }

  /**
   * A cache read, tried once more when the first attempt failed but Redis
   * turns out to be slow rather than gone: under a burst, one late reply
   * must not send every request to the database on its own.
   */
  private async retryOnce<T>(read: () => Promise<T>): Promise<T | typeof UNREACHABLE> {
    try {
      return await read();
    } catch {
      if (!(await this.invalidator.stillUsable())) return UNREACHABLE;
    }
    try {
      return await read();
    } catch {
      return UNREACHABLE;
    }
  }

  /** A stored copy that still answers now; one the clock has changed (Redis drops it any moment) counts as none. */
  private current(stored: string | null): Computed | null {
    const result = stored === null ? null : deserialize(stored);
    return result && answers(result, this.clock.now().getTime()) ? result : null;
  }

  /** Stores a result for the default TTL, or until the clock changes it; one already past that is not stored. */
  private async save(organizationId: number, key: string, result: Computed, member: string): Promise<void> {
    const ttlMs = Math.min(this.ttlMs, (result.until ?? Infinity) - this.clock.now().getTime());
    if (ttlMs < 1) return;
    await this.store.set(organizationId, key, serialize(result), ttlMs, member).catch(() => undefined);
  }

  private computeFresh(local: string, request: CachedQuery): Promise<Computed> {
    return this.freshFlights.run(local, () => this.compute(request));
  }

  private async compute(request: CachedQuery): Promise<Computed> {
    const stop = this.telemetry.computeSeconds.startTimer({ section: request.section });
    this.telemetry.computations.inc({ section: request.section });
    this.telemetry.computationsInFlight.inc({ section: request.section });
    try {
      const value = await request.compute();
      if (!(value instanceof Expiring)) {
        const body = JSON.stringify(value);
        return { body, etag: etagOf(body) };
      }
      const body = JSON.stringify(value.value);
      return { body, etag: etagOf(body), until: value.until };
    } finally {
      stop();
      this.telemetry.computationsInFlight.dec({ section: request.section });
    }
  }

  private finish(
    section: CacheSection,
    {
      body,
      etag,
      cache,
      address,
      again,
    }: Computed & { cache: CacheOutcome; address?: ResultAddress; again?: ForcedAddress },
    organizationId?: number,
    counter?: 'hits' | 'misses',
  ): CachedResult {
    this.telemetry.cacheResults.inc({ section, result: cache });
    if (organizationId !== undefined && counter) {
      this.store.countResult(organizationId, counter).catch((error: Error) => this.logger.debug(error.message));
    }
    return new CachedResult(body, etag, cache, address, again);
  }
}
