import type { Filters } from './dimensions.js';
import { filterPredicates } from './filters.js';
import { GRANULARITY_UNITS, type Granularity } from './granularity.js';
import { METRICS, type MetricDefinition, type MetricType } from './metric-registry.js';
import { SqlParams, type CompiledQuery } from './sql-params.js';

/** A normalized analytics query over one metric: the input of every compiled series. */
export interface SeriesQuery {
  readonly organizationId: number;
  readonly metric: MetricType;
  readonly start: Date;
  readonly end: Date;
  readonly granularity: Granularity;
  readonly timezone: string;
  readonly filters: Filters;
}

/** One bucket as the database returns it: its start, how many tickets counted, the sum of their values. */
export interface BucketRow {
  readonly bucket: Date;
  readonly count: number;
  readonly sum: number | null;
}

/**
 * The WHERE clause of a metric over a range: the organization, the metric's
 * timestamp in `[start, end)`, its own condition, and the filters.
 */
export function metricWhere(
  metric: MetricDefinition,
  q: Pick<SeriesQuery, 'organizationId' | 'start' | 'end' | 'filters'>,
  params: SqlParams,
): string {
  return [
    `t.organization_id = ${params.add(q.organizationId)}`,
    `t.${metric.timestamp} >= ${params.add(q.start)}::timestamptz`,
    `t.${metric.timestamp} < ${params.add(q.end)}::timestamptz`,
    ...(metric.countsSql ? [metric.countsSql] : []),
    ...filterPredicates(q.filters, params),
  ].join(' AND ');
}

/**
 * A gap-filled series: every bucket overlapping the range, in order, with the
 * count and value sum of the tickets that fall in it.
 *
 * Daily and coarser buckets start at local boundaries of the zone
 * (`date_trunc(unit, ts, zone)`), so DST days are 23 or 25 hours long; the
 * empty buckets come from `generate_series` over local time converted back
 * with the same zone. Hourly buckets are consecutive real hours from the
 * local hour holding the start (`date_bin`), so DST days have 23 or 25 of them.
 */
export function compileSeries(q: SeriesQuery): CompiledQuery {
  const metric = METRICS[q.metric];
  const params = new SqlParams();
  const zone = params.add(q.timezone);
  const start = `${params.add(q.start)}::timestamptz`;
  const end = `${params.add(q.end)}::timestamptz`;
  const { unit, step } = GRANULARITY_UNITS[q.granularity];
  const ts = `t.${metric.timestamp}`;

  let bucketOfTicket: string;
  let buckets: string;
  if (q.granularity === 'hourly') {
    const origin = `date_trunc('hour', ${start}, ${zone}::text)`;
    bucketOfTicket = `date_bin('1 hour', ${ts}, ${origin})`;
    buckets = `SELECT generate_series(${origin}, ${end}, interval '1 hour') AS bucket`;
  } else {
    bucketOfTicket = `date_trunc('${unit}', ${ts}, ${zone}::text)`;
    buckets = `SELECT local AT TIME ZONE ${zone}::text AS bucket
      FROM generate_series(date_trunc('${unit}', ${start}, ${zone}::text) AT TIME ZONE ${zone}::text,
                           ${end} AT TIME ZONE ${zone}::text, interval '${step}') AS local`;
  }
  const value = metric.valueSql ? `sum(${metric.valueSql})::float8` : 'NULL::float8';
  const text = `
    WITH buckets AS (${buckets}),
    facts AS (
      SELECT ${bucketOfTicket} AS bucket, count(*)::int AS count, ${value} AS sum
      FROM tickets t
      WHERE ${metricWhere(metric, q, params)}
      GROUP BY 1
    )
    SELECT b.bucket, coalesce(f.count, 0) AS count, f.sum
    FROM buckets b LEFT JOIN facts f ON f.bucket = b.bucket
    WHERE b.bucket < ${end}
    ORDER BY b.bucket`;
  return { text, values: params.values };
}
