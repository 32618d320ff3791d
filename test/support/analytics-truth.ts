import { mulberry32 } from '../../src/demo/random.js';
import { buildTicket } from './factories.js';
import { Api } from './http.js';
import { tokenFor } from './app.js';

/**
 * The fixture and the independent arithmetic shared by the ground-truth
 * specs of aggregations, dashboard, performance and distribution (API.md §3,
 * §4.2–§4.5). Plain TypeScript over the fixture, nothing from src/: the
 * expectation must not share a misunderstanding with the service.
 *
 * Zones are limited to UTC and one fixed-offset zone (Asia/Kolkata, +05:30,
 * no DST since 1945), so local days are plain offset arithmetic; DST is the
 * time-series ground truth's business.
 */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export type Metric = 'ticket_count' | 'response_time' | 'resolution_time' | 'sentiment_score';
export const METRICS: readonly Metric[] = ['ticket_count', 'response_time', 'resolution_time', 'sentiment_score'];

export type Dimension = 'status' | 'priority' | 'channel' | 'category' | 'assignee_id';
export const DIMENSIONS: readonly Dimension[] = ['status', 'priority', 'channel', 'category', 'assignee_id'];
export type Filters = Partial<Record<Dimension, readonly string[]>>;

export const STATUSES = ['open', 'in_progress', 'pending', 'resolved', 'closed'] as const;
export const OPEN_STATUSES: readonly string[] = ['open', 'in_progress', 'pending'];
export const CLOSED_STATUSES: readonly string[] = ['resolved', 'closed'];
export const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
export const CHANNELS = ['email', 'chat', 'phone', 'slack', 'web'] as const;
export const CATEGORIES = ['general', 'billing', 'technical', 'account'] as const;
export const AGENTS = ['agent-1', 'agent-2', 'agent-3', 'agent-4', 'agent-5'] as const;

export type Zone = 'UTC' | 'Asia/Kolkata';
/** Minutes ahead of UTC, constant all year. */
export const ZONE_OFFSET: Readonly<Record<Zone, number>> = { UTC: 0, 'Asia/Kolkata': 330 };
export const ZONE_SUFFIX: Readonly<Record<Zone, string>> = { UTC: 'Z', 'Asia/Kolkata': '+05:30' };

export interface Ticket {
  external_id: string;
  status: string;
  priority: string;
  channel: string;
  category: string;
  assignee_id: string | null;
  sentiment_score: number | null;
  created_at: number;
  first_response_at: number | null;
  resolved_at: number | null;
  /** Inserted as `resolved` with this resolution time, then moved back to `status` by a bulk update. */
  reopened_from: number | null;
}

/** A half-open range of instants `[start, end)`. */
/** What the metrics and filters read of a ticket. */
export type TicketFacts = Omit<Ticket, 'external_id' | 'reopened_from'>;

export interface Range {
  start: number;
  end: number;
}

// ---------------------------------------------------------------------------
// Deterministic fixture
// ---------------------------------------------------------------------------

/** The analysis window of most cases: June 2025, 30 days, in UTC. */
export const WINDOW: Range = { start: Date.UTC(2025, 5, 1), end: Date.UTC(2025, 6, 1) };
export const WINDOW_QUERY = { start_date: '2025-06-01T00:00:00Z', end_date: '2025-07-01T00:00:00Z' } as const;

const base = (id: string, overrides: Partial<Ticket> & Pick<Ticket, 'created_at'>): Ticket => ({
  external_id: id,
  status: 'open',
  priority: 'medium',
  channel: 'email',
  category: 'general',
  assignee_id: 'agent-1',
  sentiment_score: null,
  first_response_at: null,
  resolved_at: null,
  reopened_from: null,
  ...overrides,
});

/**
 * Tickets of every kind around `window`: created inside it; created before it
 * with their first response or resolution inside it (they count in the
 * response/resolution metrics of the window but not in ticket_count); created
 * late in it with the response or resolution after its end; created after
 * it; old open backlog; reopened ones; null assignees, null scores, no first
 * response.
 */
