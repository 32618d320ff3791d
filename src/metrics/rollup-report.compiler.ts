import { bucketSql, bucketsSql } from './bucket-sql.js';
import { GROUPING_SQL, type GroupingName } from './dimensions.js';
import { filterPredicates } from './filters.js';
import { METRICS } from './metric-registry.js';
import type { ReportQuery } from './query-compiler.js';
import type { Granularity } from './granularity.js';
import { BIN_ORIGIN, coveringRollup, type Rollup } from './rollup-lattice.js';
import { SqlParams, type CompiledQuery } from './sql-params.js';

const minutes = (n: number) => `interval '${n} minutes'`;
/** Grains a series can be read from in one scan when its buckets align on them, coarsest first. */
const ALIGNABLE = [1440, 60] as const;
/** The grain of the hours that bucket boundaries split, when every boundary is on one of its rows (see `alignment`). */
const SPLIT = 15;
/**
 * The granularities read that way: a bucket of an hour or a day is most of
 * the hours it spans. Longer buckets are cut into pieces, their middle read
 * as days (a one-year weekly series in Asia/Kathmandu read 8,760 hourly rows
 * the other way, against about 1,700 rows in pieces).
 */
const SPLIT_GRANULARITIES: readonly Granularity[] = ['hourly', 'daily'];
const floorBin = (width: number, x: string) => `date_bin(${minutes(width)}, ${x}, ${BIN_ORIGIN})`;
const ceilBin = (width: number, x: string) =>
  `CASE WHEN ${floorBin(width, x)} = ${x} THEN ${x} ELSE ${floorBin(width, x)} + ${minutes(width)} END`;

/**
 * Cuts each span `[lo, hi)` of `spans` into pieces that are whole rollup
 * rows: days in the middle, hours beside them, then rows of the rollup's
 * finest grain, and (grain 0) the raw slivers at the ends of a span that do
 * not start or end on a boundary of that grain. Each piece keeps its span's
 * `bucket`. Every local bucket boundary in every zone is on a 15-minute UTC
 * boundary, so raw slivers only occur at the ends of the requested range.
 */
function piecesSql(spans: string, finest: number): string {
  return `
    SELECT s.bucket, p.grain, p.lo, p.hi
    FROM ${spans} s
    CROSS JOIN LATERAL (SELECT ${ceilBin(finest, 's.lo')} AS a0, ${floorBin(finest, 's.hi')} AS c0 OFFSET 0) f
    CROSS JOIN LATERAL (SELECT CASE WHEN f.a0 < f.c0 THEN f.a0 ELSE s.hi END AS a,
                               CASE WHEN f.a0 < f.c0 THEN f.c0 ELSE s.hi END AS c OFFSET 0) e
    CROSS JOIN LATERAL (SELECT ${ceilBin(60, 'e.a')} AS h1, ${floorBin(60, 'e.c')} AS h2 OFFSET 0) h0
    CROSS JOIN LATERAL (SELECT CASE WHEN h0.h1 < h0.h2 THEN h0.h1 ELSE e.c END AS h1,
                               CASE WHEN h0.h1 < h0.h2 THEN h0.h2 ELSE e.c END AS h2 OFFSET 0) h
    CROSS JOIN LATERAL (SELECT ${ceilBin(1440, 'h.h1')} AS d1, ${floorBin(1440, 'h.h2')} AS d2 OFFSET 0) d0
    CROSS JOIN LATERAL (SELECT CASE WHEN d0.d1 < d0.d2 THEN d0.d1 ELSE h.h2 END AS d1,
                               CASE WHEN d0.d1 < d0.d2 THEN d0.d2 ELSE h.h2 END AS d2 OFFSET 0) d
    CROSS JOIN LATERAL (VALUES (0, s.lo, e.a), (0, e.c, s.hi), (15, e.a, h.h1), (15, h.h2, e.c),
                               (60, h.h1, d.d1), (60, d.d2, h.h2), (1440, d.d1, d.d2)) AS p(grain, lo, hi)
    WHERE p.lo < p.hi`;
}

