import { Api, qs, type HttpResult } from '../support/http.js';
import { expectError } from '../support/errors.js';
import {
  cacheOf,
  clearOfMinuteEnd,
  createTicket,
  expectComputedOnce,
  expectMissThenHit,
  expectNotModified,
  invalidate,
  seededOrganization,
} from '../support/cache-checks.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { buildTicket } from '../support/factories.js';
import {
  CLOSED_STATUSES,
  DAY,
  HOUR,
  MINUTE,
  OPEN_STATUSES,
  WINDOW,
  WINDOW_QUERY,
  buildFixture,
  close,
  countBy,
  echoedRange,
  expectedPoints,
  expectPeriodRange,
  factsOf,
  inRange,
  mean,
  parseRequestTimestamp,
  readPoints,
  readTimestamp,
  recentTickets,
  seedOrganization,
  seriesTruth,
  type Range,
  type Ticket,
  type Zone,
} from '../support/analytics-truth.js';
import { expectedQueue, expectedQueueOf } from '../support/queue-truth.js';

/**
 * Ground truth for GET /analytics/dashboard (API.md §1, §3, §4.3), its
 * caching and invalidation (§1 Caching, §4.7) and its validation, against an
 * independent computation over a seeded fixture of two organizations.
 */

const PATH = '/api/v1/analytics/dashboard';
const NOW = Date.now();
const iso = (instant: number) => new Date(instant).toISOString();

type Params = Record<string, string | boolean | undefined>;
const dashboard = (params: Params = {}) => `${PATH}${qs(params)}`;

/** The whole expected body with its expected queue; timestamps as UTC ISO strings (the response is normalized the same way). */
function expectedDashboard<Q>(tickets: readonly Ticket[], range: Range, zone: Zone, queue: Q) {
  const created = tickets.filter((t) => inRange(t.created_at, range));
  const scored = created.filter((t) => t.sentiment_score !== null).map((t) => t.sentiment_score!);
  const trend = (metric: 'ticket_count' | 'response_time' | 'resolution_time') =>
    expectedPoints(seriesTruth(tickets, metric, range, zone, 'daily'), metric);
  return {
    start_date: iso(range.start),
    end_date: iso(range.end),
    // The zone's name is checked on its own (see 'echoes the zone name as requested').
    timezone: zone === 'UTC' ? 'UTC' : expect.any(String),
    total_tickets: created.length,
    open_tickets: created.filter((t) => OPEN_STATUSES.includes(t.status)).length,
    resolved_tickets: created.filter((t) => CLOSED_STATUSES.includes(t.status)).length,
    current_backlog: tickets.filter((t) => OPEN_STATUSES.includes(t.status)).length,
    avg_response_time_hours: close(mean(factsOf(tickets, 'response_time', range).map((f) => f.value))),
    avg_resolution_time_hours: close(mean(factsOf(tickets, 'resolution_time', range).map((f) => f.value))),
    sentiment_breakdown: {
      positive: scored.filter((s) => s > 0.2).length,
      neutral: scored.filter((s) => s >= -0.2 && s <= 0.2).length,
      negative: scored.filter((s) => s < -0.2).length,
    },
    category_breakdown: countBy(created, 'category'),
    channel_breakdown: countBy(created, 'channel'),
    priority_breakdown: countBy(created, 'priority'),
    trend_data: {
      ticket_count: trend('ticket_count'),
      response_time: trend('response_time'),
      resolution_time: trend('resolution_time'),
    },
    queue,
  };
}

/** The queue of a fixture whose tickets are all months old: the same counts whenever the request ran. */
const settledQueue = (tickets: readonly Ticket[], body: any) => {
  const asOf = Date.parse(body.queue.as_of);
  return expectedQueue(tickets, asOf, asOf);
};

function normalize(body: any, zone: Zone, problems: string[]): any {
  const trend = body.trend_data ?? {};
  return {
    ...body,
    start_date: readTimestamp(body.start_date, zone, problems),
    end_date: readTimestamp(body.end_date, zone, problems),
    trend_data: Object.fromEntries(Object.entries(trend).map(([k, v]) => [k, readPoints(v, zone, problems)])),
  };
}

/** A response body read in UTC (timestamps normalized), after checking the timestamps' form. */
function inUtc(body: any): any {
  const problems: string[] = [];
  const read = normalize(body, 'UTC', problems);
  expect(problems).toEqual([]);
  return read;
}

