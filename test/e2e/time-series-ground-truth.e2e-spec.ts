import { Api, qs } from '../support/http.js';
import { mulberry32 } from '../../src/demo/random.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { buildTicket } from '../support/factories.js';
import type { Filters, Metric, TicketFacts } from '../support/analytics-truth.js';
import {
  expectedSeries,
  expectGroundTruth,
  formatInZone,
  parseRequestTimestamp,
  type Granularity,
  type Range,
  type SeriesCase as AnyZoneCase,
} from '../support/series-truth.js';

/**
 * Ground truth for GET /analytics/time-series (API.md §1, §3, §4.1): every
 * metric × granularity × zone over a seeded fixture, compared field by field
 * with the independent computation of test/support/series-truth.ts.
 */

const HOUR = 3_600_000;

type Zone = (typeof ZONES)[number];

const METRICS: readonly Metric[] = ['ticket_count', 'response_time', 'resolution_time', 'sentiment_score'];
const GRANULARITIES: readonly Granularity[] = ['hourly', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly'];
/** Whole-hour zones with DST, and every kind of quarter- and half-hour offset (the rollups' 15-minute edges). */
const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Asia/Kathmandu', // +05:45
  'Australia/Lord_Howe', // +10:30, +11:00 in summer: a 30-minute DST shift
  'Pacific/Chatham', // +12:45, +13:45 in summer
  'America/St_Johns', // -03:30, -02:30 in summer
  'Australia/Eucla', // +08:45
] as const;

const STATUSES = ['open', 'in_progress', 'pending', 'resolved', 'closed'] as const;
const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
const CHANNELS = ['email', 'chat', 'phone', 'slack', 'web'] as const;
const CATEGORIES = ['general', 'billing', 'technical', 'account'] as const;
const AGENTS = ['agent-1', 'agent-2', 'agent-3', 'agent-4', 'agent-5', 'agent-6'] as const;

type Ticket = TicketFacts;
type SeriesCase = AnyZoneCase & { timezone: Zone };

// ---------------------------------------------------------------------------
// Ranges and fixture
// ---------------------------------------------------------------------------

const FIXTURE_START = Date.UTC(2024, 11, 20);
const FIXTURE_END = Date.UTC(2025, 4, 20);

/** One range given as local wall time (read in the request's zone), one with explicit offsets. */
const COARSE_RANGES: readonly Range[] = [
  { label: 'local wall times', start_date: '2025-01-15T13:30:00', end_date: '2025-05-12T08:00:00' },
  { label: 'explicit offsets', start_date: '2024-12-19T21:00:00-03:00', end_date: '2025-05-21T04:30:00+05:30' },
];
/**
 * Hourly stays far below 10,000 buckets: two weeks around Berlin's change,
 * three days around New York's and St John's, three around Lord Howe's and
 * Chatham's return to standard time.
 */
const HOURLY_RANGES: readonly Range[] = [
  { label: 'local wall times', start_date: '2025-03-23T00:00:00', end_date: '2025-04-06T00:00:00' },
  { label: 'explicit offsets', start_date: '2025-03-08T05:17:00-05:00', end_date: '2025-03-11T12:00:00+01:00' },
  { label: 'southern DST end', start_date: '2025-04-04T00:00:00', end_date: '2025-04-07T00:00:00' },
];
const FILTER_RANGE: Range = { label: 'local dates', start_date: '2025-02-01', end_date: '2025-04-15' };

const rangesFor = (granularity: Granularity) => (granularity === 'hourly' ? HOURLY_RANGES : COARSE_RANGES);

