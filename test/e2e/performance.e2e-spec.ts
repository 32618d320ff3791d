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
import {
  DAY,
  HOUR,
  MINUTE,
  WINDOW,
  WINDOW_QUERY,
  buildFixture,
  close,
  echoedRange,
  expectPeriodRange,
  factsOf,
  parseRequestTimestamp,
  percentileCont,
  readTimestamp,
  recentTickets,
  seedOrganization,
  type Range,
  type Ticket,
  type Zone,
} from '../support/analytics-truth.js';

/**
 * Ground truth for GET /analytics/performance (API.md §1, §4.4): continuous
 * percentiles (as PostgreSQL's percentile_cont) of response and resolution
 * hours and SLA compliance, against an independent computation; its caching,
 * invalidation and validation.
 */

const PATH = '/api/v1/analytics/performance';
const NOW = Date.now();
const iso = (instant: number) => new Date(instant).toISOString();

type Params = Record<string, string | boolean | undefined>;
const performance = (params: Params = {}) => `${PATH}${qs(params)}`;

type Targets = Record<'urgent' | 'high' | 'medium' | 'low', number>;
const DEFAULT_TARGETS: Targets = { urgent: 1, high: 4, medium: 8, low: 24 };

/** The share of the range's first responses within their priority's target; null when none. */
function slaRate(tickets: readonly Ticket[], range: Range, targets: Targets): number | null {
  const responses = factsOf(tickets, 'response_time', range);
  const withinTarget = responses.filter((f) => f.value <= targets[f.ticket.priority as keyof Targets]);
  return responses.length === 0 ? null : withinTarget.length / responses.length;
}

function expectedPerformance(tickets: readonly Ticket[], range: Range, zone: Zone, targets = DEFAULT_TARGETS) {
  const responseHours = factsOf(tickets, 'response_time', range).map((f) => f.value);
  const resolutionHours = factsOf(tickets, 'resolution_time', range).map((f) => f.value);
  return {
    start_date: iso(range.start),
    end_date: iso(range.end),
    // The zone's name is checked on its own (see 'echoes the zone name as requested').
    timezone: zone === 'UTC' ? 'UTC' : expect.any(String),
    accuracy: 'exact',
    response_time_p50: close(percentileCont(responseHours, 0.5)),
    response_time_p95: close(percentileCont(responseHours, 0.95)),
    response_time_p99: close(percentileCont(responseHours, 0.99)),
    resolution_time_p50: close(percentileCont(resolutionHours, 0.5)),
    resolution_time_p95: close(percentileCont(resolutionHours, 0.95)),
    resolution_time_p99: close(percentileCont(resolutionHours, 0.99)),
    sla_compliance_rate: close(slaRate(tickets, range, targets)),
    sla_targets_hours: targets,
  };
}

function normalize(body: any, zone: Zone, problems: string[]): any {
  return {
    ...body,
    start_date: readTimestamp(body.start_date, zone, problems),
    end_date: readTimestamp(body.end_date, zone, problems),
  };
}

/** A response body read in UTC (timestamps normalized), after checking the timestamps' form. */
function inUtc(body: any): any {
  const problems: string[] = [];
  const read = normalize(body, 'UTC', problems);
  expect(problems).toEqual([]);
  return read;
}

async function expectGroundTruth(
  api: Api,
  tickets: readonly Ticket[],
  params: Params,
  zone: Zone,
  range?: Range,
  targets = DEFAULT_TARGETS,
): Promise<HttpResult> {
  const response = await api.get(performance({ ...params, use_cache: false }));
  expect(response.status, response.text).toBe(200);
  expect(response.headers.get('x-cache')).toBe('BYPASS');
  const problems: string[] = [];
  const actual = normalize(response.body, zone, problems);
  expect.soft(problems, 'timestamps carry the request zone offset').toEqual([]);
  expect(actual).toEqual(expectedPerformance(tickets, range ?? echoedRange(response.body, zone), zone, targets));
  return response;
}

const ORG_A_TICKETS = [...buildFixture(6101, 'perf-a', 240), ...recentTickets(6102, 'perf-a-recent', 40, NOW)];
const ORG_B_TICKETS = [...buildFixture(6103, 'perf-b', 100), ...recentTickets(6104, 'perf-b-recent', 15, NOW)];