/** Requests the dashboard (use_cache=false) and compares the whole body with the independent computation. */
async function expectGroundTruth(
  api: Api,
  tickets: readonly Ticket[],
  params: Params,
  zone: Zone,
  range?: Range,
): Promise<HttpResult> {
  const sentAt = Date.now();
  const response = await api.get(dashboard({ ...params, use_cache: false }));
  expect(response.status, response.text).toBe(200);
  expect(response.headers.get('x-cache')).toBe('BYPASS');
  const queue = expectedQueueOf(tickets, response.body.queue, sentAt, Date.now());
  const problems: string[] = [];
  const actual = normalize(response.body, zone, problems);
  expect.soft(problems, 'timestamps carry the request zone offset').toEqual([]);
  expect(actual).toEqual(expectedDashboard(tickets, range ?? echoedRange(response.body, zone), zone, queue));
  return response;
}

const ORG_A_TICKETS = [...buildFixture(5101, 'dash-a', 240), ...recentTickets(5102, 'dash-a-recent', 40, NOW)];
const ORG_B_TICKETS = [...buildFixture(5103, 'dash-b', 100), ...recentTickets(5104, 'dash-b-recent', 15, NOW)];

const KOLKATA = { start_date: '2025-06-01', end_date: '2025-07-01', timezone: 'Asia/Kolkata' } as const;
const kolkataRange = (): Range => ({
  start: parseRequestTimestamp(KOLKATA.start_date, 'Asia/Kolkata'),
  end: parseRequestTimestamp(KOLKATA.end_date, 'Asia/Kolkata'),
});