/** Instants the fixture must hold a ticket event at: DST changes, local boundaries, range edges. */
function anchorInstants(): number[] {
  const anchors: number[] = [];
  const dstChanges = [
    Date.UTC(2025, 2, 30, 1), // Europe/Berlin springs forward
    Date.UTC(2025, 2, 9, 7), // America/New_York springs forward
    Date.UTC(2024, 9, 27, 1), // Europe/Berlin falls back
    Date.UTC(2024, 10, 3, 6), // America/New_York falls back
    Date.UTC(2025, 2, 9, 5, 30), // America/St_Johns springs forward
    Date.UTC(2025, 3, 5, 15), // Australia/Lord_Howe goes back 30 minutes
    Date.UTC(2025, 3, 5, 14), // Pacific/Chatham falls back
    Date.UTC(2024, 9, 5, 15, 30), // Australia/Lord_Howe goes forward 30 minutes
  ];
  for (const change of dstChanges) {
    for (const delta of [-HOUR - 1, -HOUR, -1, 0, 1, HOUR / 2, HOUR - 1, HOUR]) anchors.push(change + delta);
  }
  const localBoundaries = [
    '2024-10-27', // Berlin's fall-back day
    '2024-10-28',
    '2024-11-03', // New York's fall-back day
    '2024-11-04',
    '2025-01-01', // year, quarter, month
    '2025-01-06', // ISO week (Monday)
    '2025-02-01',
    '2025-03-01',
    '2025-03-09', // New York's spring-forward day
    '2025-03-10', // Monday after it
    '2025-03-30', // Berlin's spring-forward day
    '2025-03-31', // Monday after it
    '2025-04-01', // quarter
    '2025-04-07',
    '2025-05-01',
    '2025-04-06', // Lord Howe's and Chatham's return to standard time
  ];
  for (const zone of ZONES) {
    for (const date of localBoundaries) {
      const localMidnight = parseRequestTimestamp(date, zone);
      anchors.push(localMidnight - 1, localMidnight);
    }
    for (const range of [...COARSE_RANGES, ...HOURLY_RANGES, FILTER_RANGE]) {
      const start = parseRequestTimestamp(range.start_date, zone);
      const end = parseRequestTimestamp(range.end_date, zone);
      anchors.push(start - 1, start, end - 1, end);
    }
  }
  return [...new Set(anchors)];
}

/**
 * `size` tickets; the first ones put one of their metric timestamps exactly
 * on an anchor (created_at, first_response_at or resolved_at), the rest are
 * spread over the fixture period.
 */
function buildFixture(seed: number, size: number, anchors: readonly number[]): Ticket[] {
  if (anchors.length > size) throw new Error(`${anchors.length} anchors do not fit in ${size} tickets`);
  const rng = mulberry32(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(rng() * values.length)]!;
  const delay = (maxHours: number) => (rng() < 0.05 ? 0 : Math.floor(rng() * maxHours * HOUR));
  const tickets: Ticket[] = [];
  for (let i = 0; i < size; i++) {
    const anchor = anchors[i];
    const role = anchor === undefined ? 'created' : pick(['created', 'created', 'first_response', 'resolved'] as const);
    const status = role === 'resolved' ? pick(['resolved', 'closed'] as const) : pick(STATUSES);
    const closed = status === 'resolved' || status === 'closed';
    const randomInstant = FIXTURE_START + Math.floor(rng() * (FIXTURE_END - FIXTURE_START));
    const created_at = role === 'created' ? (anchor ?? randomInstant) : anchor! - delay(role === 'resolved' ? 240 : 48);
    const score = rng();
    tickets.push({
      status,
      priority: pick(PRIORITIES),
      channel: pick(CHANNELS),
      category: pick(CATEGORIES),
      assignee_id: rng() < 0.25 ? null : pick(AGENTS),
      sentiment_score: score < 0.3 ? null : score < 0.34 ? -1 : score < 0.38 ? 1 : rng() * 2 - 1,
      created_at,
      first_response_at: role === 'first_response' ? anchor! : rng() < 0.25 ? null : created_at + delay(72),
      resolved_at: role === 'resolved' ? anchor! : closed ? created_at + delay(240) : null,
    });
  }
  return tickets;
}

/** The request body of a fixture ticket; timestamps are sent with assorted offsets. */
function ticketBody(ticket: Ticket, index: number): Record<string, unknown> {
  const zone = ZONES[index % ZONES.length]!;
  return buildTicket({
    status: ticket.status,
    priority: ticket.priority,
    channel: ticket.channel,
    category: ticket.category,
    assignee_id: ticket.assignee_id,
    sentiment_score: ticket.sentiment_score,
    created_at: formatInZone(ticket.created_at, zone),
    ...(ticket.first_response_at === null ? {} : { first_response_at: formatInZone(ticket.first_response_at, zone) }),
    ...(ticket.resolved_at === null ? {} : { resolved_at: formatInZone(ticket.resolved_at, zone) }),
  });
}

// ---------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------

const MATRIX: SeriesCase[] = METRICS.flatMap((metric) =>
  GRANULARITIES.flatMap((granularity) =>
    ZONES.flatMap((timezone) =>
      rangesFor(granularity).map((range) => ({
        name: `${metric} ${granularity} in ${timezone} over ${range.label}`,
        metric,
        granularity,
        timezone,
        range,
      })),
    ),
  ),
);

