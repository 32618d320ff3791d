import fc from 'fast-check';
import { Api, qs, type HttpResult } from '../support/http.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { buildTicket } from '../support/factories.js';

/**
 * A write makes stale only the cached results whose range touches the UTC
 * month of one of the ticket's placing timestamps, before or after the write
 * (API.md §1): everything else stays a HIT, with the body it had.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const monthStart = (year: number, month: number) => Date.UTC(year, month, 1);

type Request = { path: string; body?: unknown };

const seriesOf = (metric: string, start: number, end: number, params: Record<string, string> = {}): Request => ({
  path: `/api/v1/analytics/time-series/${metric}${qs({ start_date: iso(start), end_date: iso(end), ...params })}`,
});
const aggregationOf = (metrics: string[], start: number, end: number, groupBy: string[] = []): Request => ({
  path: '/api/v1/analytics/aggregations',
  body: { metric_types: metrics, start_date: iso(start), end_date: iso(end), granularity: 'daily', group_by: groupBy },
});
const distributionOf = (field: string, start: number, end: number): Request => ({
  path: `/api/v1/analytics/distribution/${field}${qs({ start_date: iso(start), end_date: iso(end) })}`,
});
const performanceOf = (start: number, end: number): Request => ({
  path: `/api/v1/analytics/performance${qs({ start_date: iso(start), end_date: iso(end) })}`,
});

function withoutCreatedAt(body: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...body };
  delete rest.created_at;
  return rest;
}

function send(api: Api, r: Request, fresh = false): Promise<HttpResult> {
  if (r.body === undefined) return api.get(fresh ? `${r.path}&use_cache=false` : r.path);
  return api.post(r.path, fresh ? { ...(r.body as object), use_cache: false } : r.body);
}

/** The body without what changes on every computation (aggregations' `generated_at`). */
const stable = (res: HttpResult) => {
  const { generated_at: _, ...rest } = res.body as Record<string, unknown>;
  return rest;
};

async function expectCache(api: Api, r: Request, cache: string, body?: unknown): Promise<HttpResult> {
  const res = await send(api, r);
  expect(res.status, res.text).toBe(200);
  expect(res.headers.get('x-cache'), r.path).toBe(cache);
  if (body !== undefined) expect(stable(res)).toEqual(body);
  return res;
}

