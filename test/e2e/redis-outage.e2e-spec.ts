import { ownDatabase } from '../support/database.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Api, qs } from '../support/http.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { buildTicket } from '../support/factories.js';
import { TestRedisServer } from '../support/redis-server.js';
import { openLoop, recordResponse, type LoadSample } from '../support/open-loop.js';

/**
 * A Redis outage under load (API.md §1 Caching, src/cache/README.md "Redis
 * outages"): an open-loop load of ~100 requests/s over warmed analytics
 * queries for 10 s; Redis is killed at 2 s, a ticket is written at 3 s and
 * Redis is relaunched (empty, on the same port) at 7 s. Every query counts the
 * ticket written during the outage, so a result cached before the outage
 * would show in the numbers.
 */

const ARTIFACTS = join(process.cwd(), 'test', 'artifacts');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const RATE_PER_SECOND = 100;
const LOAD_MS = 10_000;
const STOP_AT_MS = 2_000;
const WRITE_AT_MS = 3_000;
const RELAUNCH_AT_MS = 7_000;
/** After the kill, the first requests may still be on their way through the old connection. */
const OUTAGE_GRACE_MS = 300;
/** From the issue: HITs again within 2 s after Redis returns. */
const FIRST_HIT_WITHIN_MS = 2_000;
const REQUEST_TIMEOUT_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LoadQuery {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  /** The number of tickets the response counts. */
  readonly read: (body: any) => number;
  /** How many of the seeded tickets it counts; the ticket written during the outage adds one. */
  readonly before: number;
}

type Sample = LoadSample;

function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const round = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);

