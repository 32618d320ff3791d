import pg from 'pg';
import { digitsAt, isDigit } from '../common/time.js';

const TIMESTAMPTZ = 1184;
/** node-postgres's own reading of a timestamptz (postgres-date). */
const parseDate = pg.types.getTypeParser(TIMESTAMPTZ) as (text: string) => Date | number | null;

/**
 * A `timestamptz` as PostgreSQL writes it (`2025-03-30 22:00:00+00`,
 * `… 22:00:00.123456+05:45`, `…-03:30`), read at fixed positions. node-postgres
 * reads it with `postgres-date`'s regular expressions: a one-year daily series
 * has 365 of them, a fifth of what its request allocates. Anything else
 * (years before 100 or after 9999, BC, infinity, seconds in the offset) goes
 * to `postgres-date`, so the result is always the same Date.
 */
export function parseTimestamptz(text: string): Date | number | null {
  const n = text.length;
  // "YYYY-MM-DD HH:MM:SS" then an optional fraction and a "+HH" or "+HH:MM" offset.
  if (n < 22 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 32) {
    return parseDate(text);
  }
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  let i = 19;
  let ms = 0;
  if (text.charCodeAt(i) === 46) {
    // Milliseconds are the first three digits of the fraction (the Date drops the rest, as postgres-date's does).
    let scale = 100;
    for (i += 1; i < n && isDigit(text.charCodeAt(i)); i++) {
      ms += (text.charCodeAt(i) - 48) * scale;
      scale /= 10;
    }
    ms = Math.floor(ms);
  }
  const sign = text.charCodeAt(i) === 43 ? 1 : text.charCodeAt(i) === 45 ? -1 : 0;
  const rest = n - i - 1;
  const offsetHours = digitsAt(text, i + 1, 2);
  const offsetMinutes = rest === 2 ? 0 : rest === 5 && text.charCodeAt(i + 3) === 58 ? digitsAt(text, i + 4, 2) : -1;
  if (
    sign === 0 ||
    year < 100 ||
    month < 0 ||
    day < 0 ||
    hour < 0 ||
    minute < 0 ||
    second < 0 ||
    offsetHours < 0 ||
    offsetMinutes < 0
  ) {
    return parseDate(text);
  }
  const offsetMs = sign * (offsetHours * 60 + offsetMinutes) * 60_000;
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMs);
}

/** node-postgres's type parsers, with `timestamptz` read by `parseTimestamptz`: a client's `types`. */
export const FAST_TIMESTAMPTZ_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMPTZ && format !== 'binary') return parseTimestamptz;
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid);
  },
};
