import { DateTime, type DurationUnit } from 'luxon';
import type { Granularity } from './granularity.js';

const LUXON_UNIT: Readonly<
  Record<Exclude<Granularity, 'hourly'>, { start: 'day' | 'week' | 'month' | 'quarter' | 'year'; diff: DurationUnit }>
> = {
  daily: { start: 'day', diff: 'days' },
  weekly: { start: 'week', diff: 'weeks' },
  monthly: { start: 'month', diff: 'months' },
  quarterly: { start: 'quarter', diff: 'quarters' },
  yearly: { start: 'year', diff: 'years' },
};

/**
 * How many buckets of `granularity` in `zone` overlap `[start, end)`, counted
 * the way the query compiler lays them out: hourly buckets are real hours
 * from the local hour that holds `start`; coarser ones are local calendar
 * units. Used to refuse oversized series before any query runs.
 */
export function countBuckets(start: Date, end: Date, granularity: Granularity, zone: string): number {
  // UTC hours and days have one length: arithmetic, without luxon's calendar diff (~50 µs a request).
  if (zone === 'UTC' && (granularity === 'hourly' || granularity === 'daily')) {
    const size = granularity === 'hourly' ? 3_600_000 : 86_400_000;
    return Math.ceil((end.getTime() - Math.floor(start.getTime() / size) * size) / size);
  }
  const from = DateTime.fromJSDate(start, { zone });
  const to = DateTime.fromJSDate(end, { zone });
  if (granularity === 'hourly') {
    return Math.ceil((to.toMillis() - from.startOf('hour').toMillis()) / 3_600_000);
  }
  const { start: unit, diff } = LUXON_UNIT[granularity];
  return Math.ceil(to.diff(from.startOf(unit), diff).as(diff) - 1e-9);
}
