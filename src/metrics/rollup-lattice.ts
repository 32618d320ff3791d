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
  { name: 'priority', groupings: ['priority'], grains: [60, 1440], metrics: ['ticket_count'] },
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
 * The first rollup that keeps `groupings` and holds every one of `metrics` in
 * UTC days: what a sum over all time reads (the dashboard's backlog and
 * queue). The lattice must have one: a missing one fails at load.
 */
export function dailyRollupOf(groupings: readonly RollupGrouping[], metrics: readonly MetricType[]): Rollup {
  const rollup = ROLLUPS.find(
    (r) =>
      r.grains.includes(1440) &&
      metrics.every((m) => r.metrics.includes(m)) &&
      groupings.every((g) => r.groupings.includes(g)),
  );
  if (!rollup) throw new Error(`no daily rollup keeps ${groupings.join(', ')} for ${metrics.join(', ')}`);
  return rollup;
}

/**
 * SQL of the rollup rows of a set of tickets: the key columns and, per key,
 * `count` (the sum of `t.sign`) and `sum` (the signed sum of the metric's
 * exact value). `source` is a relation with the tickets' columns and a
 * `sign` (1 or -1); its alias is `t`. Maintenance feeds it the old (-1) and
 * new (+1) rows of a write, rebuild and verify the tickets table. One pass of
 * GROUPING SETS, one set per distinct key of a rollup and grain; `GROUPING()`
 * tells the sets apart, and a set's rows go to every rollup with that key
 * that holds their metric. With `presum`, the tickets are first summed per
 * metric, finest bin and every grouping (see presummedSql), and the sets read
 * those sums, whose coarser bins are bins of the finest (every grain is a
 * multiple of the first, on one origin): for the tickets of one write, mostly
 * close in time and alike, a few hundred sums instead of a pass per set over
 * every ticket (a batch of 10,000 hours apart: 31 ms instead of 70). Over
 * tickets spread across months, as in a rebuild, the extra pass saves nothing
 * (the same batch spread over a year: 181 ms instead of 146).
 */
export function contributionsSql(
  source: string,
  { presum = false, only }: { presum?: boolean; only?: readonly string[] } = {},
): string {
  const metrics = METRIC_TYPES.map((name) => {
    const m = METRICS[name];
    const at = m.countsSql ? `CASE WHEN ${m.countsSql} THEN t.${m.timestamp} END` : `t.${m.timestamp}`;
    return `('${name}', ${at}, ${m.exactSql ?? 'NULL'}::numeric)`;
  });
  // `only`: the rows of those rollups alone (a migration that adds a rollup backfills just it).
  const rollups = only ? ROLLUPS.filter((r) => only.includes(r.name)) : ROLLUPS;
  const bins = GRAINS.map((g) => `bin${g}`);
  const used = new Set(rollups.flatMap((r) => [...r.grains.map((g) => `bin${g}`), ...r.groupings]));
  // The grouping columns of the pass, in GROUPING() bit order (first column = highest bit); the
  // columns no set of the pass keeps are NULL.
  const columns = [...bins, ...ROLLUP_GROUPINGS].filter((c) => used.has(c));
  const selected = [...bins, ...ROLLUP_GROUPINGS].map((c) =>
    used.has(c) ? `b.${c}` : `NULL::${bins.includes(c) ? 'timestamptz' : 'text'} AS ${c}`,
  );
  const sets = rollups.flatMap((r) =>
    r.grains.map((grain) => {
      const kept = [`bin${grain}`, ...r.groupings];
      const mask = columns.reduce(
        (bits, c, i) => (kept.includes(c) ? bits : bits | (1 << (columns.length - 1 - i))),
        0,
      );
      return { rollup: r, grain, kept, mask };
    }),
  );
  const distinct = [...new Map(sets.map((x) => [x.mask, x])).values()];
  const labels = sets.map(
    (x) => `(${x.mask}, '${x.rollup.name}', ${x.grain}, ARRAY[${x.rollup.metrics.map((m) => `'${m}'`).join(', ')}])`,
  );
  return `
    SELECT g.organization_id, r.rollup, g.metric, r.grain::smallint AS grain,
           CASE r.grain ${GRAINS.map((grain) => `WHEN ${grain} THEN g.bin${grain}`).join(' ')} END AS bucket,
           ${ROLLUP_GROUPINGS.map((c) => `coalesce(g.${c}, '') AS ${c}`).join(', ')},
           g.count, g.sum
    FROM (
      SELECT b.organization_id, b.metric, ${selected.join(', ')},
             GROUPING(${columns.map((c) => `b.${c}`).join(', ')}) AS set,
             sum(b.count)::bigint AS count, coalesce(sum(b.sum), 0) AS sum
      FROM (${presum ? presummedSql(source) : ticketMetricRowsSql(source, metrics)}) b
      GROUP BY b.organization_id, b.metric,
               GROUPING SETS (${distinct.map((x) => `(${x.kept.map((c) => `b.${c}`).join(', ')})`).join(', ')})
    ) g
    JOIN (VALUES ${labels.join(', ')}) AS r(set, rollup, grain, metrics)
      ON r.set = g.set AND g.metric = ANY(r.metrics)`;
}

