import { Api, qs, type HttpResult } from '../support/http.js';
import { expectError } from '../support/errors.js';
import { createTicket, expectComputedOnce, expectMissThenHit, seededOrganization } from '../support/cache-checks.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import {
  DAY,
  DIMENSIONS,
  HOUR,
  METRICS,
  MINUTE,
  STRONG_ETAG,
  WINDOW,
  WINDOW_QUERY,
  buildFixture,
  close,
  dimensionValue,
  expectedPoints,
  factsOf,
  parseRequestTimestamp,
  readPoints,
  readTimestamp,
  recentTickets,
  seedOrganization,
  seriesTruth,
  type Dimension,
  type Filters,
  type Granularity,
  type Metric,
  type Range,
  type Ticket,
  type Zone,
} from '../support/analytics-truth.js';

/**
 * Ground truth for POST /analytics/aggregations (API.md §1, §3, §4.2): each
 * result — totals, sums, means, extremes, the filled series and the
 * breakdowns by dimension — compared with an independent computation over a
 * seeded fixture of two organizations.
 */

const PATH = '/api/v1/analytics/aggregations';
const NOW = Date.now();

interface AggregationCase {
  name: string;
  metric_types: Metric[];
  range: { start_date: string; end_date: string };
  timezone?: Zone;
  granularity?: Granularity;
  filters?: Filters;
  group_by?: Dimension[];
}

/** The metric over the whole range for each value of a dimension: a count, or a mean. */
function breakdownOf(tickets: readonly Ticket[], metric: Metric, range: Range, filters: Filters, d: Dimension) {
  const groups = new Map<string, number[]>();
  for (const fact of factsOf(tickets, metric, range, filters)) {
    const key = dimensionValue(fact.ticket, d);
    groups.set(key, [...(groups.get(key) ?? []), fact.value]);
  }
  return Object.fromEntries(
    [...groups].map(([key, values]) => [
      key,
      metric === 'ticket_count' ? values.length : close(values.reduce((a, b) => a + b, 0) / values.length),
    ]),
  );
}

function expectedResult(
  tickets: readonly Ticket[],
  metric: Metric,
  range: Range,
  zone: Zone,
  granularity: Granularity,
  filters: Filters,
  groupBy: readonly Dimension[],
) {
  const truth = seriesTruth(tickets, metric, range, zone, granularity, filters);
  const extreme = (v: number | null) => (metric === 'ticket_count' ? v : close(v));
  return {
    metric_type: metric,
    granularity,
    total_count: truth.total_count,
    sum_value: close(truth.sum_value),
    avg_value: close(truth.average_value),
    min_value: extreme(truth.min_value),
    max_value: extreme(truth.max_value),
    breakdown: Object.fromEntries(groupBy.map((d) => [d, breakdownOf(tickets, metric, range, filters, d)])),
    time_series: expectedPoints(truth, metric),
  };
}

function requestBody(c: AggregationCase): Record<string, unknown> {
  return {
    metric_types: c.metric_types,
    ...c.range,
    ...(c.timezone ? { timezone: c.timezone } : {}),
    ...(c.granularity ? { granularity: c.granularity } : {}),
    ...(c.filters ? { filters: c.filters } : {}),
    ...(c.group_by ? { group_by: c.group_by } : {}),
  };
}

function normalize(body: any, zone: Zone, problems: string[]): any {
  return {
    ...body,
    generated_at: readTimestamp(body.generated_at, zone, problems),
    results: Array.isArray(body.results)
      ? body.results.map((r: any) => ({ ...r, time_series: readPoints(r.time_series, zone, problems) }))
      : body.results,
  };
}

/** A response body read in UTC (timestamps normalized), after checking the timestamps' form. */
function inUtc(body: any): any {
  const problems: string[] = [];
  const read = normalize(body, 'UTC', problems);
  expect(problems).toEqual([]);
  return read;
}

