import { Api, qs, type HttpResult } from '../support/http.js';
import { expectError } from '../support/errors.js';
import {
  cacheOf,
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
  DIMENSIONS,
  HOUR,
  MINUTE,
  WINDOW,
  WINDOW_QUERY,
  buildFixture,
  countBy,
  expectPeriodRange,
  inRange,
  matchesFilters,
  parseRequestTimestamp,
  readTimestamp,
  recentTickets,
  seedOrganization,
  type Dimension,
  type Filters,
  type Range,
  type Ticket,
  type Zone,
} from '../support/analytics-truth.js';

/**
 * Ground truth for GET /analytics/distribution/{field} (API.md §1, §4.5):
 * counts of the tickets created in range by a dimension, under filters given
 * as repeated query parameters; its caching, invalidation and validation.
 */

const NOW = Date.now();
const iso = (instant: number) => new Date(instant).toISOString();

type Params = Record<string, string | boolean | readonly string[] | undefined>;
const distribution = (field: string, params: Params = {}) => `/api/v1/analytics/distribution/${field}${qs(params)}`;

function expectedDistribution(tickets: readonly Ticket[], field: Dimension, range: Range, filters: Filters = {}) {
  const counted = tickets.filter((t) => inRange(t.created_at, range) && matchesFilters(t, filters));
  return {
    field,
    distribution: countBy(counted, field),
    total: counted.length,
    period: { start: iso(range.start), end: iso(range.end) },
  };
}

function normalize(body: any, zone: Zone, problems: string[]): any {
  return {
    ...body,
    period: {
      ...body.period,
      start: readTimestamp(body.period?.start, zone, problems),
      end: readTimestamp(body.period?.end, zone, problems),
    },
  };
}

/** A response body read in UTC (timestamps normalized), after checking the timestamps' form. */
function inUtc(body: any): any {
  const problems: string[] = [];
  const read = normalize(body, 'UTC', problems);
  expect(problems).toEqual([]);
  return read;
}

interface DistributionCase {
  name: string;
  field: Dimension;
  query: Params;
  zone: Zone;
  range: Range;
  filters?: Filters;
}

async function expectGroundTruth(api: Api, tickets: readonly Ticket[], c: DistributionCase): Promise<HttpResult> {
  const response = await api.get(distribution(c.field, { ...c.query, ...c.filters, use_cache: false }));
  expect(response.status, response.text).toBe(200);
  expect(response.headers.get('x-cache')).toBe('BYPASS');
  const problems: string[] = [];
  const actual = normalize(response.body, c.zone, problems);
  expect.soft(problems, 'timestamps carry the request zone offset').toEqual([]);
  expect(actual).toEqual(expectedDistribution(tickets, c.field, c.range, c.filters));
  return response;
}

const KOLKATA_RANGE: Range = {
  start: parseRequestTimestamp('2025-06-01', 'Asia/Kolkata'),
  end: parseRequestTimestamp('2025-06-16T12:00:00', 'Asia/Kolkata'),
};

const CASES: DistributionCase[] = [
  ...DIMENSIONS.map((field): DistributionCase => ({
    name: `by ${field} over June 2025`,
    field,
    query: WINDOW_QUERY,
    zone: 'UTC',
    range: WINDOW,
  })),
  {
    name: 'by status, filtered by status itself (open, pending)',
    field: 'status',
    query: WINDOW_QUERY,
    zone: 'UTC',
    range: WINDOW,
    filters: { status: ['open', 'pending'] },
  },
  {
    name: 'by assignee_id, filtered by assignee (unassigned, agent-2) and priority (high, urgent)',
    field: 'assignee_id',
    query: WINDOW_QUERY,
    zone: 'UTC',
    range: WINDOW,
    filters: { assignee_id: ['unassigned', 'agent-2'], priority: ['high', 'urgent'] },
  },
  {
    name: 'by category, filtered by channel and status',
    field: 'category',
    query: WINDOW_QUERY,
    zone: 'UTC',
    range: WINDOW,
    filters: { channel: ['chat', 'email', 'zendesk'], status: ['resolved', 'closed'] },
  },
  {
    name: 'by priority, filtered to nothing',
    field: 'priority',
    query: WINDOW_QUERY,
    zone: 'UTC',
    range: WINDOW,
    filters: { category: ['no-such-category'] },
  },
  {
    name: 'by channel over local wall times in Asia/Kolkata',
    field: 'channel',
    query: { start_date: '2025-06-01', end_date: '2025-06-16T12:00:00', timezone: 'Asia/Kolkata' },
    zone: 'Asia/Kolkata',
    range: KOLKATA_RANGE,
  },
  {
    name: 'by status over the range edges (start included, end excluded)',
    field: 'status',
    query: { start_date: iso(WINDOW.start), end_date: iso(WINDOW.start + 1) },
    zone: 'UTC',
    range: { start: WINDOW.start, end: WINDOW.start + 1 },
  },
];

const ORG_A_TICKETS = [...buildFixture(7101, 'dist-a', 240), ...recentTickets(7102, 'dist-a-recent', 40, NOW)];
const ORG_B_TICKETS = [...buildFixture(7103, 'dist-b', 100), ...recentTickets(7104, 'dist-b-recent', 15, NOW)];