/** A row per ticket and metric it counts in: its bins, groupings, `count` (its sign) and signed value. */
function ticketMetricRowsSql(source: string, metrics: readonly string[]): string {
  return `
        SELECT t.organization_id, m.metric, t.sign AS count, t.sign * m.value AS sum,
               ${GRAINS.map((g) => `date_bin(interval '${g} minutes', m.at, ${BIN_ORIGIN}) AS bin${g}`).join(', ')},
               ${ROLLUP_GROUPINGS.map((c) => `${GROUPING_SQL[c]}::text AS ${c}`).join(', ')}
        FROM ${source} t
        CROSS JOIN LATERAL (VALUES ${metrics.join(', ')}) AS m(metric, at, value)
        WHERE m.at IS NOT NULL`;
}

/**
 * The same rows summed per metric, finest bin and every grouping, with the
 * coarser bins of each: one grouped scan of `source` per metric, each reading
 * only its own timestamp and value. A scan per metric ran in half the time
 * of one pass that fans every ticket out to its metrics (`LATERAL VALUES`)
 * before grouping: 27 against 56 ms over 10,000 staged tickets.
 */
function presummedSql(source: string): string {
  const [finest, ...coarse] = GRAINS;
  const perMetric = METRIC_TYPES.map((name) => {
    const m = METRICS[name];
    const counted = [`t.${m.timestamp} IS NOT NULL`, ...(m.countsSql ? [m.countsSql] : [])].join(' AND ');
    return `
          SELECT t.organization_id, '${name}'::text AS metric,
                 date_bin(interval '${finest} minutes', t.${m.timestamp}, ${BIN_ORIGIN}) AS bin${finest},
                 ${ROLLUP_GROUPINGS.map((c) => `${GROUPING_SQL[c]}::text AS ${c}`).join(', ')},
                 sum(t.sign) AS count, sum(t.sign * ${m.exactSql ?? 'NULL'}::numeric) AS sum
          FROM ${source} t
          WHERE ${counted}
          GROUP BY ${Array.from({ length: 3 + ROLLUP_GROUPINGS.length }, (_, i) => i + 1).join(', ')}`;
  });
  // Materialized, so each scan is grouped by hashing: inlined, the planner sorted every scan's
  // 10,000 rows to feed the grouping sets in order (68 ms against 27 for the whole statement).
  return `
        WITH f AS MATERIALIZED (${perMetric.join('\n          UNION ALL')})
        SELECT f.*, ${coarse.map((g) => `date_bin(interval '${g} minutes', f.bin${finest}, ${BIN_ORIGIN}) AS bin${g}`).join(', ')}
        FROM f`;
}

/**
 * Adds the contributions of `source` (see `contributionsSql`) to the stored
 * rows: one statement however many tickets. Rows are written in key order, so
 * concurrent writers lock shared rows in the same order and cannot deadlock.
 * Keys whose contributions cancel out are not written.
 */
export function upsertContributionsSql(
  source: string,
  options: { presum?: boolean; only?: readonly string[] } = {},
): string {
  const key = ROLLUP_KEY.join(', ');
  return `
    INSERT INTO ticket_rollups AS r (${key}, count, sum)
    SELECT ${key}, c.count, c.sum FROM (${contributionsSql(source, options)}) c
    WHERE c.count <> 0 OR c.sum <> 0
    ORDER BY ${key}
    ON CONFLICT (${key}) DO UPDATE SET count = r.count + excluded.count, sum = r.sum + excluded.sum`;
}