export function buildFixture(seed: number, prefix: string, size: number, window: Range = WINDOW): Ticket[] {
  const rng = mulberry32(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(rng() * values.length)]!;
  const between = (from: number, to: number) => from + Math.floor(rng() * (to - from));
  /** Waiting times spread across the SLA targets (1, 4, 8, 24 hours) and well beyond. */
  const delay = (maxHours: number) =>
    rng() < 0.05 ? 0 : Math.floor(rng() * Math.min(maxHours, pick([2, 6, 12, 30, 80, 240])) * HOUR);
  const { start: S, end: E } = window;
  const tickets: Ticket[] = [];
  for (let i = 0; i < size; i++) {
    const r = rng();
    const kind = r < 0.5 ? 'inside' : r < 0.7 ? 'before' : r < 0.78 ? 'late' : r < 0.86 ? 'after' : 'old';
    const created_at =
      kind === 'inside'
        ? between(S, E)
        : kind === 'before'
          ? between(S - 20 * DAY, S)
          : kind === 'late'
            ? between(E - 3 * DAY, E)
            : kind === 'after'
              ? between(E, E + 10 * DAY)
              : between(S - 90 * DAY, S - 20 * DAY);
    const crossesIn = kind === 'before' && rng() < 0.7;
    const status = kind === 'old' && rng() < 0.6 ? pick(OPEN_STATUSES) : pick(STATUSES);
    const closed = CLOSED_STATUSES.includes(status);
    const first_response_at =
      rng() < 0.25 ? null : crossesIn ? Math.max(created_at, between(S, S + 5 * DAY)) : created_at + delay(240);
    const resolved_at = !closed ? null : crossesIn ? between(S, S + 10 * DAY) : created_at + delay(400);
    const score = rng();
    tickets.push({
      external_id: `${prefix}-${i}`,
      status,
      priority: pick(PRIORITIES),
      channel: pick(CHANNELS),
      category: pick(CATEGORIES),
      assignee_id: rng() < 0.2 ? null : pick(AGENTS),
      sentiment_score:
        score < 0.25 ? null : score < 0.3 ? pick([0.2, -0.2, 1, -1, 0, 0.2000000001, -0.2000000001]) : rng() * 2 - 1,
      created_at,
      first_response_at,
      resolved_at,
      reopened_from: !closed && rng() < 0.12 ? created_at + delay(200) : null,
    });
  }
  tickets.push(...edgeTickets(prefix, window));
  return tickets;
}

/** Tickets exactly on the range's edges and the SLA targets. */
export function edgeTickets(prefix: string, { start: S, end: E }: Range): Ticket[] {
  const id = (n: number) => `${prefix}-edge-${n}`;
  return [
    base(id(1), { created_at: S, first_response_at: S + HOUR, priority: 'urgent', sentiment_score: 0.2 }),
    base(id(2), { created_at: E - 1, sentiment_score: -0.2, assignee_id: null }),
    base(id(3), { created_at: E, sentiment_score: 0.9, first_response_at: E + HOUR }),
    base(id(4), { created_at: S - 1, first_response_at: S, priority: 'high', channel: 'phone' }),
    base(id(5), {
      created_at: S - 2 * DAY,
      status: 'resolved',
      first_response_at: E - 1,
      resolved_at: E,
      priority: 'low',
    }),
    base(id(6), {
      created_at: S + DAY,
      first_response_at: S + DAY + HOUR + 1,
      priority: 'urgent',
      sentiment_score: 0.2000000001,
    }),
    base(id(7), {
      created_at: S + 2 * DAY,
      first_response_at: S + 2 * DAY + 4 * HOUR,
      priority: 'high',
      sentiment_score: -0.2000000001,
    }),
    base(id(8), { created_at: S + 3 * DAY, first_response_at: S + 3 * DAY + 8 * HOUR + 1, priority: 'medium' }),
    base(id(9), {
      created_at: S + 4 * DAY,
      status: 'closed',
      first_response_at: S + 5 * DAY,
      resolved_at: S + 4 * DAY,
      priority: 'low',
      assignee_id: null,
      category: 'refunds',
    }),
    base(id(10), { created_at: S + 5 * DAY, first_response_at: S + 5 * DAY, channel: 'zendesk' }),
    base(id(11), { created_at: S - 3 * DAY, status: 'resolved', resolved_at: S - 1 }),
  ];
}

