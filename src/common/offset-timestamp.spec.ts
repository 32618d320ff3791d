import fc from 'fast-check';
import { DateTime } from 'luxon';
import { parseTimestamp } from './time.js';

/** What parseTimestamp answered before its fast path: luxon's reading, with the same checks. */
function byLuxon(raw: string): number | null {
  const parsed = DateTime.fromISO(raw, { zone: 'UTC', setZone: true });
  if (!parsed.isValid || parsed.year < 1900 || parsed.year > 9999 || Math.abs(parsed.offset) > 18 * 60) return null;
  const minutes = /T[^+-]*[+-]\d{2}:?(\d{2})$/i.exec(raw)?.[1];
  if (minutes !== undefined && Number(minutes) >= 60) return null;
  return parsed.toMillis();
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

describe('parseTimestamp with an explicit offset', () => {
  it('reads every common form as luxon does, valid or not', () => {
    const timestamp = fc
      .record({
        year: fc.integer({ min: 1890, max: 10010 }),
        month: fc.integer({ min: 0, max: 13 }),
        day: fc.integer({ min: 0, max: 32 }),
        hour: fc.integer({ min: 0, max: 24 }),
        minute: fc.integer({ min: 0, max: 60 }),
        second: fc.option(fc.integer({ min: 0, max: 60 })),
        fraction: fc.option(fc.stringMatching(/^\d{1,3}$/)),
        offset: fc.oneof(
          fc.constant('Z'),
          fc.record({
            sign: fc.constantFrom('+', '-'),
            hours: fc.integer({ min: 0, max: 25 }),
            minutes: fc.integer({ min: 0, max: 99 }),
            colon: fc.boolean(),
          }),
        ),
      })
      .map(({ year, month, day, hour, minute, second, fraction, offset }) => {
        const time = `${pad(hour)}:${pad(minute)}${second === null ? '' : `:${pad(second)}${fraction === null ? '' : `.${fraction}`}`}`;
        const zone =
          offset === 'Z' ? 'Z' : `${offset.sign}${pad(offset.hours)}${offset.colon ? ':' : ''}${pad(offset.minutes)}`;
        return `${pad(year, 4)}-${pad(month)}-${pad(day)}T${time}${zone}`;
      });
    fc.assert(
      fc.property(timestamp, (raw) => {
        expect([raw, parseTimestamp(raw, 'UTC')?.getTime() ?? null]).toEqual([raw, byLuxon(raw)]);
      }),
      { numRuns: 20_000 },
    );
  });

  it('reads the same instant whatever zone the request names', () => {
    expect(parseTimestamp('2025-03-30T01:30:00+01:00', 'Europe/Berlin')?.toISOString()).toBe(
      '2025-03-30T00:30:00.000Z',
    );
    expect(parseTimestamp('2024-02-29T23:59:59.5Z', 'Asia/Kathmandu')?.toISOString()).toBe('2024-02-29T23:59:59.500Z');
    expect(parseTimestamp('2025-02-29T10:00:00Z', 'UTC')).toBeNull();
  });
});