describe('GET /analytics/distribution ground truth', () => {
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

  it('has a fixture in which every filter narrows and every value occurs', () => {
    for (const c of CASES.filter((x) => x.filters && x.name !== 'by priority, filtered to nothing')) {
      const filtered = expectedDistribution(ORG_A_TICKETS, c.field, c.range, c.filters).total;
      const all = expectedDistribution(ORG_A_TICKETS, c.field, c.range).total;
      expect(filtered, c.name).toBeGreaterThan(0);
      expect(filtered, c.name).toBeLessThan(all);
    }
    const byAssignee = expectedDistribution(ORG_A_TICKETS, 'assignee_id', WINDOW).distribution;
    expect(byAssignee.unassigned).toBeGreaterThan(0);
    expect(Object.keys(expectedDistribution(ORG_A_TICKETS, 'status', WINDOW).distribution)).toHaveLength(5);
    expect(expectedDistribution(ORG_A_TICKETS, 'status', CASES.at(-1)!.range).total).toBe(1);
  });

  for (const c of CASES) it(c.name, () => expectGroundTruth(apiA, ORG_A_TICKETS, c));

  it('takes a period: [now − 7d, now) with now rounded up to the minute', async () => {
    const requestedAt = Date.now();
    const response = await apiA.get(distribution('priority', { period: '7d', use_cache: false }));
    expect(response.status, response.text).toBe(200);
    const problems: string[] = [];
    const actual = normalize(response.body, 'UTC', problems);
    expect(problems).toEqual([]);
    const range = { start: Date.parse(actual.period.start), end: Date.parse(actual.period.end) };
    expectPeriodRange(range, 7 * DAY, requestedAt, Date.now());
    expect(actual).toEqual(expectedDistribution(ORG_A_TICKETS, 'priority', range));
    expect(actual.total).toBeGreaterThan(0);
  });

  it('keeps organizations apart: org B sees only its own tickets', async () => {
    const c = CASES[0]!;
    const a = await expectGroundTruth(apiA, ORG_A_TICKETS, c);
    const b = await expectGroundTruth(apiB, ORG_B_TICKETS, c);
    expect(b.body.total).not.toBe(a.body.total);
  });

  it('refuses injection-looking filters and fields, and the data is untouched', async () => {
    const status = 'open;drop table tickets';
    expectError(await apiA.get(distribution('status', { ...WINDOW_QUERY, status })), 400, 'status');
    expectError(
      await apiA.get(distribution('status', { ...WINDOW_QUERY, channel: "email' OR '1'='1" })),
      400,
      'channel',
    );
    expectError(await apiA.get(distribution(encodeURIComponent('status;drop'), WINDOW_QUERY)), 400, ...DIMENSIONS);
    expectError(await apiA.get(distribution(encodeURIComponent('status) --'), WINDOW_QUERY)), 400, ...DIMENSIONS);
    await expectGroundTruth(apiA, ORG_A_TICKETS, CASES[0]!);
  });
});