describe('GET /analytics/dashboard ground truth', () => {
  let server: TestApp;
  let apiA: Api;
  let apiB: Api;

  beforeAll(async () => {
    server = await startApp();
    const orgA = newOrganizationId();
    const orgB = newOrganizationId();
    apiA = new Api(server.url, tokenFor(orgA, 'viewer'));
    apiB = new Api(server.url, tokenFor(orgB, 'viewer'));
    await seedOrganization(server.url, orgA, ORG_A_TICKETS);
    await seedOrganization(server.url, orgB, ORG_B_TICKETS);
  });
  afterAll(() => server.close());

  it('has a fixture that exercises every field', () => {
    const e = expectedDashboard(ORG_A_TICKETS, WINDOW, 'UTC', expectedQueue(ORG_A_TICKETS, NOW, NOW));
    expect(e.total_tickets).toBeGreaterThan(100);
    expect(e.open_tickets).toBeGreaterThan(10);
    expect(e.resolved_tickets).toBeGreaterThan(10);
    // Tickets of the backlog created outside the range.
    expect(e.current_backlog).toBeGreaterThan(e.open_tickets + 10);
    for (const band of ['positive', 'neutral', 'negative'] as const)
      expect(e.sentiment_breakdown[band]).toBeGreaterThan(5);
    // Responses and resolutions in range of tickets created before it, and the reverse.
    const created = (t: Ticket) => inRange(t.created_at, WINDOW);
    expect(factsOf(ORG_A_TICKETS, 'response_time', WINDOW).filter((f) => !created(f.ticket)).length).toBeGreaterThan(5);
    expect(factsOf(ORG_A_TICKETS, 'resolution_time', WINDOW).filter((f) => !created(f.ticket)).length).toBeGreaterThan(
      5,
    );
    expect(ORG_A_TICKETS.some((t) => created(t) && t.resolved_at !== null && t.resolved_at >= WINDOW.end)).toBe(true);
    expect(ORG_A_TICKETS.some((t) => created(t) && t.status === 'open' && t.reopened_from !== null)).toBe(true);
    // Unanswered tickets of every priority (the queue's own spec places them around their targets).
    for (const figures of Object.values(e.queue.by_priority)) expect(figures.unanswered).toBeGreaterThan(2);
  });

  it('over June 2025 in UTC', async () => {
    const { body } = await expectGroundTruth(apiA, ORG_A_TICKETS, WINDOW_QUERY, 'UTC', WINDOW);
    expect(body.start_date).toBe('2025-06-01T00:00:00Z');
    expect(body.end_date).toBe('2025-07-01T00:00:00Z');
    expect(body.trend_data.ticket_count).toHaveLength(30);
  });

  it('over local dates in Asia/Kolkata, with local-midnight daily buckets', async () => {
    const { body } = await expectGroundTruth(apiA, ORG_A_TICKETS, KOLKATA, 'Asia/Kolkata', kolkataRange());
    expect(body.start_date).toBe('2025-06-01T00:00:00+05:30');
    expect(body.trend_data.response_time[1].timestamp).toBe('2025-06-02T00:00:00+05:30');
  });

  it.each(['Asia/Kolkata', 'Europe/Berlin', 'UTC'])('echoes the zone name as requested: %s', async (timezone) => {
    const res = await apiA.get(dashboard({ ...WINDOW_QUERY, timezone }));
    expect(res.status, res.text).toBe(200);
    expect(res.body.timezone).toBe(timezone);
  });

  it('over two days that mostly responses and resolutions of older tickets reach', async () => {
    const range = { start_date: '2025-06-01T00:00:00Z', end_date: '2025-06-03T00:00:00Z' };
    await expectGroundTruth(apiA, ORG_A_TICKETS, range, 'UTC', { start: WINDOW.start, end: WINDOW.start + 2 * DAY });
  });

  it('over a range without tickets: zeros, nulls, empty breakdowns, and still the whole backlog', async () => {
    const { body } = await expectGroundTruth(
      apiA,
      ORG_A_TICKETS,
      { start_date: '2024-01-01T00:00:00Z', end_date: '2024-01-08T00:00:00Z' },
      'UTC',
      { start: Date.UTC(2024, 0, 1), end: Date.UTC(2024, 0, 8) },
    );
    expect(body.current_backlog).toBeGreaterThan(0);
    expect(body.avg_response_time_hours).toBeNull();
  });

  it('over period=7d: [now − 7d, now) with now rounded up to the minute', async () => {
    const requestedAt = Date.now();
    const { body } = await expectGroundTruth(apiA, ORG_A_TICKETS, { period: '7d' }, 'UTC');
    expectPeriodRange(echoedRange(body, 'UTC'), 7 * DAY, requestedAt, Date.now());
    expect(body.total_tickets).toBeGreaterThan(0);
  });

  it('defaults to the last 30 days', async () => {
    const requestedAt = Date.now();
    const { body } = await expectGroundTruth(apiA, ORG_A_TICKETS, {}, 'UTC');
    expectPeriodRange(echoedRange(body, 'UTC'), 30 * DAY, requestedAt, Date.now());
    expect(body.timezone).toBe('UTC');
    expect(body.total_tickets).toBe(ORG_A_TICKETS.filter((t) => t.created_at > NOW - 21 * DAY).length);
  });

  it('defaults to the last 30 days in a given zone', async () => {
    const requestedAt = Date.now();
    const { body } = await expectGroundTruth(apiA, ORG_A_TICKETS, { timezone: 'Asia/Kolkata' }, 'Asia/Kolkata');
    expectPeriodRange(echoedRange(body, 'Asia/Kolkata'), 30 * DAY, requestedAt, Date.now());
  });

  it('keeps organizations apart: org B sees only its own tickets and backlog', async () => {
    const a = await expectGroundTruth(apiA, ORG_A_TICKETS, WINDOW_QUERY, 'UTC', WINDOW);
    const b = await expectGroundTruth(apiB, ORG_B_TICKETS, WINDOW_QUERY, 'UTC', WINDOW);
    expect(b.body.total_tickets).not.toBe(a.body.total_tickets);
    expect(b.body.current_backlog).not.toBe(a.body.current_backlog);
  });
});

