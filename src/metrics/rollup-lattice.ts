import { GROUPING_SQL, type Filters, type GroupingName } from './dimensions.js';
import { METRIC_TYPES, METRICS, type MetricType } from './metric-registry.js';

/**
 * The rollup lattice: which pre-aggregated copies of the tickets exist, at
 * which grains, keyed by which groupings. See src/metrics/README.md.
 */

/** Rollup grains in minutes; every row covers `[bucket, bucket + grain)` aligned on UTC. */
export const GRAINS = [15, 60, 1440] as const;
export type Grain = (typeof GRAINS)[number];

/** The groupings a rollup row can be keyed by: its columns in `ticket_rollups`. */
export const ROLLUP_GROUPINGS = ['status', 'priority', 'channel', 'category', 'sentiment_band'] as const;
export type RollupGrouping = (typeof ROLLUP_GROUPINGS)[number];

export interface Rollup {
  readonly name: string;
  /** The groupings it keeps; the others are summed over ('' in their columns). */
  readonly groupings: readonly RollupGrouping[];
  /** Its grains, finest first; reads finer than the first go to the raw rows. */
  readonly grains: readonly Grain[];
  readonly metrics: readonly MetricType[];
}

const MEANS: readonly MetricType[] = METRIC_TYPES.filter((m) => METRICS[m].aggregate === 'mean');

/**
 * Smallest first: a query reads the first rollup that keeps every dimension
 * it filters or breaks down by and has its metric. Only the ungrouped rollup
 * keeps 15-minute rows (the edges of local buckets in zones offset by a
 * quarter or half hour). Keyed rollups keep hours only for ticket_count and
 * one dimension (the dashboard's breakdowns, the common filters); the rest
 * keep UTC days, because a keyed hourly rollup of every metric is about as
 * big as the tickets table. Finer pieces than a rollup keeps are read from
 * the raw rows. `assignee_id` has unbounded cardinality and is in none.
 */
export const ROLLUPS: readonly Rollup[] = [
  { name: 'total', groupings: [], grains: [15, 60, 1440], metrics: METRIC_TYPES },
  { name: 'status', groupings: ['status'], grains: [60, 1440], metrics: ['ticket_count'] },
  { name: 'channel', groupings: ['channel'], grains: [60, 1440], metrics: ['ticket_count'] },
  { name: 'category', groupings: ['category'], grains: [60, 1440], metrics: ['ticket_count'] },
  { name: 'sentiment_band', groupings: ['sentiment_band'], grains: [60, 1440], metrics: ['sentiment_score'] },
  { name: 'status_priority', groupings: ['status', 'priority'], grains: [1440], metrics: METRIC_TYPES },
  { name: 'channel_daily', groupings: ['channel'], grains: [1440], metrics: MEANS },
  { name: 'category_daily', groupings: ['category'], grains: [1440], metrics: MEANS },
];

/** The key columns of a rollup row, in primary-key order. */
export const ROLLUP_KEY = ['organization_id', 'rollup', 'metric', 'grain', 'bucket', ...ROLLUP_GROUPINGS] as const;

/** Origin of the UTC-aligned bins of every grain. */
export const BIN_ORIGIN = `TIMESTAMPTZ '2000-01-01 00:00:00+00'`;

/** The smallest rollup that can answer a metric with these filters and breakdowns, or null (raw rows). */
export function coveringRollup(metric: MetricType, filters: Filters, groupBy: readonly GroupingName[]): Rollup | null {
  const needed = [...Object.keys(filters), ...groupBy];
  return (
    ROLLUPS.find(
      (r) => r.metrics.includes(metric) && needed.every((name) => (r.groupings as readonly string[]).includes(name)),
    ) ?? null
  );
}

/**
 * SQL of the rollup rows of a set of tickets: the key columns and, per key,
 * `count` (the sum of `t.sign`) and `sum` (the signed sum of the metric's
 * exact value). `source` is a relation with the tickets' columns and a
 * `sign` (1 or -1); its alias is `t`. Maintenance feeds it the old (-1) and
 * new (+1) rows of a write, rebuild and verify the tickets table. The tickets
 * are first summed per metric, 15-minute bin and every grouping at once, and
 * every rollup row is a sum of those: a rebuild expands each ticket once,
 * not once per rollup and grain.
 */
export function contributionsSql(source: string): string {
  const metrics = METRIC_TYPES.map((name) => {
    const m = METRICS[name];
    const at = m.countsSql ? `CASE WHEN ${m.countsSql} THEN t.${m.timestamp} END` : `t.${m.timestamp}`;
    return `('${name}', ${at}, ${m.exactSql ?? 'NULL'}::numeric)`;
  });
  const rollups = ROLLUPS.flatMap((r) =>
    r.grains.map((grain) => {
      const columns = ROLLUP_GROUPINGS.map((g) => (r.groupings.includes(g) ? `b.${g}` : `''`));
      return `('${r.name}', ${grain}, ${columns.join(', ')}, ARRAY[${r.metrics.map((m) => `'${m}'`).join(', ')}])`;
    }),
  );
  const finest = Math.min(...GRAINS);
  return `
    WITH base AS (
      SELECT t.organization_id, m.metric, date_bin(interval '${finest} minutes', m.at, ${BIN_ORIGIN}) AS bin,
             ${ROLLUP_GROUPINGS.map((g) => `${GROUPING_SQL[g]}::text AS ${g}`).join(', ')},
             sum(t.sign)::bigint AS count, coalesce(sum(t.sign * m.value), 0) AS sum
      FROM ${source} t
      CROSS JOIN LATERAL (VALUES ${metrics.join(', ')}) AS m(metric, at, value)
      WHERE m.at IS NOT NULL
      GROUP BY ${[1, 2, 3, ...ROLLUP_GROUPINGS.map((_, i) => i + 4)].join(', ')})
    SELECT b.organization_id, r.rollup, b.metric, r.grain::smallint AS grain,
           date_bin(make_interval(mins => r.grain), b.bin, ${BIN_ORIGIN}) AS bucket,
           ${ROLLUP_GROUPINGS.map((g) => `r.${g}`).join(', ')},
           sum(b.count)::bigint AS count, sum(b.sum) AS sum
    FROM base b
    CROSS JOIN LATERAL (VALUES ${rollups.join(', ')}) AS r(rollup, grain, ${ROLLUP_GROUPINGS.join(', ')}, metrics)
    WHERE b.metric = ANY(r.metrics)
    GROUP BY ${ROLLUP_KEY.map((_, i) => i + 1).join(', ')}`;
}

/**
 * Adds the contributions of `source` (see `contributionsSql`) to the stored
 * rows: one statement however many tickets. Rows are written in key order, so
 * concurrent writers lock shared rows in the same order and cannot deadlock.
 * Keys whose contributions cancel out are not written.
 */
export function upsertContributionsSql(source: string): string {
  const key = ROLLUP_KEY.join(', ');
  return `
    INSERT INTO ticket_rollups AS r (${key}, count, sum)
    SELECT ${key}, c.count, c.sum FROM (${contributionsSql(source)}) c
    WHERE c.count <> 0 OR c.sum <> 0
    ORDER BY ${key}
    ON CONFLICT (${key}) DO UPDATE SET count = r.count + excluded.count, sum = r.sum + excluded.sum`;
}