/**
 * A report from the rollups (src/metrics/README.md), or null when a part of
 * it has no covering rollup (then the raw query answers it). The series and
 * each breakdown are read from the smallest rollup that keeps the filtered
 * dimensions and that breakdown; the breakdowns over the whole range as one
 * span, the series bucket by bucket. The answer is the raw query's: the same
 * buckets (laid out by the same SQL), counts, and sums to rounding.
 */
export function compileRollupReport(q: ReportQuery): CompiledQuery | null {
  const metric = METRICS[q.metric];
  const seriesRollup = q.granularity === null ? null : coveringRollup(q.metric, q.filters, []);
  const groupRollups = q.groupBy.map((name) => coveringRollup(q.metric, q.filters, [name]));
  if ((q.granularity !== null && seriesRollup === null) || groupRollups.some((r) => r === null)) return null;

  const params = new SqlParams();
  const org = params.add(q.organizationId);
  const start = `${params.add(q.start)}::timestamptz`;
  const end = `${params.add(q.end)}::timestamptz`;
  const ts = `t.${metric.timestamp}`;
  const sum = metric.exactSql
    ? `CASE WHEN sum(x.count) > 0 THEN (sum(x.sum) / ${metric.exactUnit})::float8 END`
    : 'NULL::float8';

  /** Count and sum per `bucket` and grouping value over the pieces in `pieces`, from `rollup` and raw slivers. */
  const facts = (pieces: string, rollup: Rollup, grouping: GroupingName | null) => {
    const rolledValue = grouping === null ? 'NULL::text' : `t.${grouping}`;
    const rawValue = grouping === null ? 'NULL::text' : `${GROUPING_SQL[grouping]}::text`;
    const filters = filterPredicates(q.filters, params);
    const raw = [
      `t.organization_id = ${org}`,
      `${ts} >= p.lo`,
      `${ts} < p.hi`,
      ...(metric.countsSql ? [metric.countsSql] : []),
      ...filters,
    ];
    // Per piece, an index range scan (LATERAL ... OFFSET 0 keeps the planner from hashing every row of the organization).
    return `
      SELECT x.bucket, x.value, sum(x.count)::int AS count, ${sum} AS sum FROM (
        SELECT p.bucket, r.value, r.count, r.sum
        FROM ${pieces} p CROSS JOIN LATERAL (
          SELECT ${rolledValue} AS value, t.count, t.sum FROM ticket_rollups t
          WHERE t.organization_id = ${org} AND t.rollup = '${rollup.name}' AND t.metric = '${q.metric}'
            AND t.grain = p.grain AND t.bucket >= p.lo AND t.bucket < p.hi${filters.map((f) => ` AND ${f}`).join('')}
          OFFSET 0) r
        WHERE p.grain > 0
        UNION ALL
        SELECT p.bucket, r.value, 1 AS count, r.sum
        FROM ${pieces} p CROSS JOIN LATERAL (
          SELECT ${rawValue} AS value, ${metric.exactSql ?? 'NULL'}::numeric AS sum FROM tickets t
          WHERE ${raw.join(' AND ')}
          OFFSET 0) r
        WHERE p.grain = 0
      ) x GROUP BY x.bucket, x.value HAVING sum(x.count) > 0`;
  };

  /**
   * When every bucket boundary inside the range falls on a boundary of one
   * grain the rollup keeps, each row of that grain between the first and the
   * last such boundary lies in one bucket: one range scan of those rows,
   * grouped by the raw query's own bucket expression, answers the series
   * (UTC days in UTC, hours in a zone on whole hours), and only the two ends
   * of the range are cut into pieces. Otherwise, when the boundaries are on
   * quarter hours (zones such as Asia/Kolkata or Asia/Kathmandu), the buckets
   * are hours or days, and the rollup keeps hours and quarter hours (grain
   * SPLIT): between the first and the last boundary, the hours no boundary
   * splits are read by one range scan and the split hours as quarter hours,
   * each row again in one bucket (a one-year hourly series in
   * Asia/Kathmandu: 120 ms against 165 ms in pieces; a daily one as fast
   * either way, ~16 ms); the first and the last bucket are cut into pieces.
   * Otherwise every bucket is. The choice is made in the statement, from the
   * buckets it lays out.
   */
  const alignment = (rollup: Rollup) => {
    const grains = ALIGNABLE.filter((g) => rollup.grains.includes(g));
    const splits =
      SPLIT_GRANULARITIES.includes(q.granularity!) && rollup.grains.includes(SPLIT) && rollup.grains.includes(60);
    const onGrain = (g: number) => `coalesce(bool_and(${floorBin(g, 'b.bucket')} = b.bucket), true)`;
    const cases: { grain: number; a: string; c: string }[] = grains.map((g) => ({
      grain: g,
      a: ceilBin(g, start),
      c: floorBin(g, end),
    }));
    if (splits) cases.push({ grain: SPLIT, a: 'g.first', c: 'g.last' });
    const byGrain = (side: 'a' | 'c') =>
      cases.length === 0
        ? 'NULL::timestamptz'
        : `CASE g.grain ${cases.map((x) => `WHEN ${x.grain} THEN ${x[side]}`).join(' ')} END`;
    const grain =
      cases.length === 0
        ? '0'
        : `CASE ${cases.map((x) => `WHEN ${onGrain(x.grain)} THEN ${x.grain}`).join(' ')} ELSE 0 END`;
    // `steady` (daily series only): every bucket is one day long (no offset change in the range), so
    // a row's day is `date_bin` from the first bucket, integer arithmetic, instead of a `date_trunc`
    // in the zone (a third of the execution of a one-year daily series in Asia/Kathmandu).
    const days =
      q.granularity === 'daily'
        ? `SELECT coalesce(bool_and(x.next - x.bucket = interval '1 day'), false) AS steady, min(x.bucket) AS origin
                  FROM (SELECT b.bucket, lead(b.bucket) OVER (ORDER BY b.bucket) AS next FROM buckets b) x`
        : 'SELECT false AS steady, NULL::timestamptz AS origin';
    return `alignment AS MATERIALIZED (
      SELECT CASE WHEN e.a < e.c THEN g.grain ELSE 0 END AS grain, e.a, e.c, d.steady, d.origin
      FROM (SELECT ${grain} AS grain, min(b.bucket) AS first, max(b.bucket) AS last
            FROM buckets b WHERE b.bucket > ${start} AND b.bucket < ${end}) g
      CROSS JOIN LATERAL (SELECT ${byGrain('a')} AS a, ${byGrain('c')} AS c) e
      CROSS JOIN (${days}) d)`;
  };

  const ctes: string[] = [];
  const parts: string[] = [];
  if (q.granularity !== null) {
    const zone = `${params.add(q.timezone)}::text`;
    const rollup = seriesRollup!;
    const finest = rollup.grains[0]!;
    const bucketOf = (ts: string) => bucketSql(q.granularity!, ts, zone, start);
    const grain = '(SELECT grain FROM alignment)';
    const [a, c] = ['(SELECT a FROM alignment)', '(SELECT c FROM alignment)'];
    const filters = filterPredicates(q.filters, params);
    const rows = (ofGrain: string) =>
      `t.organization_id = ${org} AND t.rollup = '${rollup.name}' AND t.metric = '${q.metric}' AND t.grain = ${ofGrain}${filters
        .map((f) => ` AND ${f}`)
        .join('')}`;
    // A rollup row's bucket: for days of one length, counted from the first (see `alignment`).
    const dayOf = (ts: string) =>
      q.granularity === 'daily'
        ? `CASE WHEN (SELECT steady FROM alignment) THEN date_bin(interval '1 day', ${ts}, (SELECT origin FROM alignment)) ELSE ${bucketOf(ts)} END`
        : bucketOf(ts);
    const summed = (from: string) =>
      `SELECT ${dayOf('t.bucket')} AS bucket, sum(t.count)::int AS count,
              ${metric.exactSql ? `(sum(t.sum) / ${metric.exactUnit})::float8` : 'NULL::float8'} AS sum
       FROM ${from} GROUP BY 1`;
    ctes.push(
      `buckets AS (${bucketsSql(q.granularity, zone, start, end)})`,
      alignment(rollup),
      // Every bucket clipped to the range: all of them when nothing aligns, else only the two ends.
      `spans AS (
         SELECT bucket, greatest(bucket, ${start}) AS lo, least(next, ${end}) AS hi
         FROM (SELECT bucket, lead(bucket, 1, ${end}) OVER (ORDER BY bucket) AS next FROM buckets) b
         WHERE bucket < ${end} AND ${grain} = 0
         UNION ALL
         SELECT ${bucketOf(start)}, ${start}, ${a} WHERE ${grain} > 0
         UNION ALL
         SELECT ${bucketOf(c)}, ${c}, ${end} WHERE ${grain} > 0)`,
      `series_pieces AS MATERIALIZED (${piecesSql('spans', finest)})`,
      // The hours that a bucket boundary splits, when the series reads them as quarter hours.
      `split_hours AS MATERIALIZED (
         SELECT DISTINCT ${floorBin(60, 'b.bucket')} AS hour FROM buckets b
         WHERE ${grain} = ${SPLIT} AND b.bucket >= ${a} AND b.bucket <= ${c} AND ${floorBin(60, 'b.bucket')} <> b.bucket)`,
      `series AS (
         SELECT x.bucket, sum(x.count)::int AS count, sum(x.sum) AS sum FROM (
           ${summed(`ticket_rollups t WHERE ${grain} IN (${ALIGNABLE.join(', ')}) AND ${rows(grain)}
             AND t.bucket >= ${a} AND t.bucket < ${c}`)}
           UNION ALL
           ${summed(`(
             SELECT t.bucket, t.count, t.sum FROM ticket_rollups t
             WHERE ${grain} = ${SPLIT} AND ${rows('60')} AND t.bucket >= ${a} AND t.bucket <= ${c} - interval '1 hour'
               AND t.bucket NOT IN (SELECT hour FROM split_hours)
             UNION ALL
             SELECT r.bucket, r.count, r.sum FROM split_hours s CROSS JOIN LATERAL (
               SELECT t.bucket, t.count, t.sum FROM ticket_rollups t
               WHERE ${rows(String(SPLIT))} AND t.bucket >= greatest(s.hour, ${a}) AND t.bucket < least(s.hour + interval '1 hour', ${c})
               OFFSET 0) r) t`)}
           UNION ALL
           SELECT f.bucket, f.count, f.sum FROM (${facts('series_pieces', rollup, null)}) f
         ) x GROUP BY x.bucket HAVING sum(x.count) > 0)`,
    );
    parts.push(`SELECT b.bucket, NULL::text AS grouping, NULL::text AS value, coalesce(f.count, 0) AS count, f.sum
       FROM buckets b LEFT JOIN series f ON f.bucket = b.bucket
       WHERE b.bucket < ${end}`);
  }
  // Breakdowns read the whole range as one span, cut to the finest grain of each rollup they read.
  const range = `(SELECT NULL::timestamptz AS bucket, ${start} AS lo, ${end} AS hi)`;
  for (const finest of new Set(groupRollups.map((r) => r!.grains[0]!))) {
    ctes.push(`range_pieces_${finest} AS MATERIALIZED (${piecesSql(range, finest)})`);
  }
  q.groupBy.forEach((name, i) => {
    const rollup = groupRollups[i]!;
    ctes.push(`g${i} AS (${facts(`range_pieces_${rollup.grains[0]}`, rollup, name)})`);
    parts.push(`SELECT NULL::timestamptz AS bucket, '${name}'::text AS grouping, f.value, f.count, f.sum FROM g${i} f`);
  });
  const text = `
    WITH ${ctes.join(',\n    ')}
    ${parts.join(' UNION ALL ')}
    ORDER BY 2 NULLS FIRST, 1`;
  return { text, values: params.values, reusable: true };
}
