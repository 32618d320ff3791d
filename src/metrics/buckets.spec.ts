import { countBuckets } from './buckets.js';

const at = (iso: string) => new Date(iso);

describe('countBuckets', () => {
  it('gives a spring-forward day 23 hourly buckets and a fall-back day 25 (Europe/Berlin)', () => {
    // 2025-03-30 local midnight is 23:00Z the day before; the next local midnight is 22:00Z.
    expect(countBuckets(at('2025-03-29T23:00:00Z'), at('2025-03-30T22:00:00Z'), 'hourly', 'Europe/Berlin')).toBe(23);
    expect(countBuckets(at('2025-10-25T22:00:00Z'), at('2025-10-26T23:00:00Z'), 'hourly', 'Europe/Berlin')).toBe(25);
  });

  it('counts local days, weeks, months, quarters and years overlapping the range', () => {
    expect(countBuckets(at('2025-03-29T23:00:00Z'), at('2025-03-30T22:00:00Z'), 'daily', 'Europe/Berlin')).toBe(1);
    expect(countBuckets(at('2025-03-29T23:00:00Z'), at('2025-03-30T22:00:01Z'), 'daily', 'Europe/Berlin')).toBe(2);
    // Wednesday to the next Wednesday touches two ISO weeks.
    expect(countBuckets(at('2025-01-01T00:00:00Z'), at('2025-01-08T00:00:00Z'), 'weekly', 'UTC')).toBe(2);
    expect(countBuckets(at('2025-01-15T00:00:00Z'), at('2025-03-01T00:00:00Z'), 'monthly', 'UTC')).toBe(2);
    expect(countBuckets(at('2025-02-01T00:00:00Z'), at('2025-07-01T00:00:00Z'), 'quarterly', 'UTC')).toBe(2);
    expect(countBuckets(at('2024-12-31T23:30:00Z'), at('2025-01-01T00:30:00Z'), 'yearly', 'UTC')).toBe(2);
    // In New York the same instant is still 2024 for 5 hours.
    expect(countBuckets(at('2025-01-01T00:30:00Z'), at('2025-01-01T06:00:00Z'), 'yearly', 'America/New_York')).toBe(2);
  });

  it('starts hourly buckets at the local hour of a half-hour zone', () => {
    // Asia/Kolkata is UTC+05:30: local hours begin at :30 UTC.
    expect(countBuckets(at('2025-01-01T00:00:00Z'), at('2025-01-01T01:00:00Z'), 'hourly', 'Asia/Kolkata')).toBe(2);
  });

  it('counts UTC hours and days that the range touches, partial ones at either end included', () => {
    expect(countBuckets(at('2025-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z'), 'daily', 'UTC')).toBe(365);
    expect(countBuckets(at('2025-01-01T10:00:00Z'), at('2025-01-02T10:00:00Z'), 'daily', 'UTC')).toBe(2);
    expect(countBuckets(at('2025-01-01T00:00:00Z'), at('2025-01-01T00:00:00.001Z'), 'daily', 'UTC')).toBe(1);
    expect(countBuckets(at('2025-01-01T00:30:00Z'), at('2025-01-01T01:00:00Z'), 'hourly', 'UTC')).toBe(1);
    expect(countBuckets(at('2025-01-01T00:30:00Z'), at('2025-01-01T02:00:01Z'), 'hourly', 'UTC')).toBe(3);
    // Before 1970 too (negative epoch milliseconds).
    expect(countBuckets(at('1969-12-31T12:00:00Z'), at('1970-01-01T12:00:00Z'), 'daily', 'UTC')).toBe(2);
  });
});