describe('GET /analytics/distribution caching', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  const seeded = (seed: number) => seededOrganization(server.url, seed, `dist-cache-${seed}`);

  const BY_STATUS = distribution('status', WINDOW_QUERY);
  const BY_CHANNEL = distribution('channel', WINDOW_QUERY);
  const DASHBOARD = `/api/v1/analytics/dashboard${qs(WINDOW_QUERY)}`;
  const SERIES = `/api/v1/analytics/time-series/ticket_count${qs(WINDOW_QUERY)}`;

  it('answers MISS, then HIT with the identical body and a strong ETag; use_cache=false answers BYPASS', async () => {
    const { api } = await seeded(1);
    const first = await expectMissThenHit(() => api.get(BY_STATUS));
    expect((await api.get(BY_CHANNEL)).headers.get('x-cache')).toBe('MISS');
    const bypass = await api.get(distribution('status', { ...WINDOW_QUERY, use_cache: false }));
    expect(bypass.headers.get('x-cache')).toBe('BYPASS');
    expect(bypass.body).toEqual(first.body);
    expect((await api.get(BY_STATUS, { 'cache-control': 'no-cache' })).headers.get('x-cache')).toBe('BYPASS');
  });

  it('answers 304 without a body to a matching If-None-Match', async () => {
    const { api } = await seeded(2);
    await expectNotModified(api, BY_STATUS);
  });

  it('reflects a new ticket and a status change on the next read', async () => {
    const { api, tickets } = await seeded(3);
    expect(inUtc((await api.get(BY_CHANNEL)).body)).toEqual(expectedDistribution(tickets, 'channel', WINDOW));
    expect(inUtc((await api.get(BY_STATUS)).body)).toEqual(expectedDistribution(tickets, 'status', WINDOW));
    expect(await cacheOf(api, BY_CHANNEL)).toBe('HIT');
    expect(await cacheOf(api, BY_STATUS)).toBe('HIT');

    const created_at = WINDOW.start + 12 * DAY + 4 * HOUR + 17 * MINUTE;
    const { id, ticket } = await createTicket(api, tickets, { status: 'pending', channel: 'fax', created_at });
    const byChannel = await api.get(BY_CHANNEL);
    expect(byChannel.headers.get('x-cache')).not.toBe('HIT');
    expect(inUtc(byChannel.body)).toEqual(expectedDistribution(tickets, 'channel', WINDOW));
    expect(byChannel.body.distribution.fax).toBe(1);
    expect(inUtc((await api.get(BY_STATUS)).body)).toEqual(expectedDistribution(tickets, 'status', WINDOW));

    const patched = await api.patch(`/api/v1/tickets/${id}`, { status: 'closed' });
    expect(patched.status, patched.text).toBe(200);
    ticket.status = 'closed';
    expect(inUtc((await api.get(BY_STATUS)).body)).toEqual(expectedDistribution(tickets, 'status', WINDOW));
    const filtered = distribution('channel', { ...WINDOW_QUERY, status: ['pending'] });
    expect(inUtc((await api.get(filtered)).body)).toEqual(
      expectedDistribution(tickets, 'channel', WINDOW, { status: ['pending'] }),
    );
  });

  it('pattern=ticket_count and pattern=distribution invalidate it', async () => {
    const { api } = await seeded(4);
    for (const pattern of ['ticket_count', 'distribution', 'all']) {
      await api.get(BY_STATUS);
      expect(await cacheOf(api, BY_STATUS)).toBe('HIT');
      await invalidate(api, pattern);
      expect(await cacheOf(api, BY_STATUS), pattern).toBe('MISS');
    }
  });

  it('other metrics and sections leave it HIT', async () => {
    const { api } = await seeded(5);
    for (const path of [BY_STATUS, DASHBOARD, SERIES]) await api.get(path);
    await invalidate(api, 'response_time');
    expect(await cacheOf(api, DASHBOARD)).toBe('MISS');
    expect(await cacheOf(api, BY_STATUS)).toBe('HIT');
    for (const pattern of [
      'resolution_time',
      'sentiment_score',
      'dashboard',
      'performance',
      'time-series',
      'aggregations',
    ]) {
      await invalidate(api, pattern);
      expect(await cacheOf(api, BY_STATUS), pattern).toBe('HIT');
    }
    await api.get(SERIES);
    await invalidate(api, 'distribution');
    expect(await cacheOf(api, BY_STATUS)).toBe('MISS');
    expect(await cacheOf(api, SERIES)).toBe('HIT');
  });

  it('computes 20 identical concurrent cold requests once', async () => {
    const { api } = await seeded(6);
    await expectComputedOnce(server.url, 'distribution', () => api.get(BY_CHANNEL));
  });
});

describe('GET /analytics/distribution validation', () => {
  let server: TestApp;
  let api: Api;

  beforeAll(async () => {
    server = await startApp();
    api = new Api(server.url, tokenFor(newOrganizationId(), 'viewer'));
  });
  afterAll(() => server.close());

  it('accepts a well-formed request (control)', async () => {
    const res = await api.get(distribution('assignee_id', { ...WINDOW_QUERY, assignee_id: ['unassigned'] }));
    expect(res.status, res.text).toBe(200);
  });

  it.each(['foo', 'sentiment_score', 'Status', 'created_at', 'organization_id'])(
    'rejects the field %j, listing the allowed ones',
    async (field) => {
      expectError(await api.get(distribution(field, WINDOW_QUERY)), 400, ...DIMENSIONS);
    },
  );

  it('requires a range', async () => {
    expectError(await api.get(distribution('status')), 400, /period|start_date/);
    expectError(await api.get(distribution('status', { status: 'open' })), 400, /period|start_date/);
  });

  it('rejects period together with start_date and end_date', async () => {
    expectError(await api.get(distribution('status', { ...WINDOW_QUERY, period: '7d' })), 400, 'period');
  });

  it('rejects a reversed range', async () => {
    const reversed = { start_date: WINDOW_QUERY.end_date, end_date: WINDOW_QUERY.start_date };
    expectError(await api.get(distribution('status', reversed)), 400, 'start_date');
  });

  it.each([
    ['status', 'open;drop table tickets'],
    ['status', ['open', 'bogus']],
    ['priority', 'HIGH'],
    ['channel', 'Bad Slug!'],
    ['category', 'a'.repeat(65)],
    ['timezone', 'Nowhere/Special'],
    ['use_cache', 'perhaps'],
  ])('rejects %s=%j', async (name, value) => {
    expectError(await api.get(distribution('category', { ...WINDOW_QUERY, [name]: value })), 400, name);
  });

  it('rejects unknown query parameters', async () => {
    expectError(await api.get(distribution('status', { ...WINDOW_QUERY, foo: 'bar' })), 400, 'foo');
    expectError(await api.get(distribution('status', { ...WINDOW_QUERY, group_by: 'priority' })), 400, 'group_by');
    expectError(await api.get(distribution('status', { ...WINDOW_QUERY, field: 'priority' })), 400, 'field');
  });
});
