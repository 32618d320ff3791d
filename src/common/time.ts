import { DateTime } from 'luxon';

const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;

/**
 * The zone name to use for `name`, or null when it is not a zone. Names are
 * case-insensitive: a zone's own name comes back in its proper case
 * (`europe/berlin` → `Europe/Berlin`); a link comes back as given, because
 * ICU still resolves some current IANA names to their old links
 * (`Asia/Kolkata` → `Asia/Calcutta`) and a client expects its own name echoed.
 * Offsets such as `+02:00` are refused: a zone has DST rules, an offset has none.
 */
export function canonicalZone(name: string): string | null {
  const known = resolvedZones.get(name);
  if (known !== undefined) return known;
  if (!ZONE_NAME.test(name)) return null;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    const zone = resolved.toLowerCase() === name.toLowerCase() ? resolved : name;
    if (resolvedZones.size < MAX_RESOLVED_ZONES) resolvedZones.set(name, zone);
    return zone;
  } catch {
    return null;
  }
}

/**
 * Zone names already resolved, as given: building an Intl.DateTimeFormat to
 * ask ICU costs ~0.1 ms, a tenth of a computed year series' CPU. Only real
 * zones are kept, and only so many spellings of them (about 600 zones; a
 * client that varies the case of each letter does not grow the map).
 */
const resolvedZones = new Map<string, string>();
const MAX_RESOLVED_ZONES = 4096;

const MIN_YEAR = 1900;
const MAX_YEAR = 9999;
/**
 * The widest UTC offset accepted, in minutes: ±18:00, as java.time and
 * PostgreSQL's timestamptz input allow (real zones stay within -12:00..+14:00).
 */
export const MAX_OFFSET_MINUTES = 18 * 60;
/** The minutes of an explicit offset after the time: `T10:00+05:30`, `T1000+0530`. */
const OFFSET_MINUTES = /T[^+-]*[+-]\d{2}:?(\d{2})$/i;

/**
 * Reads an ISO 8601 timestamp; one without an offset is local time in `zone`,
 * a bare date is local midnight there. Returns null when it is not ISO 8601,
 * has an impossible offset (beyond ±18:00, or 60 minutes and more, which
 * luxon would otherwise carry into the hours), or falls outside the years
 * Pulse accepts.
 */
export function parseTimestamp(raw: string, zone: string): Date | null {
  if (typeof raw !== 'string' || raw.length > 64) return null;
  const fast = parseOffsetTimestamp(raw);
  if (fast !== undefined) return fast;
  const parsed = DateTime.fromISO(raw, { zone, setZone: true });
  if (!parsed.isValid || parsed.year < MIN_YEAR || parsed.year > MAX_YEAR) return null;
  if (Math.abs(parsed.offset) > MAX_OFFSET_MINUTES) return null;
  const minutes = OFFSET_MINUTES.exec(raw)?.[1];
  if (minutes !== undefined && Number(minutes) >= 60) return null;
  return parsed.toJSDate();
}

/**
 * The same reading as parseTimestamp's for a timestamp with an explicit
 * offset in the common extended form machines send (`2025-03-01T10:00:00.123Z`,
 * `…T10:00+05:30`, `…+0530`; seconds and 1-3 digits of fraction optional),
 * without luxon (a bulk of 10,000 tickets reads 60,000 of them; luxon was a
 * seventh of its CPU) and without a regular expression (whose captured
 * strings were most of what such a bulk left to the garbage collector).
 * Undefined for any other form, which luxon then reads;
 * `offset-timestamp.spec.ts` checks that both agree.
 */
