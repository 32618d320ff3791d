import {
  GROUPING_SQL,
  OPEN_STATUSES,
  PRIORITIES,
  type Filters,
  type GroupingName,
  type Priority,
} from './dimensions.js';
import { filterPredicates } from './filters.js';
import type { Granularity } from './granularity.js';
import { METRICS, type MetricDefinition, type MetricType } from './metric-registry.js';
import { bucketSql, bucketsSql } from './bucket-sql.js';
import { dailyRollupOf } from './rollup-lattice.js';
import { compileRollupReport } from './rollup-report.compiler.js';
import { SqlParams, type CompiledQuery } from './sql-params.js';

/** A normalized analytics query over one metric and one range. */
export interface MetricQuery {
  readonly organizationId: number;
  readonly metric: MetricType;
  readonly start: Date;
  readonly end: Date;
  readonly timezone: string;
  readonly filters: Filters;
}

/** A metric query laid out in buckets: the input of every series. */
export interface SeriesQuery extends MetricQuery {
  readonly granularity: Granularity;
}

/** A metric over a range, in buckets (when `granularity` is set) and broken down by groupings. */
export interface ReportQuery extends MetricQuery {
  readonly granularity: Granularity | null;
  readonly groupBy: readonly GroupingName[];
}

/** One bucket as the database returns it: its start, how many tickets counted, the sum of their values. */
export interface BucketRow {
  readonly bucket: Date;
  readonly count: number;
  readonly sum: number | null;
}

/** One row of a report: a bucket of the series, or one value of a grouping. */
export interface ReportRow extends Omit<BucketRow, 'bucket'> {
  readonly bucket: Date | null;
  readonly grouping: GroupingName | null;
  readonly value: string | null;
}

/**
 * The WHERE clause of a metric over a range: the organization, the metric's
 * timestamp in `[start, end)`, its own condition, and the filters.
 */
export function metricWhere(
  metric: MetricDefinition,
  q: Omit<MetricQuery, 'metric' | 'timezone'>,
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
 * One metric over one range in a single statement: the gap-filled series
 * (every bucket overlapping the range, in order) and a count and value sum per
 * value of each grouping, through GROUPING SETS over the same scan.
 *
 * Daily and coarser buckets start at local boundaries of the zone
 * (`date_trunc(unit, ts, zone)`), so DST days are 23 or 25 hours long; the
 * empty buckets come from `generate_series` over local time converted back
 * with the same zone. Hourly buckets are consecutive real hours from the
 * local hour holding the start (`date_bin`), so DST days have 23 or 25 of them.
 */
export function compileReport(q: ReportQuery): CompiledQuery {
  const fromRollups = compileRollupReport(q);
  if (fromRollups) return fromRollups;
  const metric = METRICS[q.metric];
  const params = new SqlParams();
  const ts = `t.${metric.timestamp}`;
  const value = metric.valueSql ? `sum(${metric.valueSql})::float8` : 'NULL::float8';

  const sets: string[] = [];
  const selects: string[] = [];
  let bucketExpr: string | null = null;
  let buckets = '';
  // Bound only when a series is asked for: PostgreSQL refuses parameters it cannot type.
  const zone = q.granularity === null ? '' : `${params.add(q.timezone)}::text`;
  const start = q.granularity === null ? '' : `${params.add(q.start)}::timestamptz`;
  const end = q.granularity === null ? '' : `${params.add(q.end)}::timestamptz`;
  if (q.granularity !== null) {
    bucketExpr = bucketSql(q.granularity, ts, zone, start);
    buckets = bucketsSql(q.granularity, zone, start, end);
    sets.push(`(${bucketExpr})`);
    selects.push(`${bucketExpr} AS bucket, GROUPING(${bucketExpr}) AS by_bucket`);
  }
  q.groupBy.forEach((name, i) => {
    sets.push(`(${GROUPING_SQL[name]})`);
    selects.push(`${GROUPING_SQL[name]}::text AS g${i}, GROUPING(${GROUPING_SQL[name]}) AS by_g${i}`);
  });

  const facts = `facts AS (
      SELECT ${[...selects, 'count(*)::int AS count', `${value} AS sum`].join(', ')}
      FROM tickets t
      WHERE ${metricWhere(metric, q, params)}
      GROUP BY GROUPING SETS (${sets.join(', ') || '()'})
    )`;
  const parts = q.groupBy.map(
    (name, i) =>
      `SELECT NULL::timestamptz AS bucket, '${name}'::text AS grouping, f.g${i} AS value, f.count, f.sum
       FROM facts f WHERE f.by_g${i} = 0`,
  );
  if (bucketExpr !== null) {
    parts.unshift(`SELECT b.bucket, NULL::text AS grouping, NULL::text AS value, coalesce(f.count, 0) AS count, f.sum
       FROM buckets b LEFT JOIN facts f ON f.by_bucket = 0 AND f.bucket = b.bucket
       WHERE b.bucket < ${end}`);
  }
  const text = `
    WITH ${bucketExpr !== null ? `buckets AS (${buckets}), ` : ''}${facts}
    ${parts.join(' UNION ALL ')}
    ORDER BY 2 NULLS FIRST, 1`;
  return { text, values: params.values };
}

/**
 * Continuous percentiles (linear interpolation, as `percentile_cont`) of a
 * mean metric's per-ticket value, with the count; with `targets`, also the
 * share of counted tickets whose value is within the target of their priority.
 */
export function compilePercentiles(
  q: MetricQuery,
  fractions: readonly number[],
  targets?: Readonly<Record<Priority, number>>,
): CompiledQuery {
  const metric = METRICS[q.metric];
  if (!metric.valueSql) throw new Error(`${q.metric} has no per-ticket value`);
  const params = new SqlParams();
  const columns = [
    'count(*)::int AS count',
    `percentile_cont(${params.add(fractions)}::float8[]) WITHIN GROUP (ORDER BY ${metric.valueSql}) AS percentiles`,
  ];
  if (targets) {
    const target = `CASE t.priority ${PRIORITIES.map((p) => `WHEN '${p}' THEN ${params.add(targets[p])}::float8`).join(' ')} END`;
    columns.push(`avg(CASE WHEN ${metric.valueSql} <= ${target} THEN 1 ELSE 0 END)::float8 AS within_target`);
  }
  return {
    text: `SELECT ${columns.join(', ')} FROM tickets t WHERE ${metricWhere(metric, q, params)}`,
    values: params.values,
  };
}

/** The daily rollup of `ticket_count` by status. */
const BACKLOG_ROLLUP = dailyRollupOf(['status'], ['ticket_count']);

/**
 * The organization's tickets that are open now (open, in progress or
 * pending), whenever created: the sum of the daily `status` rollup's
 * `ticket_count` rows of the open statuses. Every ticket counts there once,
 * under its current status (a write moves it), so the statement reads a few
 * rows per day of history however many tickets are open, where counting the
 * open tickets themselves read all of them.
 */
export function compileBacklog(organizationId: number): CompiledQuery {
  const params = new SqlParams();
  return {
    text: `SELECT coalesce(sum(r.count), 0)::int AS count FROM ticket_rollups r
           WHERE r.organization_id = ${params.add(organizationId)} AND r.rollup = '${BACKLOG_ROLLUP.name}'
             AND r.metric = 'ticket_count' AND r.grain = 1440
             AND r.status IN (${OPEN_STATUSES.map((s) => `'${s}'`).join(', ')})`,
    values: params.values,
    reusable: true,
  };
}