/**
 * Tickets of the last three weeks before `now`, for `period` and the 30-day
 * default. Every instant keeps away from `now - 7d` and `now - 30d` by hours,
 * so the minute the service rounds `now` to cannot move a ticket across.
 */
export function recentTickets(seed: number, prefix: string, size: number, now: number): Ticket[] {
  const rng = mulberry32(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(rng() * values.length)]!;
  const between = (from: number, to: number) => from + Math.floor(rng() * (to - from));
  const tickets: Ticket[] = [];
  for (let i = 0; i < size; i++) {
    const older = rng() < 0.5;
    const created_at = older ? between(now - 20 * DAY, now - 9 * DAY) : between(now - 6 * DAY, now - 2 * DAY);
    const latest = older ? now - 8 * DAY : now - HOUR;
    const within = (maxHours: number) => Math.min(latest, created_at + Math.floor(rng() * maxHours * HOUR));
    const status = pick(STATUSES);
    const closed = CLOSED_STATUSES.includes(status);
    tickets.push({
      external_id: `${prefix}-${i}`,
      status,
      priority: pick(PRIORITIES),
      channel: pick(CHANNELS),
      category: pick(CATEGORIES),
      assignee_id: rng() < 0.2 ? null : pick(AGENTS),
      sentiment_score: rng() < 0.25 ? null : rng() * 2 - 1,
      created_at,
      first_response_at: rng() < 0.2 ? null : within(30),
      resolved_at: closed ? within(30) : null,
      reopened_from: null,
    });
  }
  return tickets;
}

const iso = (instant: number) => new Date(instant).toISOString();

/** The request body of a fixture ticket as first inserted (a reopened one still resolved). */
export function ticketBody(t: Ticket): Record<string, unknown> {
  const reopened = t.reopened_from !== null;
  return buildTicket({
    external_id: t.external_id,
    status: reopened ? 'resolved' : t.status,
    priority: t.priority,
    channel: t.channel,
    category: t.category,
    assignee_id: t.assignee_id,
    sentiment_score: t.sentiment_score,
    created_at: iso(t.created_at),
    ...(t.first_response_at === null ? {} : { first_response_at: iso(t.first_response_at) }),
    ...(reopened ? { resolved_at: iso(t.reopened_from!) } : {}),
    ...(t.resolved_at === null ? {} : { resolved_at: iso(t.resolved_at) }),
  });
}

/**
 * Inserts the tickets into an organization with one bulk request (admin
 * token), then reopens the reopened ones with a second bulk request by
 * external_id, which must clear their resolved_at (API.md §2 status rules).
 */
export async function seedOrganization(baseUrl: string, organizationId: number, tickets: readonly Ticket[]) {
  const admin = new Api(baseUrl, tokenFor(organizationId, 'admin'));
  const inserted = await admin.post('/api/v1/tickets/bulk', { tickets: tickets.map(ticketBody) });
  expect(inserted.status, inserted.text).toBe(200);
  expect(inserted.body).toEqual({ inserted: tickets.length, updated: 0 });
  const reopened = tickets.filter((t) => t.reopened_from !== null);
  if (reopened.length === 0) return;
  const updated = await admin.post('/api/v1/tickets/bulk', {
    tickets: reopened.map((t) => ({ external_id: t.external_id, status: t.status })),
  });
  expect(updated.status, updated.text).toBe(200);
  expect(updated.body).toEqual({ inserted: 0, updated: reopened.length });
}

// ---------------------------------------------------------------------------
// Independent computation (API.md §3, §4.1)
// ---------------------------------------------------------------------------

export const inRange = (instant: number | null, { start, end }: Range) =>
  instant !== null && instant >= start && instant < end;

/** The value a ticket is grouped and filtered under; no assignee is `unassigned`. */
export const dimensionValue = (t: TicketFacts, d: Dimension): string => t[d] ?? 'unassigned';