describe('percentile_cont, as written in this test', () => {
  it('interpolates linearly at p·(n−1)', () => {
    expect(percentileCont([], 0.5)).toBeNull();
    expect(percentileCont([7], 0.99)).toBe(7);
    expect(percentileCont([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(percentileCont([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0.95)).toBeCloseTo(10.5, 12);
    expect(percentileCont([0, 10], 0.99)).toBeCloseTo(9.9, 12);
  });
});

describe('GET /analytics/performance ground truth', () => {
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

  it('has a fixture with answers on both sides of every target, and exactly on some', () => {
    const responses = factsOf(ORG_A_TICKETS, 'response_time', WINDOW);
    expect(responses.length).toBeGreaterThan(100);
    for (const [priority, target] of Object.entries(DEFAULT_TARGETS)) {
      const ofPriority = responses.filter((f) => f.ticket.priority === priority);
      expect(
        ofPriority.some((f) => f.value <= target),
        priority,
      ).toBe(true);
      expect(
        ofPriority.some((f) => f.value > target),
        priority,
      ).toBe(true);
    }
    expect(responses.some((f) => f.ticket.priority === 'urgent' && f.value === 1)).toBe(true);
    expect(responses.some((f) => f.ticket.priority === 'high' && f.value === 4)).toBe(true);
    const rate = slaRate(ORG_A_TICKETS, WINDOW, DEFAULT_TARGETS)!;
    expect(rate).toBeGreaterThan(0.1);
    expect(rate).toBeLessThan(0.9);
    // Responses of tickets created before the range count; unanswered tickets do not.
    expect(responses.some((f) => f.ticket.created_at < WINDOW.start)).toBe(true);
    expect(factsOf(ORG_A_TICKETS, 'resolution_time', WINDOW).length).toBeGreaterThan(50);
  });

  it('over June 2025 in UTC', async () => {
    const { body } = await expectGroundTruth(apiA, ORG_A_TICKETS, WINDOW_QUERY, 'UTC', WINDOW);
    expect(body.start_date).toBe('2025-06-01T00:00:00Z');
    expect(body.end_date).toBe('2025-07-01T00:00:00Z');
  });

  it('over local dates in Asia/Kolkata', async () => {
    const query = { start_date: '2025-06-01', end_date: '2025-07-01', timezone: 'Asia/Kolkata' };
    const range = {
      start: parseRequestTimestamp(query.start_date, 'Asia/Kolkata'),
      end: parseRequestTimestamp(query.end_date, 'Asia/Kolkata'),
    };
    const { body } = await expectGroundTruth(apiA, ORG_A_TICKETS, query, 'Asia/Kolkata', range);
    expect(body.start_date).toBe('2025-06-01T00:00:00+05:30');
  });

  it.each(['Asia/Kolkata', 'Europe/Berlin', 'UTC'])('echoes the zone name as requested: %s', async (timezone) => {
    const res = await apiA.get(performance({ ...WINDOW_QUERY, timezone }));
    expect(res.status, res.text).toBe(200);
    expect(res.body.timezone).toBe(timezone);
  });

  it('over two days that mostly responses and resolutions of older tickets reach', async () => {
    const range = { start_date: '2025-06-01T00:00:00Z', end_date: '2025-06-03T00:00:00Z' };
    await expectGroundTruth(apiA, ORG_A_TICKETS, range, 'UTC', { start: WINDOW.start, end: WINDOW.start + 2 * DAY });
  });

  it('over one hour with a single response: every percentile is that response', async () => {
    // edge ticket 1: created at the window's start, answered exactly one hour later.
    const range = { start: WINDOW.start + HOUR - 1, end: WINDOW.start + HOUR + 1 };
    expect(factsOf(ORG_A_TICKETS, 'response_time', range)).toHaveLength(1);
    const { body } = await expectGroundTruth(
      apiA,
      ORG_A_TICKETS,
      { start_date: iso(range.start), end_date: iso(range.end) },
      'UTC',
      range,
    );
    expect(body.response_time_p50).toBeCloseTo(1, 9);
  });

  it('over a range without answers: nulls, and still the targets', async () => {
    const { body } = await expectGroundTruth(
      apiA,
      ORG_A_TICKETS,
      { start_date: '2024-01-01T00:00:00Z', end_date: '2024-01-08T00:00:00Z' },
      'UTC',
      { start: Date.UTC(2024, 0, 1), end: Date.UTC(2024, 0, 8) },
    );
    expect(body.sla_compliance_rate).toBeNull();
    expect(body.sla_targets_hours).toEqual(DEFAULT_TARGETS);
  });

  it('over period=7d: [now − 7d, now) with now rounded up to the minute', async () => {
    const requestedAt = Date.now();
    const { body } = await expectGroundTruth(apiA, ORG_A_TICKETS, { period: '7d' }, 'UTC');
    expectPeriodRange(echoedRange(body, 'UTC'), 7 * DAY, requestedAt, Date.now());
    expect(body.response_time_p50).not.toBeNull();
  });

  it('defaults to the last 30 days', async () => {
    const requestedAt = Date.now();
    const { body } = await expectGroundTruth(apiA, ORG_A_TICKETS, {}, 'UTC');
    expectPeriodRange(echoedRange(body, 'UTC'), 30 * DAY, requestedAt, Date.now());
    expect(body.timezone).toBe('UTC');
    expect(body.resolution_time_p99).not.toBeNull();
  });

  it('keeps organizations apart: org B sees only its own tickets', async () => {
    const a = await expectGroundTruth(apiA, ORG_A_TICKETS, WINDOW_QUERY, 'UTC', WINDOW);
    const b = await expectGroundTruth(apiB, ORG_B_TICKETS, WINDOW_QUERY, 'UTC', WINDOW);
    expect(b.body.response_time_p50).not.toBe(a.body.response_time_p50);
  });
});

describe('GET /analytics/performance with SLA_FIRST_RESPONSE_HOURS', () => {
  const TARGETS: Targets = { urgent: 2, high: 6, medium: 12, low: 48 };
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp({ SLA_FIRST_RESPONSE_HOURS: 'urgent=2,high=6,medium=12,low=48' });
  });
  afterAll(() => server.close());

  it('measures compliance against the configured targets and echoes them', async () => {
    const organizationId = newOrganizationId();
    const tickets = buildFixture(6105, 'perf-sla', 150);
    await seedOrganization(server.url, organizationId, tickets);
    const api = new Api(server.url, tokenFor(organizationId, 'viewer'));
    const { body } = await expectGroundTruth(api, tickets, WINDOW_QUERY, 'UTC', WINDOW, TARGETS);
    expect(body.sla_targets_hours).toEqual(TARGETS);
    // The fixture tells the two sets of targets apart.
    expect(slaRate(tickets, WINDOW, TARGETS)).toBeGreaterThan(slaRate(tickets, WINDOW, DEFAULT_TARGETS)! + 0.05);
  });
});

describe('GET /analytics/performance caching', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp();
  });
  // The dashboards it checks stay HITs only within their minute.
  beforeEach(() => clearOfMinuteEnd());
  afterAll(() => server.close());

  const seeded = (seed: number) => seededOrganization(server.url, seed, `perf-cache-${seed}`);

  const PERFORMANCE = performance(WINDOW_QUERY);
  const DASHBOARD = `/api/v1/analytics/dashboard${qs(WINDOW_QUERY)}`;
  const DISTRIBUTION = `/api/v1/analytics/distribution/priority${qs(WINDOW_QUERY)}`;
  const SERIES = `/api/v1/analytics/time-series/response_time${qs(WINDOW_QUERY)}`;

  it('answers MISS, then HIT with the identical body and a strong ETag; use_cache=false answers BYPASS', async () => {
    const { api } = await seeded(1);
    const first = await expectMissThenHit(() => api.get(PERFORMANCE));
    const bypass = await api.get(performance({ ...WINDOW_QUERY, use_cache: false }));
    expect(bypass.headers.get('x-cache')).toBe('BYPASS');
    expect(bypass.body).toEqual(first.body);
    expect((await api.get(PERFORMANCE, { 'cache-control': 'no-cache' })).headers.get('x-cache')).toBe('BYPASS');
  });

  it('answers 304 without a body to a matching If-None-Match', async () => {
    const { api } = await seeded(2);
    await expectNotModified(api, PERFORMANCE);
  });

  it('reflects resolving an old open ticket and answering another at once', async () => {
    const { api, tickets } = await seeded(3);
    const created_at = WINDOW.start + 2 * DAY + 3 * HOUR;
    const { id, ticket } = await createTicket(api, tickets, {
      external_id: 'old-open',
      priority: 'urgent',
      created_at,
    });
    const before = await api.get(PERFORMANCE);
    expect(inUtc(before.body)).toEqual(expectedPerformance(tickets, WINDOW, 'UTC'));
    expect((await api.get(PERFORMANCE)).headers.get('x-cache')).toBe('HIT');

    // Resolved after 500 hours, inside the range: above every other resolution of the small fixture.
    const resolved_at = created_at + 500 * HOUR;
    const resolved = await api.patch(`/api/v1/tickets/${id}`, {
      status: 'resolved',
      resolved_at: iso(resolved_at),
    });
    expect(resolved.status, resolved.text).toBe(200);
    Object.assign(ticket, { status: 'resolved', resolved_at });
    const afterResolve = await api.get(PERFORMANCE);
    expect(afterResolve.headers.get('x-cache')).not.toBe('HIT');
    expect(inUtc(afterResolve.body)).toEqual(expectedPerformance(tickets, WINDOW, 'UTC'));
    expect(afterResolve.body.resolution_time_p99).not.toBe(before.body.resolution_time_p99);

    const first_response_at = created_at + 30 * MINUTE;
    const answered = await api.patch(`/api/v1/tickets/${id}`, {
      first_response_at: iso(first_response_at),
    });
    expect(answered.status, answered.text).toBe(200);
    ticket.first_response_at = first_response_at;
    const afterAnswer = await api.get(PERFORMANCE);
    expect(inUtc(afterAnswer.body)).toEqual(expectedPerformance(tickets, WINDOW, 'UTC'));
    expect(afterAnswer.body.sla_compliance_rate).not.toBe(afterResolve.body.sla_compliance_rate);
  });

  it('pattern=performance makes performance MISS while the dashboard and the time-series stay HIT', async () => {
    const { api } = await seeded(4);
    for (const path of [PERFORMANCE, DASHBOARD, SERIES]) await api.get(path);
    await invalidate(api, 'performance');
    expect(await cacheOf(api, PERFORMANCE)).toBe('MISS');
    expect(await cacheOf(api, DASHBOARD)).toBe('HIT');
    expect(await cacheOf(api, SERIES)).toBe('HIT');
  });

  it.each([
    ['response_time', { performance: 'MISS', dashboard: 'MISS', distribution: 'HIT' }],
    ['resolution_time', { performance: 'MISS', dashboard: 'MISS', distribution: 'HIT' }],
    ['ticket_count', { performance: 'HIT', dashboard: 'MISS', distribution: 'MISS' }],
    ['sentiment_score', { performance: 'HIT', dashboard: 'MISS', distribution: 'HIT' }],
  ])('pattern=%s invalidates exactly the results computed from it', async (pattern, expected) => {
    const { api } = await seeded(5);
    for (const path of [PERFORMANCE, DASHBOARD, DISTRIBUTION]) await api.get(path);
    await invalidate(api, pattern);
    expect(await cacheOf(api, PERFORMANCE), 'performance').toBe(expected.performance);
    expect(await cacheOf(api, DASHBOARD), 'dashboard').toBe(expected.dashboard);
    expect(await cacheOf(api, DISTRIBUTION), 'distribution').toBe(expected.distribution);
  });

  it('computes 20 identical concurrent cold requests once', async () => {
    const { api } = await seeded(6);
    await expectComputedOnce(server.url, 'performance', () => api.get(PERFORMANCE));
  });
});

