import { GRANULARITY_UNITS, type Granularity } from './granularity.js';

/** SQL of the start of the bucket holding `ts` (see `compileReport`). */
export function bucketSql(granularity: Granularity, ts: string, zone: string, start: string): string {
  if (granularity === 'hourly') return `date_bin('1 hour', ${ts}, date_trunc('hour', ${start}, ${zone}))`;
  return `date_trunc('${GRANULARITY_UNITS[granularity].unit}', ${ts}, ${zone})`;
}

/** SQL of every bucket start from the one holding `start` up to `end` (one past it at most), as `bucket`. */
export function bucketsSql(granularity: Granularity, zone: string, start: string, end: string): string {
  const { unit, step } = GRANULARITY_UNITS[granularity];
  if (granularity === 'hourly') {
    return `SELECT generate_series(date_trunc('hour', ${start}, ${zone}), ${end}, interval '1 hour') AS bucket`;
  }
  return `SELECT local AT TIME ZONE ${zone} AS bucket
        FROM generate_series(date_trunc('${unit}', ${start}, ${zone}) AT TIME ZONE ${zone},
                             ${end} AT TIME ZONE ${zone}, interval '${step}') AS local`;
}
