import { Clock } from '../common/clock.js';
import { MemoryCacheStore } from './memory-cache-store.js';

/** A clock the test moves by hand. */
class ManualClock extends Clock {
  ms = Date.parse('2025-06-01T12:00:00Z');

  now(): Date {
    return new Date(this.ms);
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}

describe('MemoryCacheStore', () => {
  let clock: ManualClock;
  let store: MemoryCacheStore;

  beforeEach(() => {
    clock = new ManualClock();
    store = new MemoryCacheStore(clock);
  });

  it('serves an entry until its TTL has passed, then forgets it and its index member', async () => {
    await store.set(1, 'k1', 'v1', 1000, 'm1');
    clock.advance(500);
    await store.set(1, 'k2', 'v2', 1000, 'm2');

    clock.advance(499);
    expect(await store.get('k1')).toBe('v1');
    expect(await store.entries(1)).toEqual(['m1', 'm2']);

    clock.advance(1);
    expect(await store.entries(1)).toEqual(['m2']);
    expect(await store.get('k1')).toBeNull();
    expect(await store.get('k2')).toBe('v2');

    clock.advance(500);
    expect(await store.get('k2')).toBeNull();
    expect(await store.entries(1)).toEqual([]);
  });

  it('changes only the bumped scopes’ generations, per organization, under a per-store incarnation', async () => {
    const before = await store.generations(1, ['org', 'section:dashboard', 'metric:ticket_count']);
    const [incarnation] = before.split('.');
    expect(incarnation).toMatch(/^[0-9a-f]{12}$/);
    expect(before).toBe(`${incarnation}.0.0.0`);

    await store.bump(1, ['metric:ticket_count']);
    await store.bump(1, ['metric:ticket_count', 'section:dashboard']);
    expect(await store.generations(1, ['org', 'section:dashboard', 'metric:ticket_count'])).toBe(
      `${incarnation}.0.1.2`,
    );
    expect(await store.generations(1, ['section:performance'])).toBe(`${incarnation}.0`);
    expect(await store.generations(2, ['org', 'section:dashboard', 'metric:ticket_count'])).toBe(before);

    // A restarted process starts its counters at zero again: its tags must still be new.
    const restarted = new MemoryCacheStore(clock);
    expect(await restarted.generations(1, ['org'])).not.toBe(await store.generations(1, ['org']));
  });

  it('keeps a lock exclusive until its holder unlocks it or it expires', async () => {
    const token = await store.tryLock('lock', 1000);
    expect(token).toEqual(expect.any(String));
    expect(await store.tryLock('lock', 1000)).toBeNull();
    expect(await store.tryLock('other-lock', 1000)).not.toBeNull();

    await store.unlock('lock', 'not-the-token');
    expect(await store.tryLock('lock', 1000)).toBeNull();
    await store.unlock('lock', token!);
    const second = await store.tryLock('lock', 1000);
    expect(second).not.toBeNull();

    clock.advance(999);
    expect(await store.tryLock('lock', 1000)).toBeNull();
    clock.advance(1);
    const third = await store.tryLock('lock', 1000);
    expect(third).not.toBeNull();
    // The expired holder's late unlock must not free the new holder's lock.
    await store.unlock('lock', second!);
    expect(await store.tryLock('lock', 1000)).toBeNull();
  });

  it('finds a lock held under the token asked with ours, and no one else’s', async () => {
    expect(await store.tryLock('lock', 1000, 'mine')).toBe('mine');
    // Asked again with the same token (a first reply that came too late): still ours.
    expect(await store.tryLock('lock', 1000, 'mine')).toBe('mine');
    expect(await store.tryLock('lock', 1000, 'theirs')).toBeNull();
    expect(await store.tryLock('lock', 1000)).toBeNull();
  });

  it('keeps entries and counters of organizations apart', async () => {
    await store.set(1, 'k1', 'v1', 1000, 'a');
    await store.set(2, 'k2', 'v2', 1000, 'b');
    await store.countResult(1, 'hits');
    await store.countResult(1, 'hits');
    await store.countResult(2, 'misses');

    expect(await store.entries(1)).toEqual(['a']);
    expect(await store.entries(2)).toEqual(['b']);
    expect(await store.entries(3)).toEqual([]);
    expect(await store.counters(1)).toEqual({ hits: 2, misses: 0 });
    expect(await store.counters(2)).toEqual({ hits: 0, misses: 1 });
  });

  it('evicts the oldest entries beyond its capacity, from the index as well', async () => {
    const small = new MemoryCacheStore(clock, 3);
    for (const n of [1, 2, 3]) await small.set(1, `k${n}`, `v${n}`, 10_000, `m${n}`);
    await small.set(1, 'k1', 'v1b', 10_000, 'm1'); // rewritten: now the newest
    await small.set(1, 'k4', 'v4', 10_000, 'm4');

    expect(await small.get('k2')).toBeNull();
    expect(await small.get('k1')).toBe('v1b');
    expect(await small.get('k3')).toBe('v3');
    expect(await small.get('k4')).toBe('v4');
    expect((await small.entries(1)).sort()).toEqual(['m1', 'm3', 'm4']);
  });
});