export function matchesFilters(t: TicketFacts, filters: Filters = {}): boolean {
  return Object.entries(filters).every(([d, values]) => values.includes(dimensionValue(t, d as Dimension)));
}

/** Where a ticket counts for a metric and with what value, or null when it does not count. */
export function metricFact(t: TicketFacts, metric: Metric): { at: number; value: number } | null {
  switch (metric) {
    case 'ticket_count':
      return { at: t.created_at, value: 1 };
    case 'response_time':
      return t.first_response_at === null
        ? null
        : { at: t.first_response_at, value: (t.first_response_at - t.created_at) / HOUR };
    case 'resolution_time':
      return t.resolved_at === null ? null : { at: t.resolved_at, value: (t.resolved_at - t.created_at) / HOUR };
    case 'sentiment_score':
      return t.sentiment_score === null ? null : { at: t.created_at, value: t.sentiment_score };
  }
}

export interface Fact {
  ticket: Ticket;
  at: number;
  value: number;
}

/** The tickets that count for a metric over a range, with their values. */
export function factsOf(tickets: readonly Ticket[], metric: Metric, range: Range, filters: Filters = {}): Fact[] {
  const facts: Fact[] = [];
  for (const ticket of tickets) {
    if (!matchesFilters(ticket, filters)) continue;
    const fact = metricFact(ticket, metric);
    if (fact !== null && inRange(fact.at, range)) facts.push({ ticket, ...fact });
  }
  return facts;
}

export const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
export const mean = (values: readonly number[]) => (values.length === 0 ? null : sum(values) / values.length);

export type Granularity = 'daily' | 'weekly';

/**
 * Starts of the buckets overlapping the range, at local midnights of a
 * fixed-offset zone (weeks from Monday).
 */
export function bucketStarts(range: Range, granularity: Granularity, zone: Zone): number[] {
  const offset = ZONE_OFFSET[zone] * MINUTE;
  const local = range.start + offset;
  let first = local - (((local % DAY) + DAY) % DAY);
  if (granularity === 'weekly') first -= ((new Date(first).getUTCDay() + 6) % 7) * DAY;
  const step = granularity === 'weekly' ? 7 * DAY : DAY;
  const starts: number[] = [];
  for (let b = first - offset; b < range.end; b += step) starts.push(b);
  return starts;
}

export interface SeriesTruth {
  data_points: { timestamp: string; value: number | null; count: number }[];
  total_count: number;
  /** Sum of the counted values; null for ticket_count or when nothing counted. */
  sum_value: number | null;
  average_value: number | null;
  min_value: number | null;
  max_value: number | null;
}

/** A metric's series as §4.1 defines it; timestamps as UTC ISO strings. */
export function seriesTruth(
  tickets: readonly Ticket[],
  metric: Metric,
  range: Range,
  zone: Zone,
  granularity: Granularity = 'daily',
  filters: Filters = {},
): SeriesTruth {
  const starts = bucketStarts(range, granularity, zone);
  const counts = starts.map(() => 0);
  const sums = starts.map(() => 0);
  const facts = factsOf(tickets, metric, range, filters);
  for (const fact of facts) {
    let i = starts.length - 1;
    while (starts[i]! > fact.at) i--;
    counts[i]! += 1;
    sums[i]! += fact.value;
  }
  const isCount = metric === 'ticket_count';
  const values = starts.map((_, i) => (isCount ? counts[i]! : counts[i]! > 0 ? sums[i]! / counts[i]! : null));
  const extremes = values.filter((v, i) => isCount || counts[i]! > 0) as number[];
  const total = facts.length;
  const valueSum = sum(facts.map((f) => f.value));
  return {
    data_points: starts.map((b, i) => ({ timestamp: iso(b), value: values[i]!, count: counts[i]! })),
    total_count: total,
    sum_value: isCount || total === 0 ? null : valueSum,
    average_value: isCount ? total / starts.length : total === 0 ? null : valueSum / total,
    min_value: extremes.length === 0 ? null : Math.min(...extremes),
    max_value: extremes.length === 0 ? null : Math.max(...extremes),
  };
}

