import { Inject, Injectable, Optional } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { Clock } from '../common/clock.js';
import type { Scope } from './cache-scopes.js';
import { CacheStore } from './cache-store.js';

/** Optional provider of the most results kept at once. */
export const MEMORY_CACHE_MAX_ENTRIES = Symbol('MEMORY_CACHE_MAX_ENTRIES');
/** Results kept at most by default, whatever their TTL: some tens of MB of JSON bodies at worst. */
const DEFAULT_MAX_ENTRIES = 10_000;

interface Entry {
  readonly value: string;
  readonly expiresAt: number;
  readonly organizationId: number;
  readonly member: string;
}

interface EntryIndex {
  /** Member → when it expires, as the scores of the Redis sorted set. */
  readonly members: Map<string, number>;
  /** The whole index expires `ttl` after the last `set`, as the Redis key does. */
  expiresAt: number;
}

/**
 * The cache in this process's memory, with RedisCacheStore's semantics:
 * generations prefixed by an incarnation (random per store, so a restarted
 * process never repeats a tag), TTL on entries and on index members, `SET NX
 * PX`-like locks with tokens, per-organization counters.
 *
 * For ONE process only: nothing is shared, so a second instance would serve
 * entries that the first one's writes have invalidated. Use it where Pulse
 * runs as a single process (the embedded demo), never behind a load balancer.
 *
 * Nothing here can fail, so no bump is ever deferred to the outbox.
 */
@Injectable()
export class MemoryCacheStore extends CacheStore {
  private readonly incarnation = newIncarnation();
  private readonly generationsByOrg = new Map<number, Map<Scope, number>>();
  /**
   * In insertion order, which with one TTL for all is also expiry order: the
   * first entry is the oldest. A result stored for less (one the clock
   * changes) may outlive its expiry behind longer-lived ones until it is read
   * or trimmed: memory only, `get` never returns it.
   */
  private readonly entriesByKey = new Map<string, Entry>();
  private readonly indexes = new Map<number, EntryIndex>();
  private readonly locks = new Map<string, { token: string; expiresAt: number }>();
  private readonly countersByOrg = new Map<number, { hits: number; misses: number }>();

  constructor(
    private readonly clock: Clock,
    @Optional() @Inject(MEMORY_CACHE_MAX_ENTRIES) private readonly maxEntries: number = DEFAULT_MAX_ENTRIES,
  ) {
    super();
  }

  async generations(organizationId: number, scopes: readonly Scope[]): Promise<string> {
    const counters = this.generationsByOrg.get(organizationId);
    return [this.incarnation, ...scopes.map((scope) => String(counters?.get(scope) ?? 0))].join('.');
  }

  async bump(organizationId: number, scopes: readonly Scope[]): Promise<void> {
    let counters = this.generationsByOrg.get(organizationId);
    if (!counters) this.generationsByOrg.set(organizationId, (counters = new Map()));
    for (const scope of scopes) counters.set(scope, (counters.get(scope) ?? 0) + 1);
  }

  async get(key: string): Promise<string | null> {
    const entry = this.entriesByKey.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= this.now()) {
      this.evict(key, entry);
      return null;
    }
    return entry.value;
  }

  async set(organizationId: number, key: string, value: string, ttlMs: number, member: string): Promise<void> {
    const now = this.now();
    const expiresAt = now + ttlMs;
    const previous = this.entriesByKey.get(key);
    if (previous) this.evict(key, previous); // re-inserted below as the newest
    this.entriesByKey.set(key, { value, expiresAt, organizationId, member });

    let index = this.indexes.get(organizationId);
    if (!index || index.expiresAt <= now) this.indexes.set(organizationId, (index = { members: new Map(), expiresAt }));
    // Kept in expiry order (one TTL for all), so pruning stops at the first live member.
    index.members.delete(member);
    index.members.set(member, expiresAt);
    for (const [m, at] of index.members) {
      if (at > now) break;
      index.members.delete(m);
    }
    index.expiresAt = expiresAt;

    this.trim(now);
  }

  async tryLock(key: string, ttlMs: number, token: string = randomUUID()): Promise<string | null> {
    const now = this.now();
    const held = this.locks.get(key);
    if (held && held.expiresAt > now) return held.token === token ? token : null;
    this.locks.set(key, { token, expiresAt: now + ttlMs });
    return token;
  }

  async unlock(key: string, token: string): Promise<void> {
    if (this.locks.get(key)?.token === token) this.locks.delete(key);
  }

  async countResult(organizationId: number, result: 'hits' | 'misses'): Promise<void> {
    const counters = this.countersByOrg.get(organizationId) ?? { hits: 0, misses: 0 };
    counters[result] += 1;
    this.countersByOrg.set(organizationId, counters);
  }

  async counters(organizationId: number): Promise<{ hits: number; misses: number }> {
    const { hits, misses } = this.countersByOrg.get(organizationId) ?? { hits: 0, misses: 0 };
    return { hits, misses };
  }

  async entries(organizationId: number): Promise<string[]> {
    const now = this.now();
    const index = this.indexes.get(organizationId);
    if (!index || index.expiresAt <= now) return [];
    return [...index.members].filter(([, at]) => at > now).map(([member]) => member);
  }

  /**
   * Bounds memory: expired entries leave from the front (the oldest), and
   * past `maxEntries` the oldest leave even if still valid (an LRU would
   * need a reorder on every hit; with one TTL for all, oldest-first is also
   * soonest-to-expire, so little of value is lost). Locks that expired
   * unreleased (a crashed computation) are swept once they pile up.
   */
  private trim(now: number): void {
    for (const [key, entry] of this.entriesByKey) {
      if (this.entriesByKey.size <= this.maxEntries && entry.expiresAt > now) break;
      this.evict(key, entry);
    }
    if (this.locks.size > 1000) {
      for (const [key, lock] of this.locks) if (lock.expiresAt <= now) this.locks.delete(key);
    }
  }

  /** Drops an entry and its index member, so `entries()` never counts a result that is gone. */
  private evict(key: string, entry: Entry): void {
    this.entriesByKey.delete(key);
    const members = this.indexes.get(entry.organizationId)?.members;
    if (members?.get(entry.member) === entry.expiresAt) members.delete(entry.member);
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}

/** A fresh prefix for every tag, as Redis's run id is after a restart. */
function newIncarnation(): string {
  return randomBytes(6).toString('hex');
}