describe('GET /analytics/dashboard caching', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp();
  });
  beforeEach(() => clearOfMinuteEnd());
  afterAll(() => server.close());

  const seeded = (seed: number) => seededOrganization(server.url, seed, `dash-cache-${seed}`);

  const DASHBOARD = dashboard(WINDOW_QUERY);
  const PERFORMANCE = `/api/v1/analytics/performance${qs(WINDOW_QUERY)}`;
  const DISTRIBUTION = `/api/v1/analytics/distribution/status${qs(WINDOW_QUERY)}`;
  const SERIES = `/api/v1/analytics/time-series/ticket_count${qs(WINDOW_QUERY)}`;

  it('answers MISS, then HIT with the identical body and a strong ETag; use_cache=false answers BYPASS', async () => {
    const { api } = await seeded(1);
    const first = await expectMissThenHit(() => api.get(DASHBOARD));
    const bypass = await api.get(dashboard({ ...WINDOW_QUERY, use_cache: false }));
    expect(bypass.headers.get('x-cache')).toBe('BYPASS');
    expect(bypass.body).toEqual(first.body);
    expect((await api.get(DASHBOARD, { 'cache-control': 'no-cache' })).headers.get('x-cache')).toBe('BYPASS');
  });

  it('answers 304 without a body to a matching If-None-Match', async () => {
    const { api } = await seeded(2);
    await expectNotModified(api, DASHBOARD);
  });

  it('reflects resolving an old open ticket at once: counts, backlog, resolution mean and trend', async () => {
    const { api, tickets } = await seeded(3);
    const created_at = WINDOW.start + 3 * DAY + 7 * HOUR;
    const { id, ticket } = await createTicket(api, tickets, { external_id: 'old-open', priority: 'high', created_at });
    const before = await api.get(DASHBOARD);
    expect(inUtc(before.body)).toEqual(expectedDashboard(tickets, WINDOW, 'UTC', settledQueue(tickets, before.body)));
    expect((await api.get(DASHBOARD)).headers.get('x-cache')).toBe('HIT');

    const resolved_at = created_at + 20 * DAY + 90 * MINUTE;
    const patched = await api.patch(`/api/v1/tickets/${id}`, {
      status: 'resolved',
      resolved_at: iso(resolved_at),
    });
    expect(patched.status, patched.text).toBe(200);
    Object.assign(ticket, { status: 'resolved', resolved_at });

    const after = await api.get(DASHBOARD);
    expect(after.headers.get('x-cache')).not.toBe('HIT');
    expect(inUtc(after.body)).toEqual(expectedDashboard(tickets, WINDOW, 'UTC', settledQueue(tickets, after.body)));
    expect(after.body.open_tickets).toBe(before.body.open_tickets - 1);
    expect(after.body.resolved_tickets).toBe(before.body.resolved_tickets + 1);
    expect(after.body.current_backlog).toBe(before.body.current_backlog - 1);
    expect(after.body.avg_resolution_time_hours).not.toBe(before.body.avg_resolution_time_hours);
  });

  it('reflects resolving a ticket created long before the range in current_backlog only', async () => {
    const { api, tickets } = await seeded(4);
    const created_at = WINDOW.start - 200 * DAY;
    const created = await api.post('/api/v1/tickets', buildTicket({ status: 'pending', created_at: iso(created_at) }));
    expect(created.status, created.text).toBe(201);
    const before = await api.get(DASHBOARD);
    expect(before.body.current_backlog).toBe(tickets.filter((t) => OPEN_STATUSES.includes(t.status)).length + 1);
    expect((await api.get(DASHBOARD)).headers.get('x-cache')).toBe('HIT');
    await api.patch(`/api/v1/tickets/${created.body.id}`, { status: 'closed' });
    const after = await api.get(DASHBOARD);
    const { queue: queueBefore, ...rangeBefore } = before.body;
    const { queue: queueAfter, ...rangeAfter } = after.body;
    expect(rangeAfter).toEqual({ ...rangeBefore, current_backlog: rangeBefore.current_backlog - 1 });
    // It was unanswered and far past its target.
    expect(queueAfter.unanswered).toBe(queueBefore.unanswered - 1);
    expect(queueAfter.breaching).toBe(queueBefore.breaching - 1);
  });

  it('reflects a reopen by bulk update (external_id) at once', async () => {
    const { api, tickets } = await seeded(11);
    const target = tickets.find((t) => inRange(t.created_at, WINDOW) && inRange(t.resolved_at, WINDOW))!;
    expect(target).toBeDefined();
    const before = await api.get(DASHBOARD);
    expect((await api.get(DASHBOARD)).headers.get('x-cache')).toBe('HIT');
    const bulk = await api.post('/api/v1/tickets/bulk', {
      tickets: [{ external_id: target.external_id, status: 'in_progress' }],
    });
    expect(bulk.body).toEqual({ inserted: 0, updated: 1 });
    Object.assign(target, { status: 'in_progress', resolved_at: null });
    const after = await api.get(DASHBOARD);
    expect(inUtc(after.body)).toEqual(expectedDashboard(tickets, WINDOW, 'UTC', settledQueue(tickets, after.body)));
    expect(after.body.current_backlog).toBe(before.body.current_backlog + 1);
    expect(after.body.open_tickets).toBe(before.body.open_tickets + 1);
    expect(after.body.resolved_tickets).toBe(before.body.resolved_tickets - 1);
  });

  it('pattern=dashboard makes the dashboard MISS while the time-series and performance stay HIT', async () => {
    const { api } = await seeded(5);
    for (const path of [DASHBOARD, SERIES, PERFORMANCE]) await api.get(path);
    await invalidate(api, 'dashboard');
    expect(await cacheOf(api, DASHBOARD)).toBe('MISS');
    expect(await cacheOf(api, SERIES)).toBe('HIT');
    expect(await cacheOf(api, PERFORMANCE)).toBe('HIT');
  });

  it.each([
    ['response_time', { performance: 'MISS', distribution: 'HIT', series: 'HIT' }],
    ['resolution_time', { performance: 'MISS', distribution: 'HIT', series: 'HIT' }],
    ['sentiment_score', { performance: 'HIT', distribution: 'HIT', series: 'HIT' }],
    ['ticket_count', { performance: 'HIT', distribution: 'MISS', series: 'MISS' }],
  ])('pattern=%s invalidates the dashboard (it uses every metric)', async (pattern, others) => {
    const { api } = await seeded(6);
    for (const path of [DASHBOARD, PERFORMANCE, DISTRIBUTION, SERIES]) await api.get(path);
    await invalidate(api, pattern);
    expect(await cacheOf(api, DASHBOARD)).toBe('MISS');
    expect(await cacheOf(api, PERFORMANCE), 'performance').toBe(others.performance);
    expect(await cacheOf(api, DISTRIBUTION), 'distribution').toBe(others.distribution);
    expect(await cacheOf(api, SERIES), 'time-series').toBe(others.series);
  });

  it('other sections leave the dashboard HIT; all invalidates it', async () => {
    const { api } = await seeded(7);
    await api.get(DASHBOARD);
    for (const pattern of ['time-series', 'aggregations', 'performance', 'distribution']) {
      await invalidate(api, pattern);
      expect(await cacheOf(api, DASHBOARD), pattern).toBe('HIT');
    }
    await invalidate(api, 'all');
    expect(await cacheOf(api, DASHBOARD)).toBe('MISS');
  });

  it('invalidates only the caller’s organization', async () => {
    const a = await seeded(8);
    const b = await seeded(9);
    await a.api.get(DASHBOARD);
    await b.api.get(DASHBOARD);
    await invalidate(a.api, 'dashboard');
    await a.api.post('/api/v1/tickets', buildTicket({ created_at: iso(WINDOW.start + DAY) }));
    expect(await cacheOf(b.api, DASHBOARD)).toBe('HIT');
  });

  it('computes 20 identical concurrent cold requests once', async () => {
    const { api } = await seeded(10);
    await expectComputedOnce(server.url, 'dashboard', () => api.get(DASHBOARD));
  });
});

