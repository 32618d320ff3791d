import fc from 'fast-check';
import pg from 'pg';
import { FAST_TIMESTAMPTZ_TYPES, parseTimestamptz } from './timestamptz.js';

/** node-postgres's own parser (postgres-date): the reading to match. */
const reference = pg.types.getTypeParser(1184) as (text: string) => Date | number | null;
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `instant` written as PostgreSQL writes a timestamptz in a zone `offsetMinutes` east of UTC. */
function written(instant: number, offsetMinutes: number, fractionDigits: number): string {
  const local = new Date(instant + offsetMinutes * 60_000);
  const micros = pad(local.getUTCMilliseconds(), 3) + pad(Math.abs(instant * 7) % 1000, 3);
  const fraction = fractionDigits > 0 ? `.${micros.slice(0, fractionDigits)}` : '';
  const abs = Math.abs(offsetMinutes);
  const offset = `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}${abs % 60 ? `:${pad(abs % 60)}` : ''}`;
  return (
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ` +
    `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${fraction}${offset}`
  );
}

describe('parseTimestamptz', () => {
  it('reads what PostgreSQL writes as node-postgres does, for any instant, offset and fraction', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(100, 0, 2), max: Date.UTC(9999, 11, 30) }),
        fc.integer({ min: -15 * 4, max: 15 * 4 }).map((quarters) => quarters * 15),
        fc.integer({ min: 0, max: 6 }),
        (instant, offset, fractionDigits) => {
          const text = written(instant, offset, fractionDigits);
          expect(parseTimestamptz(text)).toEqual(reference(text));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('gives the instant of each written form', () => {
    expect(parseTimestamptz('2025-03-30 22:00:00+00')).toEqual(new Date('2025-03-30T22:00:00Z'));
    expect(parseTimestamptz('2025-03-30 22:00:00.1+00')).toEqual(new Date('2025-03-30T22:00:00.100Z'));
    expect(parseTimestamptz('2025-03-30 22:00:00.123456+05:45')).toEqual(new Date('2025-03-30T16:15:00.123Z'));
    expect(parseTimestamptz('2025-03-30 22:00:00-03:30')).toEqual(new Date('2025-03-31T01:30:00Z'));
  });

  it('leaves the forms it does not read to node-postgres: infinity, BC, early years, offsets with seconds', () => {
    for (const text of [
      'infinity',
      '-infinity',
      '0044-03-15 12:00:00+00 BC',
      '1000-01-01 00:00:00+00 BC',
      '0099-12-31 23:59:59+00',
      '1850-01-01 00:00:00+00:53:28',
      '12025-01-01 00:00:00+00',
    ]) {
      expect(parseTimestamptz(text), text).toEqual(reference(text));
    }
  });

  it('is the parser of timestamptz only, in text', () => {
    expect(FAST_TIMESTAMPTZ_TYPES.getTypeParser(1184)).toBe(parseTimestamptz);
    expect(FAST_TIMESTAMPTZ_TYPES.getTypeParser(1184, 'binary')).toBe(pg.types.getTypeParser(1184, 'binary'));
    expect(FAST_TIMESTAMPTZ_TYPES.getTypeParser(20)).toBe(pg.types.getTypeParser(20));
  });
});