function parseOffsetTimestamp(raw: string): Date | undefined {
  if (raw.length < 17 || raw[4] !== '-' || raw[7] !== '-' || raw[10] !== 'T' || raw[13] !== ':') return undefined;
  const year = digitsAt(raw, 0, 4);
  const month = digitsAt(raw, 5, 2);
  const day = digitsAt(raw, 8, 2);
  const hour = digitsAt(raw, 11, 2);
  const minute = digitsAt(raw, 14, 2);
  let at = 16;
  let second = 0;
  let millis = 0;
  if (raw[at] === ':') {
    second = digitsAt(raw, at + 1, 2);
    at += 3;
    if (raw[at] === '.') {
      const fraction = ++at;
      while (at - fraction < 3 && isDigit(raw.charCodeAt(at))) at++;
      if (at === fraction) return undefined;
      millis = digitsAt(raw, fraction, at - fraction) * 10 ** (3 - (at - fraction));
    }
  }
  let offset = 0;
  if (raw[at] === 'Z') {
    if (at + 1 !== raw.length) return undefined;
  } else if (raw[at] === '+' || raw[at] === '-') {
    const hours = digitsAt(raw, at + 1, 2);
    const from = raw[at + 3] === ':' ? at + 4 : at + 3;
    const minutes = digitsAt(raw, from, 2);
    // Minutes of 60 and more are left to the general path, which refuses them.
    if (from + 2 !== raw.length || hours < 0 || minutes < 0 || minutes >= 60) return undefined;
    offset = (raw[at] === '-' ? -1 : 1) * (hours * 60 + minutes);
  } else return undefined;
  // Anything unusual (a year Pulse refuses, 24:00, a leap second, an offset
  // past its limits) is left to the general path, which decides as before.
  const plain =
    year >= MIN_YEAR &&
    year <= MAX_YEAR &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour >= 0 &&
    hour <= 23 &&
    minute >= 0 &&
    minute <= 59 &&
    second >= 0 &&
    second <= 59 &&
    Math.abs(offset) <= MAX_OFFSET_MINUTES;
  if (!plain) return undefined;
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset * 60_000);
}

export const isDigit = (code: number) => code >= 48 && code <= 57;

/** The number written by `count` ASCII digits at `from`, or -1 when they are not all digits. */
export function digitsAt(raw: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const code = raw.charCodeAt(i);
    if (!isDigit(code)) return -1;
    value = value * 10 + (code - 48);
  }
  return value;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days of a month (1-12) of the proleptic Gregorian calendar, as Date.UTC counts them. */
function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
}

/** ISO 8601 with the zone's offset at that instant (`Z` for UTC). */
export function formatTimestamp(instant: Date, zone = 'UTC'): string {
  let ofZone = formattedInZones.get(zone);
  if (ofZone === undefined) formattedInZones.set(zone, (ofZone = new Map()));
  let text = ofZone.get(instant.getTime());
  if (text === undefined) {
    text =
      zone === 'UTC'
        ? instant.toISOString().replace('.000Z', 'Z')
        : DateTime.fromJSDate(instant, { zone }).toISO({ suppressMilliseconds: true })!;
    if (++formattedCount > MAX_FORMATTED) {
      formattedInZones.clear();
      formattedCount = 0;
    }
    ofZone.set(instant.getTime(), text);
  }
  return text;
}

/**
 * Instants already written, per zone: asking ICU for a zone's offset costs
 * ~5 µs, 1.8 ms for a year of daily buckets, and even UTC's `toISOString`
 * and its trim cost ~0.6 µs, a fifth of a millisecond a year; series ask for
 * the same bucket starts again and again (every refresh of a wallboard, every
 * recompute after a write). Bounded: all of it is dropped once it holds
 * MAX_FORMATTED instants (about 10 MB), whatever ranges clients ask for.
 */
const formattedInZones = new Map<string, Map<number, string>>();
const MAX_FORMATTED = 100_000;
let formattedCount = 0;

export const PERIODS = ['24h', '7d', '30d', '90d'] as const;
export type Period = (typeof PERIODS)[number];
const PERIOD_HOURS: Readonly<Record<Period, number>> = { '24h': 24, '7d': 168, '30d': 720, '90d': 2160 };

/**
 * `[now - period, now)` with now rounded up to the next whole minute, so every
 * request for one period within a minute resolves to the same range.
 */
export function periodRange(period: Period, now: Date): { start: Date; end: Date } {
  return trailingRange(PERIOD_HOURS[period], now);
}

/** `[now - hours, now)` with now rounded up to the next whole minute. */
export function trailingRange(hours: number, now: Date): { start: Date; end: Date } {
  const minute = 60_000;
  const end = new Date(Math.ceil(now.getTime() / minute) * minute);
  return { start: new Date(end.getTime() - hours * 3_600_000), end };
}