/** Posts the case (use_cache: false) and compares the whole body with the independent computation. */
async function expectGroundTruth(
  api: Api,
  organizationId: number,
  tickets: readonly Ticket[],
  c: AggregationCase,
): Promise<HttpResult> {
  const zone = c.timezone ?? 'UTC';
  const range = {
    start: parseRequestTimestamp(c.range.start_date, zone),
    end: parseRequestTimestamp(c.range.end_date, zone),
  };
  const before = Date.now();
  const response = await api.post(PATH, { ...requestBody(c), use_cache: false });
  const after = Date.now();
  expect(response.status, response.text).toBe(200);
  expect(response.headers.get('x-cache')).toBe('BYPASS');
  const problems: string[] = [];
  const actual = normalize(response.body, zone, problems);
  expect.soft(problems, 'timestamps carry the request zone offset').toEqual([]);
  expect(actual).toEqual({
    organization_id: organizationId,
    query: expect.any(Object),
    results: c.metric_types.map((m) =>
      expectedResult(tickets, m, range, zone, c.granularity ?? 'daily', c.filters ?? {}, c.group_by ?? []),
    ),
    generated_at: expect.any(String),
  });
  const generated = Date.parse(response.body.generated_at);
  expect(generated).toBeGreaterThanOrEqual(before - 1000);
  expect(generated).toBeLessThanOrEqual(after + 1000);
  return response;
}

const CASES: AggregationCase[] = [
  {
    name: 'all four metrics, daily in UTC, grouped by every dimension',
    metric_types: [...METRICS],
    range: WINDOW_QUERY,
    group_by: [...DIMENSIONS],
  },
  {
    name: 'results in the requested order, no group_by gives an empty breakdown',
    metric_types: ['sentiment_score', 'resolution_time', 'ticket_count', 'response_time'],
    range: WINDOW_QUERY,
  },
  {
    name: 'filtered by status and assignee (unassigned included), grouped by assignee and status',
    metric_types: [...METRICS],
    range: WINDOW_QUERY,
    filters: { status: ['open', 'pending'], assignee_id: ['unassigned', 'agent-2'] },
    group_by: ['assignee_id', 'status'],
  },
  {
    name: 'weekly, filtered by priority and channel, grouped by priority and category',
    metric_types: ['response_time', 'ticket_count', 'resolution_time'],
    range: { start_date: '2025-05-20T06:00:00Z', end_date: '2025-07-03T18:30:00Z' },
    granularity: 'weekly',
    filters: { priority: ['high', 'urgent'], channel: ['chat', 'phone', 'email'] },
    group_by: ['priority', 'category'],
  },
  {
    name: 'local dates in Asia/Kolkata, grouped by channel',
    metric_types: [...METRICS],
    range: { start_date: '2025-06-01', end_date: '2025-07-01' },
    timezone: 'Asia/Kolkata',
    group_by: ['channel'],
  },
  {
    name: 'a filter that leaves some metrics with nothing counted',
    metric_types: [...METRICS],
    range: WINDOW_QUERY,
    filters: { category: ['refunds'] },
    group_by: ['status'],
  },
  {
    name: 'a filter that matches no ticket at all',
    metric_types: [...METRICS],
    range: WINDOW_QUERY,
    filters: { channel: ['no-such-channel'] },
    group_by: ['channel'],
  },
  {
    name: 'a range that only the tickets created before it reach (responses and resolutions inside)',
    metric_types: [...METRICS],
    range: { start_date: '2025-06-01T00:00:00Z', end_date: '2025-06-03T00:00:00Z' },
    group_by: ['priority'],
  },
];

const ORG_A_TICKETS = [...buildFixture(4201, 'agg-a', 260), ...recentTickets(4202, 'agg-a-recent', 40, NOW)];
const ORG_B_TICKETS = [...buildFixture(4203, 'agg-b', 120), ...recentTickets(4204, 'agg-b-recent', 15, NOW)];

