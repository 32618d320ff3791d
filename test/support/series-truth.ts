import { Api, qs, type HttpResult } from './http.js';
import { matchesFilters, metricFact, type Filters, type Metric, type TicketFacts } from './analytics-truth.js';

/**
 * The independent expected time series of API.md §1, §3, §4.1 in any IANA
 * zone: Intl only (no luxon, nothing from src/), so a shared misunderstanding
 * of time zones cannot make the service and the expectation agree by accident.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export type Granularity = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'quarterly' | 'yearly';
type Ticket = TicketFacts;

export interface Range {
  label: string;
  start_date: string;
  end_date: string;
}

export interface SeriesCase {
  name: string;
  metric: Metric;
  granularity: Granularity;
  timezone: string;
  range: Range;
  filters?: Filters;
}

// ---------------------------------------------------------------------------
// Independent time-zone arithmetic (Intl only)
// ---------------------------------------------------------------------------

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The local wall-clock reading of an instant in a zone. */
export function wallClock(instant: number, zone: string): Wall {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  const parts = Object.fromEntries(formatter.formatToParts(instant).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    millisecond: ((instant % 1000) + 1000) % 1000,
  };
}

const wallAsUtc = (w: Wall) => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond);

/** Minutes the zone is ahead of UTC at an instant. */
export function offsetMinutes(instant: number, zone: string): number {
  return (wallAsUtc(wallClock(instant, zone)) - instant) / 60_000;
}

/**
 * The instant a local wall time names: try the offsets in force a day
 * before and after, keep those that read back as the same wall time, take
 * the earliest. A wall time in a spring-forward gap names none.
 */
export function localToInstant(wall: Wall, zone: string): number {
  const guess = wallAsUtc(wall);
  const offsets = new Set([guess - DAY, guess, guess + DAY].map((t) => offsetMinutes(t, zone)));
  const candidates = [...offsets]
    .map((offset) => guess - offset * 60_000)
    .filter((instant) => wallAsUtc(wallClock(instant, zone)) === guess)
    .sort((a, b) => a - b);
  if (candidates.length === 0) throw new Error(`${JSON.stringify(wall)} does not exist in ${zone}`);
  return candidates[0]!;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

export function offsetSuffix(instant: number, zone: string): string {
  if (zone === 'UTC') return 'Z';
  const offset = offsetMinutes(instant, zone);
  const abs = Math.abs(offset);
  return `${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** ISO 8601 in the zone's local time with its offset; milliseconds only when not zero. */
export function formatInZone(instant: number, zone: string): string {
  const w = wallClock(instant, zone);
  const fraction = w.millisecond === 0 ? '' : `.${pad(w.millisecond, 3)}`;
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${fraction}${offsetSuffix(instant, zone)}`;
}

/** API.md §1 Time: an offset is honoured; without one the wall time is read in the request's zone. */
export function parseRequestTimestamp(raw: string, zone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?(Z|[+-]\d{2}:\d{2})?$/.exec(raw);
  if (!m) throw new Error(`unsupported timestamp in the test: ${raw}`);
  const wall: Wall = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
    millisecond: 0,
  };
  const offset = m[7];
  if (offset === undefined) return localToInstant(wall, zone);
  if (offset === 'Z') return wallAsUtc(wall);
  const sign = offset.startsWith('-') ? -1 : 1;
  return wallAsUtc(wall) - sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6))) * 60_000;
}

interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** Calendar arithmetic on local dates (Date.UTC normalizes overflowing months and days). */
function localDate(year: number, month: number, day: number): LocalDate {
  const d = new Date(Date.UTC(year, month - 1, day));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The local date a calendar bucket holding `date` starts on. */
function bucketStartDate({ year, month, day }: LocalDate, granularity: Exclude<Granularity, 'hourly'>): LocalDate {
  switch (granularity) {
    case 'daily':
      return localDate(year, month, day);
    case 'weekly': {
      const sinceMonday = (new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7;
      return localDate(year, month, day - sinceMonday);
    }
    case 'monthly':
      return localDate(year, month, 1);
    case 'quarterly':
      return localDate(year, Math.floor((month - 1) / 3) * 3 + 1, 1);
    case 'yearly':
      return localDate(year, 1, 1);
  }
}

function nextBucketDate({ year, month, day }: LocalDate, granularity: Exclude<Granularity, 'hourly'>): LocalDate {
  const step = { daily: [0, 1], weekly: [0, 7], monthly: [1, 0], quarterly: [3, 0], yearly: [12, 0] }[granularity];
  return localDate(year, month + step[0]!, day + step[1]!);
}

const midnight = (date: LocalDate, zone: string) =>
  localToInstant({ ...date, hour: 0, minute: 0, second: 0, millisecond: 0 }, zone);

/**
 * Bucket starts of every bucket overlapping [start, end): hourly ones are
 * real hours from the local hour holding `start`; coarser ones begin at
 * local midnights of calendar boundaries.
 */
export function bucketStarts(start: number, end: number, granularity: Granularity, zone: string): number[] {
  const starts: number[] = [];
  if (granularity === 'hourly') {
    const w = wallClock(start, zone);
    for (let b = start - ((w.minute * 60 + w.second) * 1000 + w.millisecond); b < end; b += HOUR) starts.push(b);
    return starts;
  }
  for (let date = bucketStartDate(wallClock(start, zone), granularity); ; date = nextBucketDate(date, granularity)) {
    const b = midnight(date, zone);
    if (b >= end) return starts;
    starts.push(b);
  }
}

// ---------------------------------------------------------------------------
// Independent expected series (API.md §3, §4.1)
// ---------------------------------------------------------------------------

/** Index of the last bucket starting at or before `instant`. */
function bucketIndex(starts: readonly number[], instant: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (starts[mid]! <= instant) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const iso = (instant: number) => new Date(instant).toISOString();
const approx = (value: number | null) => (value === null ? null : expect.closeTo(value, 10));

/** The whole expected body, timestamps as UTC ISO strings (the response is normalized the same way). */
export function expectedSeries(tickets: readonly Ticket[], c: SeriesCase) {
  const start = parseRequestTimestamp(c.range.start_date, c.timezone);
  const end = parseRequestTimestamp(c.range.end_date, c.timezone);
  const starts = bucketStarts(start, end, c.granularity, c.timezone);
  const counts = starts.map(() => 0);
  const sums = starts.map(() => 0);
  for (const ticket of tickets) {
    if (!matchesFilters(ticket, c.filters ?? {})) continue;
    const fact = metricFact(ticket, c.metric);
    if (fact === null || fact.at < start || fact.at >= end) continue;
    const i = bucketIndex(starts, fact.at);
    counts[i]! += 1;
    sums[i]! += fact.value;
  }
  const isCount = c.metric === 'ticket_count';
  const total = counts.reduce((a, b) => a + b, 0);
  const sumAll = sums.reduce((a, b) => a + b, 0);
  const values = starts.map((_, i) => (isCount ? counts[i]! : counts[i]! > 0 ? sums[i]! / counts[i]! : null));
  const extremes = values.filter((v, i) => isCount || counts[i]! > 0) as number[];
  const extreme = (pick: (...xs: number[]) => number) =>
    extremes.length === 0 ? null : isCount ? pick(...extremes) : approx(pick(...extremes));
  return {
    metric_type: c.metric,
    granularity: c.granularity,
    timezone: c.timezone,
    start_date: iso(start),
    end_date: iso(end),
    data_points: starts.map((b, i) => ({
      timestamp: iso(b),
      value: isCount ? values[i] : approx(values[i]!),
      count: counts[i],
    })),
    total_count: total,
    average_value: approx(isCount ? total / starts.length : total > 0 ? sumAll / total : null),
    min_value: extreme(Math.min),
    max_value: extreme(Math.max),
  };
}

// ---------------------------------------------------------------------------
// Requests and response normalization
// ---------------------------------------------------------------------------

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A response timestamp as a UTC ISO string, after checking its form: ISO
 * 8601, the zone's offset at that instant, no zero milliseconds.
 */
export function readTimestamp(text: unknown, zone: string, problems: string[]): unknown {
  if (typeof text !== 'string') {
    problems.push(`${String(text)}: not a string`);
    return text;
  }
  const instant = Date.parse(text);
  const m = ISO_WITH_OFFSET.exec(text);
  if (!m || Number.isNaN(instant)) {
    problems.push(`${text}: not ISO 8601 with an offset`);
    return text;
  }
  if (m[2] !== offsetSuffix(instant, zone)) problems.push(`${text}: offset should be ${offsetSuffix(instant, zone)}`);
  if (m[1] !== undefined && /^\.0+$/.test(m[1])) problems.push(`${text}: zero milliseconds should be left out`);
  return iso(instant);
}

export function normalizeBody(body: any, zone: string, problems: string[]): unknown {
  const read = (text: unknown) => readTimestamp(text, zone, problems);
  return {
    ...body,
    start_date: read(body.start_date),
    end_date: read(body.end_date),
    data_points: Array.isArray(body.data_points)
      ? body.data_points.map((p: any) => ({ ...p, timestamp: read(p.timestamp) }))
      : body.data_points,
  };
}

export function seriesPath(c: Omit<SeriesCase, 'name'>): string {
  return `/api/v1/analytics/time-series/${c.metric}${qs({
    start_date: c.range.start_date,
    end_date: c.range.end_date,
    granularity: c.granularity,
    timezone: c.timezone,
    ...c.filters,
    use_cache: false,
  })}`;
}

/** Requests the series and compares the whole body with the independent computation. */
export async function expectGroundTruth(api: Api, tickets: readonly Ticket[], c: SeriesCase): Promise<HttpResult> {
  const response = await api.get(seriesPath(c));
  expect(response.status, response.text).toBe(200);
  expect(response.headers.get('x-cache')).toBe('BYPASS');
  const problems: string[] = [];
  const actual = normalizeBody(response.body, c.timezone, problems);
  expect.soft(problems, 'timestamps carry the zone offset at that instant').toEqual([]);
  expect(actual).toEqual(expectedSeries(tickets, c));
  return response;
}