const FILTER_SETS: { filters: Filters; granularity: Granularity; timezone: Zone }[] = [
  { filters: { status: ['open', 'pending'] }, granularity: 'daily', timezone: 'Europe/Berlin' },
  { filters: { priority: ['high'] }, granularity: 'weekly', timezone: 'America/New_York' },
  { filters: { channel: ['chat', 'phone'] }, granularity: 'monthly', timezone: 'UTC' },
  { filters: { assignee_id: ['unassigned'] }, granularity: 'daily', timezone: 'UTC' },
  { filters: { assignee_id: ['agent-2'] }, granularity: 'hourly', timezone: 'Europe/Berlin' },
  { filters: { assignee_id: ['agent-3', 'unassigned'] }, granularity: 'quarterly', timezone: 'America/New_York' },
  {
    filters: { status: ['resolved', 'closed'], priority: ['high', 'urgent'], category: ['billing', 'technical'] },
    granularity: 'weekly',
    timezone: 'Europe/Berlin',
  },
];

const FILTER_CASES: SeriesCase[] = FILTER_SETS.flatMap(({ filters, granularity, timezone }) =>
  METRICS.map((metric) => {
    const range = granularity === 'hourly' ? HOURLY_RANGES[0]! : FILTER_RANGE;
    return {
      name: `${metric} ${granularity} in ${timezone} filtered by ${qs(filters).slice(1)}`,
      metric,
      granularity,
      timezone,
      range,
      filters,
    };
  }),
);

/** Local days with a DST change: how many real hours they have and the two buckets either side of the change. */
const DST_DAYS: {
  timezone: Zone;
  date: string;
  nextDate: string;
  hours: number;
  around: [string, string];
  metric: Metric;
}[] = [
  {
    timezone: 'Europe/Berlin',
    date: '2025-03-30',
    nextDate: '2025-03-31',
    hours: 23,
    around: ['2025-03-30T01:00:00+01:00', '2025-03-30T03:00:00+02:00'],
    metric: 'response_time',
  },
  {
    timezone: 'Europe/Berlin',
    date: '2024-10-27',
    nextDate: '2024-10-28',
    hours: 25,
    around: ['2024-10-27T02:00:00+02:00', '2024-10-27T02:00:00+01:00'],
    metric: 'ticket_count',
  },
  {
    timezone: 'America/New_York',
    date: '2025-03-09',
    nextDate: '2025-03-10',
    hours: 23,
    around: ['2025-03-09T01:00:00-05:00', '2025-03-09T03:00:00-04:00'],
    metric: 'ticket_count',
  },
  {
    timezone: 'America/New_York',
    date: '2024-11-03',
    nextDate: '2024-11-04',
    hours: 25,
    around: ['2024-11-03T01:00:00-04:00', '2024-11-03T01:00:00-05:00'],
    metric: 'resolution_time',
  },
];

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

const ORG_A_TICKETS = buildFixture(20250330, 700, anchorInstants());
const ORG_B_TICKETS = buildFixture(20250309, 120, []);