describe('POST /analytics/aggregations ground truth', () => {
  let server: TestApp;
  let orgA: number;
  let orgB: number;
  let apiA: Api;
  let apiB: Api;

  beforeAll(async () => {
    server = await startApp();
    orgA = newOrganizationId();
    orgB = newOrganizationId();
    apiA = new Api(server.url, tokenFor(orgA, 'viewer'));
    apiB = new Api(server.url, tokenFor(orgB, 'viewer'));
    await seedOrganization(server.url, orgA, ORG_A_TICKETS);
    await seedOrganization(server.url, orgB, ORG_B_TICKETS);
  });
  afterAll(() => server.close());

  it('has a fixture that exercises every case', () => {
    const byStart = (c: AggregationCase) => ({
      start: parseRequestTimestamp(c.range.start_date, c.timezone ?? 'UTC'),
      end: parseRequestTimestamp(c.range.end_date, c.timezone ?? 'UTC'),
    });
    const main = byStart(CASES[0]!);
    for (const metric of METRICS) expect(factsOf(ORG_A_TICKETS, metric, main).length, metric).toBeGreaterThan(20);
    // Created before the range, answered or resolved inside it.
    const crossing = ORG_A_TICKETS.filter(
      (t) =>
        t.created_at < WINDOW.start &&
        [t.first_response_at, t.resolved_at].some((x) => x !== null && x >= WINDOW.start && x < WINDOW.end),
    );
    expect(crossing.length).toBeGreaterThan(10);
    // Created inside, answered or resolved after it.
    expect(
      ORG_A_TICKETS.some(
        (t) => t.created_at >= WINDOW.start && t.created_at < WINDOW.end && (t.first_response_at ?? 0) >= WINDOW.end,
      ),
    ).toBe(true);
    expect(ORG_A_TICKETS.filter((t) => t.reopened_from !== null).length).toBeGreaterThan(5);
    const nothing = byStart(CASES[5]!);
    expect(factsOf(ORG_A_TICKETS, 'sentiment_score', nothing, { category: ['refunds'] })).toHaveLength(0);
    expect(factsOf(ORG_A_TICKETS, 'ticket_count', nothing, { category: ['refunds'] })).toHaveLength(1);
    const early = byStart(CASES[7]!);
    expect(factsOf(ORG_A_TICKETS, 'response_time', early).some((f) => f.ticket.created_at < early.start)).toBe(true);
  });

  for (const c of CASES) it(c.name, () => expectGroundTruth(apiA, orgA, ORG_A_TICKETS, c));

  it('takes a period: [now − 30d, now) with now rounded up to the minute', async () => {
    const minute = Math.ceil(Date.now() / MINUTE) * MINUTE;
    const response = await apiA.post(PATH, {
      metric_types: ['ticket_count', 'response_time'],
      period: '30d',
      group_by: ['status'],
      use_cache: false,
    });
    expect(response.status, response.text).toBe(200);
    // The recent fixture keeps hours away from the range's ends, so a minute either way changes nothing.
    const range = { start: minute - 30 * DAY, end: minute };
    const problems: string[] = [];
    const actual = normalize(response.body, 'UTC', problems);
    expect(problems).toEqual([]);
    expect(actual.results).toEqual(
      (['ticket_count', 'response_time'] as const).map((m) =>
        expectedResult(ORG_A_TICKETS, m, range, 'UTC', 'daily', {}, ['status']),
      ),
    );
    expect(actual.results[0].total_count).toBeGreaterThan(0);
  });

  it('echoes the organization and the normalized request', async () => {
    const { body } = await apiA.post(PATH, { metric_types: ['resolution_time', 'ticket_count'], ...WINDOW_QUERY });
    expect(body.organization_id).toBe(orgA);
    expect(body.query).toMatchObject({ metric_types: ['resolution_time', 'ticket_count'], granularity: 'daily' });
  });

  it('keeps organizations apart: org B sees only its own tickets', async () => {
    const c = CASES[0]!;
    const a = await expectGroundTruth(apiA, orgA, ORG_A_TICKETS, c);
    const b = await expectGroundTruth(apiB, orgB, ORG_B_TICKETS, c);
    expect(b.body.organization_id).toBe(orgB);
    expect(b.body.results[0].total_count).not.toBe(a.body.results[0].total_count);
  });
});