describe('GET /analytics/performance validation', () => {
  let server: TestApp;
  let api: Api;

  beforeAll(async () => {
    server = await startApp();
    api = new Api(server.url, tokenFor(newOrganizationId(), 'viewer'));
  });
  afterAll(() => server.close());

  it('accepts a well-formed request (control)', async () => {
    const res = await api.get(performance({ ...WINDOW_QUERY, timezone: 'Asia/Kolkata' }));
    expect(res.status, res.text).toBe(200);
  });

  it('echoes the accuracy: exact by default, approximate when asked', async () => {
    expect((await api.get(performance(WINDOW_QUERY))).body.accuracy).toBe('exact');
    expect((await api.get(performance({ ...WINDOW_QUERY, accuracy: 'approximate' }))).body.accuracy).toBe(
      'approximate',
    );
  });

  it('rejects period together with start_date and end_date', async () => {
    expectError(await api.get(performance({ ...WINDOW_QUERY, period: '30d' })), 400, 'period');
  });

  it('rejects a reversed range', async () => {
    const reversed = { start_date: WINDOW_QUERY.end_date, end_date: WINDOW_QUERY.start_date };
    expectError(await api.get(performance(reversed)), 400, 'start_date');
  });

  it('rejects only one end of a range', async () => {
    expectError(await api.get(performance({ start_date: WINDOW_QUERY.start_date })), 400, 'end_date');
  });

  it.each([
    ['period', '2w'],
    ['timezone', 'Europe/Atlantis'],
    ['end_date', '2025-02-30T00:00:00Z'],
    ['timezone', "UTC'; drop table tickets; --"],
    ['use_cache', 'nope'],
    ['accuracy', 'roughly'],
  ])('rejects %s=%j', async (name, value) => {
    const params = name === 'period' ? { [name]: value } : { ...WINDOW_QUERY, [name]: value };
    expectError(await api.get(performance(params)), 400, name);
  });

  it('rejects unknown query parameters, filters included', async () => {
    expectError(await api.get(performance({ ...WINDOW_QUERY, percentile: '0.9' })), 400, 'percentile');
    expectError(await api.get(performance({ ...WINDOW_QUERY, priority: 'high' })), 400, 'priority');
  });
});