describe('time-series ground truth', () => {
  let server: TestApp;
  let apiA: Api;
  let apiB: Api;

  beforeAll(async () => {
    server = await startApp();
    const orgA = newOrganizationId();
    const orgB = newOrganizationId();
    apiA = new Api(server.url, tokenFor(orgA, 'viewer'));
    apiB = new Api(server.url, tokenFor(orgB, 'viewer'));
    for (const [org, tickets] of [
      [orgA, ORG_A_TICKETS],
      [orgB, ORG_B_TICKETS],
    ] as const) {
      const inserted = await new Api(server.url, tokenFor(org, 'agent')).post('/api/v1/tickets/bulk', {
        tickets: tickets.map(ticketBody),
      });
      expect(inserted.status, inserted.text).toBe(200);
      expect(inserted.body).toEqual({ inserted: tickets.length, updated: 0 });
    }
  });
  afterAll(() => server.close());

  it('has a fixture that puts tickets in every series and lets every filter narrow it', () => {
    for (const c of MATRIX) expect(expectedSeries(ORG_A_TICKETS, c).total_count, c.name).toBeGreaterThan(0);
    for (const c of FILTER_CASES.filter((f) => f.metric === 'ticket_count')) {
      const filtered = expectedSeries(ORG_A_TICKETS, c).total_count;
      const all = expectedSeries(ORG_A_TICKETS, { ...c, filters: {} }).total_count;
      expect(filtered, c.name).toBeGreaterThan(0);
      expect(filtered, c.name).toBeLessThan(all);
    }
  });

  for (const c of MATRIX) it(c.name, () => expectGroundTruth(apiA, ORG_A_TICKETS, c));

  for (const c of FILTER_CASES) it(c.name, () => expectGroundTruth(apiA, ORG_A_TICKETS, c));

  it('keeps organizations apart: each sees only its own tickets', async () => {
    const c: SeriesCase = {
      name: 'isolation',
      metric: 'ticket_count',
      granularity: 'monthly',
      timezone: 'UTC',
      range: COARSE_RANGES[1]!,
    };
    const a = await expectGroundTruth(apiA, ORG_A_TICKETS, c);
    const b = await expectGroundTruth(apiB, ORG_B_TICKETS, c);
    expect(b.body.total_count).toBe(ORG_B_TICKETS.length);
    expect(a.body.total_count).not.toBe(b.body.total_count);
  });

  it('gives Europe/Berlin 23 hourly buckets on the spring-forward day 2025-03-30', async () => {
    const { body } = await expectGroundTruth(apiA, ORG_A_TICKETS, {
      name: 'Berlin hourly spring-forward',
      metric: 'ticket_count',
      granularity: 'hourly',
      timezone: 'Europe/Berlin',
      range: { label: 'local day', start_date: '2025-03-30', end_date: '2025-03-31' },
    });
    expect(body.start_date).toBe('2025-03-30T00:00:00+01:00');
    expect(body.end_date).toBe('2025-03-31T00:00:00+02:00');
    expect(body.data_points).toHaveLength(23);
    const stamps = timestampsOf(body);
    expect(stamps.slice(0, 3)).toEqual([
      '2025-03-30T00:00:00+01:00',
      '2025-03-30T01:00:00+01:00',
      '2025-03-30T03:00:00+02:00',
    ]);
    expect(stamps.at(-1)).toBe('2025-03-30T23:00:00+02:00');
  });

  it('starts Europe/Berlin daily buckets at 2025-03-30T00:00:00+01:00 and then 2025-03-31T00:00:00+02:00', async () => {
    const { body } = await expectGroundTruth(apiA, ORG_A_TICKETS, {
      name: 'Berlin daily spring-forward',
      metric: 'ticket_count',
      granularity: 'daily',
      timezone: 'Europe/Berlin',
      range: { label: 'local days', start_date: '2025-03-29', end_date: '2025-04-01' },
    });
    const stamps = timestampsOf(body);
    expect(stamps).toEqual(['2025-03-29T00:00:00+01:00', '2025-03-30T00:00:00+01:00', '2025-03-31T00:00:00+02:00']);
    expect(Date.parse(stamps[2]!) - Date.parse(stamps[1]!)).toBe(23 * HOUR);
  });

  for (const day of DST_DAYS) {
    it(`gives ${day.timezone} ${day.hours} hourly buckets on ${day.date}, ${day.around[0]} then ${day.around[1]}`, async () => {
      const { body } = await expectGroundTruth(apiA, ORG_A_TICKETS, {
        name: `${day.timezone} hourly ${day.date}`,
        metric: day.metric,
        granularity: 'hourly',
        timezone: day.timezone,
        range: { label: 'local day', start_date: day.date, end_date: day.nextDate },
      });
      const stamps = timestampsOf(body);
      expect(stamps).toHaveLength(day.hours);
      const at = stamps.indexOf(day.around[0]);
      expect(stamps.slice(at, at + 2)).toEqual(day.around);
      expect(Date.parse(day.around[1]) - Date.parse(day.around[0])).toBe(HOUR);
    });

    it(`gives ${day.timezone} a ${day.hours}-hour daily bucket for ${day.date}`, async () => {
      const { body } = await expectGroundTruth(apiA, ORG_A_TICKETS, {
        name: `${day.timezone} daily ${day.date}`,
        metric: day.metric,
        granularity: 'daily',
        timezone: day.timezone,
        range: { label: 'local days', start_date: day.date, end_date: day.nextDate },
      });
      expect(body.data_points).toHaveLength(1);
      expect(Date.parse(body.end_date) - Date.parse(body.data_points[0].timestamp)).toBe(day.hours * HOUR);
    });
  }
});

function timestampsOf(body: { data_points: { timestamp: string }[] }): string[] {
  return body.data_points.map((p) => p.timestamp);
}