describe('POST /analytics/aggregations caching', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  /** A fresh organization seeded with a small fixture; `tickets` is the model the writes keep up to date. */
  const seeded = (seed: number) => seededOrganization(server.url, seed, `agg-cache-${seed}`);

  const BODY = { metric_types: ['ticket_count', 'response_time'], ...WINDOW_QUERY, group_by: ['priority'] };
  const withoutGeneratedAt = (body: any) => ({ ...body, generated_at: undefined });

  it('answers MISS, then HIT with the identical body and a strong ETag', async () => {
    const { api } = await seeded(1);
    await expectMissThenHit(() => api.post(PATH, BODY));
  });

  it('bypasses the cache with the body field use_cache: false, and with Cache-Control: no-cache', async () => {
    const { api } = await seeded(2);
    const first = await api.post(PATH, BODY);
    const bypass = await api.post(PATH, { ...BODY, use_cache: false });
    expect(bypass.status, bypass.text).toBe(200);
    expect(bypass.headers.get('x-cache')).toBe('BYPASS');
    expect(bypass.headers.get('etag')).toMatch(STRONG_ETAG);
    expect(withoutGeneratedAt(bypass.body)).toEqual(withoutGeneratedAt(first.body));
    const byHeader = await api.post(PATH, BODY, { 'cache-control': 'no-cache' });
    expect(byHeader.headers.get('x-cache')).toBe('BYPASS');
    expect((await api.post(PATH, BODY)).headers.get('x-cache')).toBe('HIT');
  });

  it('refuses use_cache as a query parameter (it is a body field)', async () => {
    const { api } = await seeded(3);
    expectError(await api.post(`${PATH}${qs({ use_cache: 'false' })}`, BODY), 400, 'use_cache');
  });

  it('reflects a new ticket and a first response on the next read (read-your-writes)', async () => {
    const { api, organizationId, tickets } = await seeded(4);
    const body = { metric_types: ['ticket_count', 'response_time'], ...WINDOW_QUERY, group_by: ['priority'] };
    const expected = () => ({
      organization_id: organizationId,
      query: expect.any(Object),
      results: (['ticket_count', 'response_time'] as const).map((m) =>
        expectedResult(tickets, m, WINDOW, 'UTC', 'daily', {}, ['priority']),
      ),
      generated_at: expect.any(String),
    });
    expect(inUtc((await api.post(PATH, body)).body)).toEqual(expected());
    expect((await api.post(PATH, body)).headers.get('x-cache')).toBe('HIT');

    const created_at = WINDOW.start + 10 * DAY + 5 * HOUR;
    const { id } = await createTicket(api, tickets, { priority: 'urgent', created_at });
    const afterCreate = await api.post(PATH, body);
    expect(afterCreate.headers.get('x-cache')).not.toBe('HIT');
    expect(inUtc(afterCreate.body)).toEqual(expected());

    const first_response_at = created_at + 90 * MINUTE;
    const patched = await api.patch(`/api/v1/tickets/${id}`, {
      first_response_at: new Date(first_response_at).toISOString(),
    });
    expect(patched.status, patched.text).toBe(200);
    tickets.at(-1)!.first_response_at = first_response_at;
    const afterResponse = await api.post(PATH, body);
    expect(afterResponse.headers.get('x-cache')).not.toBe('HIT');
    expect(inUtc(afterResponse.body)).toEqual(expected());
    expect(afterResponse.body.results[1].breakdown.priority.urgent).not.toBe(
      afterCreate.body.results[1].breakdown.priority.urgent,
    );
  });

  it('is invalidated by pattern=aggregations and by its own metrics, not by other sections or metrics', async () => {
    const { api } = await seeded(5);
    const body = { metric_types: ['ticket_count'], ...WINDOW_QUERY };
    const series = `/api/v1/analytics/time-series/ticket_count${qs(WINDOW_QUERY)}`;
    const cached = async () => (await api.post(PATH, body)).headers.get('x-cache');
    const invalidate = async (pattern: string) => {
      const res = await api.delete(`/api/v1/analytics/cache${qs({ pattern })}`);
      expect(res.status, res.text).toBe(200);
    };
    expect(await cached()).toBe('MISS');
    await api.get(series);
    expect(await cached()).toBe('HIT');

    await invalidate('aggregations');
    expect(await cached()).toBe('MISS');
    expect((await api.get(series)).headers.get('x-cache')).toBe('HIT');

    for (const pattern of ['dashboard', 'performance', 'distribution', 'time-series', 'resolution_time']) {
      await invalidate(pattern);
      expect(await cached(), pattern).toBe('HIT');
    }

    await invalidate('ticket_count');
    expect(await cached()).toBe('MISS');
    await invalidate('all');
    expect(await cached()).toBe('MISS');
  });

  it('computes 20 identical concurrent cold requests once', async () => {
    const { api } = await seeded(6);
    await expectComputedOnce(server.url, 'aggregations', () => api.post(PATH, BODY));
  });
});

