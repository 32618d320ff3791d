import { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { Telemetry } from '../observability/telemetry.service.js';
import type { ForcedRecomputes } from '../rate-limit/forced-recomputes.js';
import { CacheInvalidator } from './cache-invalidator.service.js';
import { CacheKeys } from './cache-keys.js';
import { CachedExecutor } from './cached-executor.service.js';
import { Expiring } from './expiring.js';
import type { InvalidationOutbox } from './invalidation-outbox.repository.js';
import { MemoryCacheStore } from './memory-cache-store.js';

/** A clock the test moves by hand. */
class ManualClock extends Clock {
  ms = Date.parse('2025-06-01T12:00:00Z');

  now(): Date {
    return new Date(this.ms);
  }
}

/** Results that the clock changes, on the real executor over the in-process store; nothing is written. */
describe('CachedExecutor and results the clock changes', () => {
  let clock: ManualClock;
  let invalidator: CacheInvalidator;
  let executor: CachedExecutor;
  let computed: number;

  beforeEach(() => {
    clock = new ManualClock();
    const store = new MemoryCacheStore(clock);
    // No write is made, so no bump is ever owed: the outbox is only asked whether it is empty.
    const outbox = { isEmpty: async () => true } as unknown as InvalidationOutbox;
    invalidator = new CacheInvalidator(store, outbox, null);
    const config = { cacheTtlSeconds: 3600, analyticsStatementTimeoutMs: 1000 } as AppConfig;
    executor = new CachedExecutor(
      store,
      new CacheKeys('test'),
      invalidator,
      null as unknown as ForcedRecomputes,
      new Telemetry(),
      clock,
      config,
    );
    computed = 0;
  });
  afterEach(() => invalidator.onModuleDestroy());

  /** A dashboard whose answer holds for `forMs` after it is computed; `gate` holds the computation. */
  const request = (forMs: number, gate: Promise<void> = Promise.resolve()) => ({
    organizationId: 1,
    section: 'dashboard' as const,
    metrics: [],
    range: { start: new Date('2025-06-01T00:00:00Z'), end: new Date('2025-06-02T00:00:00Z') },
    query: { q: 1 },
    fresh: false,
    compute: async () => {
      const at = clock.ms;
      await gate;
      computed += 1;
      return new Expiring({ computedAt: at, n: computed }, at + forMs);
    },
  });

  it('gives the hot path an address until the minute ends, none just after a minute began', async () => {
    clock.ms = Date.parse('2025-06-01T12:00:30Z');
    expect((await executor.run(request(3_600_000))).address?.validUntil).toBe(Date.parse('2025-06-01T12:01:00Z'));
    // Its range may have been resolved in the minute before: the address is over as it is made.
    clock.ms = Date.parse('2025-06-01T12:01:00.200Z');
    expect((await executor.run(request(3_600_000))).address?.validUntil).toBe(Date.parse('2025-06-01T12:01:00Z'));
  });

  it('serves a stored result until its instant, then computes again though nothing was written', async () => {
    expect((await executor.run(request(5000))).cache).toBe('MISS');
    clock.ms += 4999;
    const hit = await executor.run(request(5000));
    expect(hit.cache).toBe('HIT');
    expect(hit.address?.validUntil).toBe(Date.parse('2025-06-01T12:00:05Z'));
    clock.ms += 1;
    const again = await executor.run(request(5000));
    expect(again.cache).toBe('MISS');
    expect(JSON.parse(again.body).n).toBe(2);
  });

  it('does not hand a computation in flight to a request that started after its answer expired', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const first = executor.run(request(1000, gate));
    await new Promise((resolve) => setTimeout(resolve, 10));
    clock.ms += 1500;
    const late = executor.run(request(1000, gate));
    open();
    expect(JSON.parse((await first).body)).toEqual({ computedAt: Date.parse('2025-06-01T12:00:00Z'), n: 1 });
    expect(JSON.parse((await late).body).computedAt).toBe(Date.parse('2025-06-01T12:00:01.500Z'));
  });

  it('never serves a result whose instant passed while it was computed', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const first = executor.run(request(1000, gate));
    await new Promise((resolve) => setTimeout(resolve, 10));
    clock.ms += 1000;
    open();
    await first;
    expect((await executor.run(request(1000))).cache).toBe('MISS');
    expect(computed).toBe(2);
  });
});