describe('GET /analytics/dashboard validation', () => {
  let server: TestApp;
  let api: Api;

  beforeAll(async () => {
    server = await startApp();
    api = new Api(server.url, tokenFor(newOrganizationId(), 'viewer'));
  });
  afterAll(() => server.close());

  it('accepts a well-formed request (control)', async () => {
    const res = await api.get(dashboard({ ...WINDOW_QUERY, timezone: 'Asia/Kolkata' }));
    expect(res.status, res.text).toBe(200);
  });

  it('rejects period together with start_date and end_date', async () => {
    expectError(await api.get(dashboard({ ...WINDOW_QUERY, period: '7d' })), 400, 'period');
  });

  it('rejects a reversed or empty range', async () => {
    const reversed = { start_date: WINDOW_QUERY.end_date, end_date: WINDOW_QUERY.start_date };
    expectError(await api.get(dashboard(reversed)), 400, 'start_date');
    expectError(await api.get(dashboard({ ...WINDOW_QUERY, end_date: WINDOW_QUERY.start_date })), 400, 'start_date');
  });

  it('rejects only one end of a range', async () => {
    expectError(await api.get(dashboard({ start_date: WINDOW_QUERY.start_date })), 400, 'end_date');
    expectError(await api.get(dashboard({ end_date: WINDOW_QUERY.end_date })), 400, 'start_date');
  });

  it.each([
    ['period', '1y'],
    ['timezone', 'Mars/Olympus'],
    ['start_date', 'yesterday'],
    ['timezone', 'UTC;drop table tickets'],
    ['start_date', "2025-06-01';drop table tickets--"],
    ['use_cache', 'maybe'],
  ])('rejects %s=%j', async (name, value) => {
    const params = name === 'period' ? { [name]: value } : { ...WINDOW_QUERY, [name]: value };
    expectError(await api.get(dashboard(params)), 400, name);
  });

  it('rejects unknown query parameters, filters and group_by included', async () => {
    expectError(await api.get(dashboard({ ...WINDOW_QUERY, foo: 'bar' })), 400, 'foo');
    expectError(await api.get(dashboard({ ...WINDOW_QUERY, group_by: 'status' })), 400, 'group_by');
  });
});
