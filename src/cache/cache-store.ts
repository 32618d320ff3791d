import type { Scope } from './cache-scopes.js';

/**
 * The storage the cached executor runs on. Keys are opaque strings built by
 * cache-keys.ts; every operation of one organization touches only keys that
 * carry its hash tag. Implementations throw when they cannot answer; the
 * executor then degrades to the database.
 */
export abstract class CacheStore {
  /**
   * Current generation of each scope, prefixed by the store's incarnation: a
   * token that changes whenever the store may have lost or rolled back
   * counters (a Redis restart), so no tag can ever repeat.
   */
  abstract generations(organizationId: number, scopes: readonly Scope[]): Promise<string>;
  abstract bump(organizationId: number, scopes: readonly Scope[]): Promise<void>;
  abstract get(key: string): Promise<string | null>;

  /**
   * A cached read in one step: the generations of `scopes` (the tag, as
   * `generations` gives it), the entry stored under `entryPrefix` + tag, and
   * a hit counted when there is one. Stores that can do it in one round trip
   * override this.
   */
  async lookup(
    organizationId: number,
    scopes: readonly Scope[],
    entryPrefix: string,
  ): Promise<{ tag: string; value: string | null }> {
    const tag = await this.generations(organizationId, scopes);
    const value = await this.get(entryPrefix + tag);
    if (value !== null) await this.countResult(organizationId, 'hits');
    return { tag, value };
  }
  /** Stores `value` and records `member` in the organization's entry index until it expires. */
  abstract set(organizationId: number, key: string, value: string, ttlMs: number, member: string): Promise<void>;
  /**
   * Takes a short lock; returns its token, or null when someone else holds
   * it. With `token`, a lock already held under that token is taken too: a
   * call whose reply came too late may have taken it, and asking again with
   * the same token finds it ours.
   */
  abstract tryLock(key: string, ttlMs: number, token?: string): Promise<string | null>;
  abstract unlock(key: string, token: string): Promise<void>;
  abstract countResult(organizationId: number, result: 'hits' | 'misses'): Promise<void>;
  abstract counters(organizationId: number): Promise<{ hits: number; misses: number }>;
  /** Members of the entry index that have not expired. */
  abstract entries(organizationId: number): Promise<string[]>;
}