/** Counts by the values that occur. */
export function countBy(tickets: readonly Ticket[], d: Dimension): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of tickets) counts[dimensionValue(t, d)] = (counts[dimensionValue(t, d)] ?? 0) + 1;
  return counts;
}

/** PostgreSQL's percentile_cont: sort, position p·(n−1), interpolate linearly between neighbours. */
export function percentileCont(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = p * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

// ---------------------------------------------------------------------------
// Requests and responses
// ---------------------------------------------------------------------------

/** A float expectation: toBeCloseTo(value, 9), or exactly null. */
export const close = (value: number | null) => (value === null ? null : expect.closeTo(value, 9));

/** Every number of a record as close(…). */
export const closeAll = (record: Record<string, number>) =>
  Object.fromEntries(Object.entries(record).map(([k, v]) => [k, close(v)]));

/** A series' data points as the response should carry them (floats as closeTo). */
export const expectedPoints = (truth: SeriesTruth, metric: Metric) =>
  truth.data_points.map((p) => ({ ...p, value: metric === 'ticket_count' ? p.value : close(p.value) }));

/** `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]`, optionally with `Z`/offset, read in a fixed-offset zone. */
export function parseRequestTimestamp(raw: string, zone: Zone): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?(Z|[+-]\d{2}:\d{2})?$/.exec(raw);
  if (!m) throw new Error(`unsupported timestamp in the test: ${raw}`);
  const wall = Date.UTC(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4] ?? 0),
    Number(m[5] ?? 0),
    Number(m[6] ?? 0),
  );
  const offset = m[7];
  if (offset === undefined) return wall - ZONE_OFFSET[zone] * MINUTE;
  if (offset === 'Z') return wall;
  const sign = offset.startsWith('-') ? -1 : 1;
  return wall - sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6))) * MINUTE;
}

export const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A response timestamp as a UTC ISO string, after checking that it is ISO
 * 8601 with the request zone's offset; a problem is recorded otherwise.
 */
export function readTimestamp(text: unknown, zone: Zone, problems: string[]): unknown {
  if (typeof text !== 'string') {
    problems.push(`${String(text)}: not a string`);
    return text;
  }
  const m = ISO_WITH_OFFSET.exec(text);
  const instant = Date.parse(text);
  if (!m || Number.isNaN(instant)) {
    problems.push(`${text}: not ISO 8601 with an offset`);
    return text;
  }
  if (m[2] !== ZONE_SUFFIX[zone]) problems.push(`${text}: offset should be ${ZONE_SUFFIX[zone]}`);
  return iso(instant);
}

/** Data points with their timestamps read by readTimestamp. */
export function readPoints(points: unknown, zone: Zone, problems: string[]): unknown {
  if (!Array.isArray(points)) return points;
  return points.map((p: any) => ({ ...p, timestamp: readTimestamp(p?.timestamp, zone, problems) }));
}

/** The range a response echoes, after checking its form. */
export function echoedRange(body: any, zone: Zone): Range {
  const problems: string[] = [];
  readTimestamp(body.start_date, zone, problems);
  readTimestamp(body.end_date, zone, problems);
  expect(problems).toEqual([]);
  return { start: Date.parse(body.start_date), end: Date.parse(body.end_date) };
}

/** Asserts a `period` (or the default) was resolved to [now − length, now) with now rounded up to a minute. */
export function expectPeriodRange(range: Range, length: number, requestedAt: number, answeredAt: number) {
  expect(range.end % MINUTE).toBe(0);
  expect(range.end - range.start).toBe(length);
  expect(range.end).toBeGreaterThanOrEqual(requestedAt);
  expect(range.end).toBeLessThanOrEqual(answeredAt + MINUTE);
}

export const STRONG_ETAG = /^"[^"]+"$/;

/** Conditional-request headers; fetch adds Cache-Control: no-cache to them unless one is given. */
export const ifNoneMatch = (etag: string) => ({ 'if-none-match': etag, 'cache-control': 'max-age=0' });