describe('time-scoped invalidation', () => {
  let server: TestApp;
  let api: Api;

  beforeAll(async () => {
    server = await startApp({ RATE_LIMIT_REQUESTS: '100000', RATE_LIMIT_FORCED: '100000' });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    api = new Api(server.url, tokenFor(newOrganizationId(), 'admin'));
  });

  it('keeps last month’s results HIT when a ticket is created now; this month’s include it', async () => {
    const now = new Date();
    const thisMonth = monthStart(now.getUTCFullYear(), now.getUTCMonth());
    const lastMonth = monthStart(now.getUTCFullYear(), now.getUTCMonth() - 1);
    const nextMonth = monthStart(now.getUTCFullYear(), now.getUTCMonth() + 1);
    expect((await api.post('/api/v1/tickets', buildTicket({ created_at: iso(lastMonth + 3 * DAY) }))).status).toBe(201);
    const old = [
      seriesOf('ticket_count', lastMonth, thisMonth),
      aggregationOf(['ticket_count'], lastMonth, thisMonth, ['status']),
      distributionOf('channel', lastMonth, thisMonth),
    ];
    const current = [
      seriesOf('ticket_count', thisMonth, nextMonth),
      aggregationOf(['ticket_count'], thisMonth, nextMonth, ['status']),
      distributionOf('channel', thisMonth, nextMonth),
    ];
    const before = [];
    for (const r of [...old, ...current]) before.push(stable(await expectCache(api, r, 'MISS')));

    expect((await api.post('/api/v1/tickets', buildTicket({ created_at: iso(Date.now() - 1000) }))).status).toBe(201);

    for (const [i, r] of old.entries()) await expectCache(api, r, 'HIT', before[i]);
    const [series, aggregation, distribution] = await Promise.all(current.map((r) => expectCache(api, r, 'MISS')));
    expect(series!.body.total_count).toBe(1);
    expect(aggregation!.body.results[0].total_count).toBe(1);
    expect(distribution!.body.total).toBe(1);
  });

  it('recomputes January and keeps February HIT when a ticket is back-dated to January', async () => {
    const [jan, feb, mar] = [monthStart(2025, 0), monthStart(2025, 1), monthStart(2025, 2)];
    expect((await api.post('/api/v1/tickets', buildTicket({ created_at: iso(feb + 5 * DAY) }))).status).toBe(201);
    const january = seriesOf('ticket_count', jan, feb, { granularity: 'weekly' });
    const february = seriesOf('ticket_count', feb, mar, { granularity: 'weekly' });
    expect((await expectCache(api, january, 'MISS')).body.total_count).toBe(0);
    const feb1 = stable(await expectCache(api, february, 'MISS'));

    expect((await api.post('/api/v1/tickets', buildTicket({ created_at: iso(jan + 14 * DAY) }))).status).toBe(201);

    expect((await expectCache(api, january, 'MISS')).body.total_count).toBe(1);
    await expectCache(api, february, 'HIT', feb1);
  });

  it('scopes a write made through another instance the same way', async () => {
    const other = await startApp({ RATE_LIMIT_REQUESTS: '100000', RATE_LIMIT_FORCED: '100000' });
    try {
      const elsewhere = new Api(other.url, api.token!);
      const [jan, feb, mar] = [monthStart(2025, 0), monthStart(2025, 1), monthStart(2025, 2)];
      const january = seriesOf('ticket_count', jan, feb);
      const february = seriesOf('ticket_count', feb, mar);
      expect((await expectCache(elsewhere, january, 'MISS')).body.total_count).toBe(0);
      const feb1 = stable(await expectCache(elsewhere, february, 'MISS'));

      expect((await api.post('/api/v1/tickets', buildTicket({ created_at: iso(jan + 20 * DAY) }))).status).toBe(201);

      expect((await expectCache(elsewhere, january, 'MISS')).body.total_count).toBe(1);
      await expectCache(elsewhere, february, 'HIT', feb1);
    } finally {
      await other.close();
    }
  });

  it('on resolving a January ticket, recomputes January’s ticket_count and today’s resolution_time only', async () => {
    const [jan, feb] = [monthStart(2025, 0), monthStart(2025, 1)];
    const now = new Date();
    const thisMonth = monthStart(now.getUTCFullYear(), now.getUTCMonth());
    const nextMonth = monthStart(now.getUTCFullYear(), now.getUTCMonth() + 1);
    const created = await api.post('/api/v1/tickets', buildTicket({ status: 'open', created_at: iso(jan + 9 * DAY) }));
    expect(created.status).toBe(201);
    const changed = [
      aggregationOf(['ticket_count'], jan, feb, ['status']),
      seriesOf('resolution_time', thisMonth, nextMonth),
    ];
    const unchanged = [
      seriesOf('ticket_count', thisMonth, nextMonth),
      seriesOf('resolution_time', jan, feb),
      seriesOf('response_time', jan, feb),
      seriesOf('sentiment_score', jan, feb),
      distributionOf('status', feb, thisMonth),
    ];
    const before = [];
    for (const r of [...changed, ...unchanged]) before.push(stable(await expectCache(api, r, 'MISS')));

    const resolved = await api.patch(`/api/v1/tickets/${created.body.id}`, {
      status: 'resolved',
      resolved_at: iso(Date.now() - 1000),
    });
    expect(resolved.status, resolved.text).toBe(200);

    const byStatus = await expectCache(api, changed[0]!, 'MISS');
    expect(byStatus.body.results[0].breakdown.status).toEqual({ resolved: 1 });
    expect((await expectCache(api, changed[1]!, 'MISS')).body.total_count).toBe(1);
    for (const [i, r] of unchanged.entries()) await expectCache(api, r, 'HIT', before[changed.length + i]);
  });

  it('recomputes the dashboard’s backlog when an old open ticket changes, and only then', async () => {
    const dashboard = { path: `/api/v1/analytics/dashboard${qs({ period: '7d' })}` };
    const old = await api.post(
      '/api/v1/tickets',
      buildTicket({ status: 'open', created_at: iso(Date.now() - 60 * DAY) }),
    );
    expect(old.status).toBe(201);
    const first = await expectCache(api, dashboard, 'MISS');
    expect(first.body.current_backlog).toBe(1);

    // A ticket closed long ago, outside the range, changes neither the range nor the backlog.
    const closed = await api.post(
      '/api/v1/tickets',
      buildTicket({
        status: 'closed',
        created_at: iso(Date.now() - 90 * DAY),
        resolved_at: iso(Date.now() - 80 * DAY),
      }),
    );
    expect(closed.status, closed.text).toBe(201);
    await expectCache(api, dashboard, 'HIT', stable(first));

    const resolved = await api.patch(`/api/v1/tickets/${old.body.id}`, {
      status: 'resolved',
      resolved_at: iso(Date.now() - 40 * DAY),
    });
    expect(resolved.status, resolved.text).toBe(200);
    expect((await expectCache(api, dashboard, 'MISS')).body.current_backlog).toBe(0);
  });

  it('answers every cached query with the truth after random writes, and keeps every unaffected one a HIT', async () => {
    // Months of 2025 the tickets and the queries live in; "now" tickets land in the current month.
    const MONTHS = [0, 1, 2, 3, 4, 5].map((m) => monthStart(2025, m));
    const end = monthStart(2025, 6);
    const instant = fc.oneof(
      fc.integer({ min: MONTHS[0]!, max: end - 1 }),
      fc.constant(null), // now
    );
    const fields = fc.record(
      {
        status: fc.constantFrom('open', 'in_progress', 'pending', 'resolved', 'closed'),
        priority: fc.constantFrom('low', 'medium', 'high', 'urgent'),
        channel: fc.constantFrom('email', 'chat', 'phone'),
        sentiment_score: fc.oneof(fc.constant(null), fc.double({ min: -1, max: 1, noNaN: true })),
        responded_after: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 40 * DAY })),
        resolved_after: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 40 * DAY })),
      },
      { requiredKeys: [] },
    );
    const write = fc.oneof(
      fc.record({ kind: fc.constant('create' as const), at: instant, fields }),
      fc.record({ kind: fc.constant('patch' as const), target: fc.nat(), fields }),
      fc.record({ kind: fc.constant('reopen' as const), target: fc.nat() }),
      fc.record({
        kind: fc.constant('bulk' as const),
        items: fc.array(fc.record({ target: fc.option(fc.nat(), { nil: null }), at: instant, fields }), {
          minLength: 1,
          maxLength: 4,
        }),
      }),
    );
    // Queries over one month, two months, a quarter, the half year, and the current month.
    const now = new Date();
    const current = [
      monthStart(now.getUTCFullYear(), now.getUTCMonth()),
      monthStart(now.getUTCFullYear(), now.getUTCMonth() + 1),
    ] as const;
    const ranges: [number, number][] = [
      [MONTHS[0]!, MONTHS[1]!],
      [MONTHS[1]! + 10 * DAY, MONTHS[3]! - 3 * DAY],
      [MONTHS[3]!, end],
      [MONTHS[0]!, end],
      [MONTHS[4]! + 12 * HOUR, MONTHS[4]! + 20 * DAY],
      [...current],
    ];
    const queries = ranges.flatMap(([s, e]) => [
      { metrics: ['ticket_count'], range: [s, e], request: seriesOf('ticket_count', s, e) },
      { metrics: ['response_time'], range: [s, e], request: seriesOf('response_time', s, e, { status: 'resolved' }) },
      {
        metrics: ['resolution_time', 'sentiment_score'],
        range: [s, e],
        request: aggregationOf(['resolution_time', 'sentiment_score'], s, e, ['channel']),
      },
      { metrics: ['ticket_count'], range: [s, e], request: distributionOf('priority', s, e) },
      { metrics: ['response_time', 'resolution_time'], range: [s, e], request: performanceOf(s, e) },
    ]);
    const timestampOf: Record<string, 'created_at' | 'first_response_at' | 'resolved_at'> = {
      ticket_count: 'created_at',
      sentiment_score: 'created_at',
      response_time: 'first_response_at',
      resolution_time: 'resolved_at',
    };
    /** Whether a query's range touches the UTC month of `at` (the contract's unit of invalidation). */
    const touchesMonth = ([s, e]: number[], at: number) => {
      const d = new Date(at);
      const from = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
      const to = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      return s! < to && e! > from;
    };
    /** Independent of the service: may a change of these tickets alter this query's answer? */
    const affects = (q: (typeof queries)[number], tickets: readonly Record<string, string | null>[]) =>
      q.metrics.some((m) =>
        tickets.some((t) => t[timestampOf[m]!] !== null && touchesMonth(q.range, Date.parse(t[timestampOf[m]!]!))),
      );

    const bodyOf = (f: Record<string, unknown>, createdAt: number) => {
      const status = (f.status as string) ?? 'open';
      const responded = f.responded_after as number | null | undefined;
      const resolvedAfter = f.resolved_after as number | null | undefined;
      const firstResponse = responded == null ? null : Math.min(createdAt + responded, Date.now() - 1000);
      const closed = status === 'resolved' || status === 'closed';
      const resolved = closed ? Math.min(createdAt + (resolvedAfter ?? HOUR), Date.now() - 1000) : null;
      return {
        status,
        priority: f.priority ?? 'medium',
        channel: f.channel ?? 'email',
        category: 'general',
        sentiment_score: f.sentiment_score ?? null,
        created_at: iso(createdAt),
        first_response_at: firstResponse === null || firstResponse < createdAt ? null : iso(firstResponse),
        resolved_at: resolved === null || resolved < createdAt ? null : iso(resolved),
      };
    };

    let unaffected = 0;
    let unaffectedHits = 0;
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(write, { minLength: 1, maxLength: 5 }), async (writes) => {
        const org = newOrganizationId();
        const agent = new Api(server.url, tokenFor(org, 'admin'));
        const base = await agent.post('/api/v1/tickets/bulk', {
          tickets: MONTHS.map((m, i) => ({
            ...bodyOf({ responded_after: DAY, resolved_after: 3 * DAY, status: 'resolved' }, m + 7 * DAY),
            external_id: `base-${i}`,
          })),
        });
        expect(base.status, base.text).toBe(200);
        for (const q of queries) await send(agent, q.request);

        let serial = 0;
        for (const w of writes) {
          const list: Record<string, string | null>[] = (await agent.get('/api/v1/tickets?limit=500')).body.items;
          const pick = (n: number) => list[n % list.length]!;
          let touched: Record<string, string | null>[] = [];
          let res: HttpResult;
          if (w.kind === 'create') {
            res = await agent.post('/api/v1/tickets', bodyOf(w.fields, w.at ?? Date.now() - 5000));
            touched = res.status === 201 ? [res.body] : [];
          } else if (w.kind === 'patch' || w.kind === 'reopen') {
            const target = pick(w.target);
            const patch =
              w.kind === 'reopen'
                ? { status: 'open', resolved_at: null }
                : withoutCreatedAt(bodyOf(w.fields, Date.parse(target.created_at!)));
            res = await agent.patch(`/api/v1/tickets/${target.id}`, patch);
            touched = res.status === 200 ? [target, res.body] : [];
          } else {
            const items = w.items.map((item) => {
              const target = item.target === null ? null : pick(item.target);
              const createdAt = target ? Date.parse(target.created_at!) : (item.at ?? Date.now() - 5000);
              return { ...bodyOf(item.fields, createdAt), external_id: target?.external_id ?? `w-${serial++}` };
            });
            const unique = [...new Map(items.map((i) => [i.external_id, i])).values()];
            res = await agent.post('/api/v1/tickets/bulk', { tickets: unique });
            if (res.status === 200) {
              const after: Record<string, string | null>[] = (await agent.get('/api/v1/tickets?limit=500')).body.items;
              const ids = new Set(unique.map((i) => i.external_id));
              touched = [
                ...list.filter((t) => ids.has(t.external_id!)),
                ...after.filter((t) => ids.has(t.external_id!)),
              ];
            }
          }
          expect([200, 201, 400], res.text).toContain(res.status);

          for (const q of queries) {
            const cached = await send(agent, q.request);
            const fresh = await send(agent, q.request, true);
            expect(cached.status, cached.text).toBe(200);
            expect(stable(cached), `${q.request.path} answered ${cached.headers.get('x-cache')}`).toEqual(
              stable(fresh),
            );
            checked++;
            if (!affects(q, touched)) {
              unaffected++;
              if (cached.headers.get('x-cache') === 'HIT') unaffectedHits++;
              else
                expect.fail(
                  `${q.request.path} ${JSON.stringify(q.request.body ?? '')} was not affected by ${w.kind} but answered ${cached.headers.get('x-cache')}`,
                );
            }
          }
        }
      }),
      { numRuns: 15 },
    );
    expect(unaffected).toBeGreaterThan(0);
    console.log(
      `scoped invalidation: ${checked} cached answers checked against a fresh computation, ` +
        `${unaffectedHits} of ${unaffected} unaffected queries answered HIT`,
    );
  }, 300_000);
});