describe('POST /analytics/aggregations validation', () => {
  let server: TestApp;
  let api: Api;
  let organizationId: number;
  const tickets = buildFixture(77, 'agg-validation', 30);

  beforeAll(async () => {
    server = await startApp();
    organizationId = newOrganizationId();
    api = new Api(server.url, tokenFor(organizationId, 'viewer'));
    await seedOrganization(server.url, organizationId, tickets);
  });
  afterAll(() => server.close());

  const VALID = { metric_types: ['ticket_count'], ...WINDOW_QUERY };

  it('accepts a well-formed request (control)', async () => {
    const res = await api.post(PATH, { ...VALID, group_by: ['status'], filters: { status: ['open'] } });
    expect(res.status, res.text).toBe(200);
  });

  it.each(['sentiment_score', 'foo', 'Status', 'created_at'])(
    'rejects group_by [%j], naming the allowed dimensions',
    async (dimension) => {
      expectError(await api.post(PATH, { ...VALID, group_by: [dimension] }), 400, 'group_by', ...DIMENSIONS);
    },
  );

  it.each(['sentiment_score', 'foo', 'organization_id'])(
    'rejects the filter key %j, naming the allowed dimensions',
    async (key) => {
      expectError(await api.post(PATH, { ...VALID, filters: { [key]: ['x'] } }), 400, /filters/, ...DIMENSIONS);
    },
  );

  it('rejects injection-looking group_by and filter values, and the data is untouched', async () => {
    expectError(await api.post(PATH, { ...VALID, group_by: ['status;drop table tickets'] }), 400, 'group_by');
    expectError(await api.post(PATH, { ...VALID, group_by: ["status) --'"] }), 400, 'group_by');
    expectError(await api.post(PATH, { ...VALID, filters: { status: ['open;drop table tickets'] } }), 400, 'status');
    expectError(await api.post(PATH, { ...VALID, filters: { "status'--": ['open'] } }), 400, /filters/);
    const after = await api.post(PATH, { ...VALID, use_cache: false });
    expect(after.body.results[0].total_count).toBe(factsOf(tickets, 'ticket_count', WINDOW).length);
  });

  it('rejects empty, unknown and missing metric_types', async () => {
    expectError(await api.post(PATH, { ...VALID, metric_types: [] }), 400, 'metric_types');
    expectError(await api.post(PATH, { ...VALID, metric_types: ['ticket_counts'] }), 400, 'metric_types');
    expectError(await api.post(PATH, { ...VALID, metric_types: ['ticket_count', 'csat'] }), 400, 'metric_types');
    expectError(await api.post(PATH, { ...VALID, metric_types: 'ticket_count' }), 400, 'metric_types');
    const { metric_types: _, ...withoutMetrics } = VALID;
    expectError(await api.post(PATH, withoutMetrics), 400, 'metric_types');
  });

  it('rejects period together with start_date and end_date', async () => {
    expectError(await api.post(PATH, { ...VALID, period: '30d' }), 400, 'period');
  });

  it('rejects a request without a range', async () => {
    expectError(await api.post(PATH, { metric_types: ['ticket_count'] }), 400, /period|start_date/);
  });

  it('rejects a reversed range', async () => {
    expectError(
      await api.post(PATH, { ...VALID, start_date: WINDOW_QUERY.end_date, end_date: WINDOW_QUERY.start_date }),
      400,
      'start_date',
    );
  });

  it('rejects an unknown body property', async () => {
    expectError(await api.post(PATH, { ...VALID, foo: 1 }), 400, 'foo');
    expectError(await api.post(PATH, { ...VALID, organization_id: 1 }), 400, 'organization_id');
  });

  it('rejects an unknown granularity, timezone and enum filter value', async () => {
    expectError(await api.post(PATH, { ...VALID, granularity: 'minutely' }), 400, 'granularity');
    expectError(await api.post(PATH, { ...VALID, timezone: 'Mars/Olympus' }), 400, 'timezone');
    expectError(await api.post(PATH, { ...VALID, filters: { priority: ['HIGH'] } }), 400, 'priority');
  });

  it('rejects a series of more than 10,000 buckets before running it', async () => {
    expectError(
      await api.post(PATH, {
        metric_types: ['ticket_count'],
        start_date: '2023-01-01T00:00:00Z',
        end_date: '2025-01-01T00:00:00Z',
        granularity: 'hourly',
      }),
      400,
    );
  });
});