function cacheCounts(samples: readonly Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) {
    const key = s.error ? 'failed' : (s.cache ?? 'none');
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

const brief = (s: Sample) =>
  `#${s.index} ${s.query} sent ${s.sentAt.toFixed(0)} ms, done ${s.doneAt.toFixed(0)} ms: ` +
  `${s.error ?? s.status} X-Cache=${s.cache} value=${s.value}`;

/**
 * Two kinds of outage: Redis killed and relaunched empty (a crash or a
 * failover to an empty replica), and Redis frozen with SIGSTOP and resumed
 * with its data (a network partition or a stalled host). The second is the
 * hard one: the entries cached before the outage are still there when Redis
 * returns, and the generation bump of the write made during the outage never
 * reached it; only the outbox replay keeps those entries from being served.
 */
const OUTAGES = [
  { kind: 'killed', slug: 'killed', down: (r: TestRedisServer) => r.stop(), up: (r: TestRedisServer) => r.launch() },
  {
    kind: 'paused (data kept)',
    slug: 'paused',
    down: async (r: TestRedisServer) => r.pause(),
    up: async (r: TestRedisServer) => r.resume(),
  },
] as const;

describe.each(OUTAGES)('a Redis outage under load: $kind', ({ slug, down, up }) => {
  let redis: TestRedisServer;
  let server: TestApp;

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    server = await startApp({
      REDIS_URL: redis.url,
      DATABASE_URL: await ownDatabase(`redis_outage_${slug}`),
      RATE_LIMIT_REQUESTS: '100000',
      RATE_LIMIT_FORCED: '100000',
      RATE_LIMIT_EXPORTS: '100000',
    });
  });
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
  });

  it('answers 200 with X-Cache: ERROR while Redis is down, HITs again within 2 s, and never serves a pre-outage entry', async () => {
    const organizationId = newOrganizationId();
    const token = tokenFor(organizationId, 'admin');
    const api = new Api(server.url, token);

    // Seed: 30 tickets over the last six days, every fifth by email.
    const hour = Math.floor(Date.now() / HOUR) * HOUR;
    const range = {
      start_date: new Date(hour - 7 * DAY).toISOString(),
      end_date: new Date(hour + 2 * HOUR).toISOString(),
    };
    const channels = ['email', 'chat', 'phone', 'web', 'slack'];
    const statuses = ['open', 'pending', 'in_progress', 'resolved', 'closed'];
    const seeded = Array.from({ length: 30 }, (_, i) =>
      buildTicket({
        external_id: `outage-${i}`,
        channel: channels[i % channels.length],
        status: statuses[(i * 3) % statuses.length],
        created_at: new Date(hour - (i + 1) * 4 * HOUR - 7 * 60_000).toISOString(),
      }),
    );
    const inserted = await api.post('/api/v1/tickets/bulk', { tickets: seeded });
    expect(inserted.status, inserted.text).toBe(200);
    expect(inserted.body.inserted).toBe(seeded.length);
    const emails = seeded.filter((t) => t.channel === 'email').length;

    const queries: readonly LoadQuery[] = [
      {
        name: 'time-series daily',
        method: 'GET',
        path: `/api/v1/analytics/time-series/ticket_count${qs({ ...range, granularity: 'daily' })}`,
        read: (b) => b.total_count,
        before: seeded.length,
      },
      {
        name: 'time-series hourly',
        method: 'GET',
        path: `/api/v1/analytics/time-series/ticket_count${qs({ ...range, granularity: 'hourly' })}`,
        read: (b) => b.total_count,
        before: seeded.length,
      },
      {
        name: 'time-series email',
        method: 'GET',
        path: `/api/v1/analytics/time-series/ticket_count${qs({ ...range, channel: 'email' })}`,
        read: (b) => b.total_count,
        before: emails,
      },
      {
        name: 'distribution status',
        method: 'GET',
        path: `/api/v1/analytics/distribution/status${qs(range)}`,
        read: (b) => b.total,
        before: seeded.length,
      },
      {
        name: 'dashboard',
        method: 'GET',
        path: `/api/v1/analytics/dashboard${qs(range)}`,
        read: (b) => b.total_tickets,
        before: seeded.length,
      },
      {
        name: 'aggregations',
        method: 'POST',
        path: '/api/v1/analytics/aggregations',
        body: { metric_types: ['ticket_count'], ...range, group_by: ['status'] },
        read: (b) => b.results[0].total_count,
        before: seeded.length,
      },
    ];
    const byName = new Map(queries.map((q) => [q.name, q]));

    const send = (q: LoadQuery, signal?: AbortSignal) =>
      fetch(`${server.url}${q.path}`, {
        method: q.method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(q.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: q.body === undefined ? undefined : JSON.stringify(q.body),
        signal,
      });

    // Warm every query until it is a HIT that counts the seeded tickets.
    for (const q of queries) {
      let cache: string | null = null;
      for (let attempt = 0; attempt < 100 && cache !== 'HIT'; attempt++) {
        const res = await send(q);
        const text = await res.text();
        expect(res.status, `${q.name}: ${text}`).toBe(200);
        expect(q.read(JSON.parse(text)), q.name).toBe(q.before);
        cache = res.headers.get('x-cache');
        if (cache !== 'HIT') await sleep(20);
      }
      expect(cache, `${q.name} did not become a HIT`).toBe('HIT');
    }

    // The load: one request every 10 ms on a fixed schedule, never waiting for earlier ones.
    const t0 = performance.now();
    const clock = () => performance.now() - t0;
    const untilMs = (at: number) => sleep(Math.max(0, at - clock()));
    const samples: Sample[] = [];
    const inFlight: Promise<void>[] = [];
    const fire = (index: number) => {
      const q = queries[index % queries.length];
      const sample: Sample = { index, query: q.name, sentAt: clock(), doneAt: 0, status: 0, cache: null, value: null };
      samples.push(sample);
      inFlight.push(recordResponse(sample, () => send(q, AbortSignal.timeout(REQUEST_TIMEOUT_MS)), q.read, clock));
    };
    const total = (LOAD_MS / 1000) * RATE_PER_SECOND;
    const load = openLoop(clock, RATE_PER_SECOND, total, fire);

    // The outage, on its own timeline beside the load.
    const events = {
      stopCalledAt: NaN,
      stoppedAt: NaN,
      writeStartedAt: NaN,
      writeReturnedAt: NaN,
      writeStatus: 0,
      writeText: '',
      relaunchCalledAt: NaN,
      relaunchedAt: NaN,
    };
    const scenario = (async () => {
      await untilMs(STOP_AT_MS);
      events.stopCalledAt = clock();
      await down(redis);
      events.stoppedAt = clock();

      await untilMs(WRITE_AT_MS);
      events.writeStartedAt = clock();
      const created = await api.post(
        '/api/v1/tickets',
        buildTicket({ channel: 'email', created_at: new Date(hour - 30 * 60_000).toISOString() }),
      );
      events.writeReturnedAt = clock();
      events.writeStatus = created.status;
      events.writeText = created.text;

      await untilMs(RELAUNCH_AT_MS);
      events.relaunchCalledAt = clock();
      await up(redis);
      events.relaunchedAt = clock();
    })();

    const [scenarioOutcome] = await Promise.allSettled([scenario, load]);
    await Promise.all(inFlight);
    if (scenarioOutcome.status === 'rejected') throw scenarioOutcome.reason;

    // Figures.
    const ok = samples.filter((s) => !s.error);
    const failed = samples.filter((s) => s.error);
    const serverErrors = samples.filter((s) => s.status >= 500);
    const latency = (s: Sample) => s.doneAt - s.sentAt;
    const before = samples.filter((s) => s.doneAt < events.stopCalledAt);
    const outage = samples.filter((s) => s.sentAt >= events.stoppedAt && s.doneAt <= events.relaunchCalledAt);
    const settledOutage = outage.filter((s) => s.sentAt >= events.stoppedAt + OUTAGE_GRACE_MS);
    const afterRelaunch = samples.filter((s) => s.doneAt >= events.relaunchCalledAt);
    const firstHit = afterRelaunch.filter((s) => s.cache === 'HIT' && !s.error).sort((a, b) => a.doneAt - b.doneAt)[0];
    const timeToFirstHitMs = firstHit ? firstHit.doneAt - events.relaunchCalledAt : null;
    const afterWrite = samples.filter((s) => s.sentAt >= events.writeReturnedAt);
    const stale = afterWrite.filter((s) => s.value !== byName.get(s.query)!.before + 1);
    const staleBeforeWrite = samples.filter(
      (s) => s.doneAt <= events.writeStartedAt && s.value !== byName.get(s.query)!.before,
    );
    const hitsAfterRecovery = afterRelaunch.filter((s) => s.cache === 'HIT');
    const durationMs = Math.max(...samples.map((s) => s.sentAt));

    const figures = {
      requests: samples.length,
      achieved_rate_per_s: round((samples.length - 1) / (durationMs / 1000)),
      server_errors_5xx: serverErrors.length,
      failed_or_timed_out: failed.length,
      non_200: ok.filter((s) => s.status !== 200).length,
      latency_ms: {
        p50: round(percentile(ok.map(latency), 50)),
        p99: round(percentile(ok.map(latency), 99)),
        max: round(Math.max(...ok.map(latency))),
      },
      outage_latency_ms: {
        p50: round(percentile(outage.map(latency), 50)),
        p99: round(percentile(outage.map(latency), 99)),
        max: outage.length ? round(Math.max(...outage.map(latency))) : null,
      },
      time_to_first_hit_after_relaunch_ms: round(timeToFirstHitMs),
      redis_startup_ms: round(events.relaunchedAt - events.relaunchCalledAt),
      write: {
        status: events.writeStatus,
        latency_ms: round(events.writeReturnedAt - events.writeStartedAt),
      },
      x_cache: {
        before_outage: cacheCounts(before),
        during_outage: cacheCounts(outage),
        after_relaunch: cacheCounts(afterRelaunch),
      },
      stale_after_write: stale.length,
      timeline_ms: {
        stop_called: round(events.stopCalledAt),
        stopped: round(events.stoppedAt),
        write_started: round(events.writeStartedAt),
        write_returned: round(events.writeReturnedAt),
        relaunch_called: round(events.relaunchCalledAt),
        relaunched: round(events.relaunchedAt),
      },
    };
    console.log(`redis-outage ${slug} ${JSON.stringify(figures)}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(
      join(ARTIFACTS, `redis-outage-${slug}.json`),
      `${JSON.stringify({ ...figures, generated_at: new Date().toISOString() }, null, 2)}\n`,
    );

    // The schedule ran as planned: ~100 requests/s, the write inside the outage.
    expect(samples.length).toBe(total);
    expect(events.writeStatus, events.writeText).toBe(201);
    expect(events.writeStartedAt).toBeGreaterThan(events.stoppedAt);
    expect(events.writeReturnedAt).toBeLessThan(events.relaunchCalledAt);
    expect(before.filter((s) => s.cache === 'HIT').length, 'HITs before the outage').toBeGreaterThan(0);
    expect(settledOutage.length, 'requests answered during the outage').toBeGreaterThan(100);

    // Zero 5xx, zero failures or timeouts, every request 200.
    expect(failed.map(brief), 'failed or timed out').toEqual([]);
    expect(serverErrors.map(brief), '5xx').toEqual([]);
    expect(samples.filter((s) => s.status !== 200).map(brief), 'non-200').toEqual([]);

    // While Redis is down nothing is a HIT, and once the kill has settled every answer is ERROR.
    expect(outage.filter((s) => s.cache === 'HIT').map(brief), 'HIT while Redis was down').toEqual([]);
    expect(settledOutage.filter((s) => s.cache !== 'ERROR').map(brief), 'not X-Cache: ERROR during the outage').toEqual(
      [],
    );

    // HITs again within 2 s of the relaunch.
    expect(firstHit, 'no HIT after Redis returned').toBeDefined();
    expect(timeToFirstHitMs!, `first HIT after relaunch: ${firstHit && brief(firstHit)}`).toBeLessThanOrEqual(
      FIRST_HIT_WITHIN_MS,
    );
    expect(hitsAfterRecovery.length, 'HITs after recovery').toBeGreaterThan(10);

    // Read-your-writes across the outage: every request sent after the write returned counts it.
    expect(staleBeforeWrite.map(brief), 'wrong count before the write').toEqual([]);
    expect(afterWrite.length).toBeGreaterThan(300);
    expect(stale.map(brief), 'a result that misses the ticket written during the outage').toEqual([]);
    expect(hitsAfterRecovery.every((s) => s.value === byName.get(s.query)!.before + 1)).toBe(true);
  }, 90_000);
});
