import { PRIORITIES, type Priority } from './dimensions.js';
import { METRICS } from './metric-registry.js';
import { binSql } from './sketch.js';
import { SKETCH_METRICS, sketchPieces } from './sketch-lattice.js';
import { SqlParams, type CompiledQuery } from './sql-params.js';

/** One merged bin of one metric over a range, as `compileSketchReport` returns it. */
export interface SketchReportRow {
  readonly metric: (typeof SKETCH_METRICS)[number];
  readonly bin: number;
  readonly count: number;
  readonly within_target: number;
  /** Whether the organization's counts were made with `targets` (the same on every row). */
  readonly targets_match: boolean;
}

/** SQL of one ticket's priority target among `targets`, bound as parameters. */
export function targetSql(targets: Readonly<Record<Priority, number>>, params: SqlParams): string {
  return `CASE t.priority ${PRIORITIES.map((p) => `WHEN '${p}' THEN ${params.add(targets[p])}::float8`).join(' ')} END`;
}

/**
 * The sketches of response and resolution hours over `[start, end)` merged
 * into one count per metric and bin, with the first responses within target:
 * stored blocks for the whole hours of the range (src/metrics/sketch-lattice.ts),
 * the raw rows of its ends binned by the same SQL. `targets_match` tells
 * whether the stored within-target counts were made with `targets`; when
 * not, they answer nothing (the raw rows do, until a rebuild).
 */
export function compileSketchReport(
  q: { readonly organizationId: number; readonly start: Date; readonly end: Date },
  targets: Readonly<Record<Priority, number>>,
): CompiledQuery {
  const { blocks, slivers } = sketchPieces(q.start, q.end);
  const params = new SqlParams();
  const org = `${params.add(q.organizationId)}::bigint`;
  const grains = params.add(blocks.map((b) => b.grain));
  const buckets = params.add(blocks.map((b) => b.bucket));
  const los = params.add(slivers.map((s) => s.lo));
  const his = params.add(slivers.map((s) => s.hi));
  const target = targetSql(targets, params);
  const raw = SKETCH_METRICS.map((name) => {
    const m = METRICS[name];
    const within = name === 'response_time' ? `CASE WHEN ${m.valueSql} <= ${target} THEN 1 ELSE 0 END` : '0';
    return `
      SELECT '${name}'::text AS metric, r.bin, 1::bigint AS count, r.within::bigint AS within_target
      FROM unnest(${los}::timestamptz[], ${his}::timestamptz[]) AS v(lo, hi)
      CROSS JOIN LATERAL (
        SELECT ${binSql(`(${m.valueSql})`)} AS bin, ${within} AS within FROM tickets t
        WHERE t.organization_id = ${org} AND t.${m.timestamp} >= v.lo AND t.${m.timestamp} < v.hi
        OFFSET 0) r`;
  });
  const stored = PRIORITIES.map((p) => `('${p}', ${params.add(targets[p])}::float8)`).join(', ');
  // Per block, an index range scan on the primary key (LATERAL ... OFFSET 0 keeps the planner from hashing the organization's rows).
  const text = `
    SELECT x.metric, x.bin, sum(x.count)::float8 AS count, sum(x.within_target)::float8 AS within_target,
           NOT EXISTS (
             SELECT 1 FROM ticket_sla_targets g LEFT JOIN (VALUES ${stored}) AS c(priority, hours) USING (priority)
             WHERE g.organization_id = ${org} AND g.hours IS DISTINCT FROM c.hours) AS targets_match
    FROM (
      SELECT s.metric, s.bin, s.count, s.within_target
      FROM unnest(${grains}::int[], ${buckets}::timestamptz[]) AS p(grain, bucket)
      CROSS JOIN LATERAL (
        SELECT k.metric, k.bin, k.count, k.within_target FROM ticket_sketches k
        WHERE k.organization_id = ${org} AND k.grain = p.grain AND k.bucket = p.bucket
        OFFSET 0) s
      UNION ALL ${raw.join(' UNION ALL ')}
    ) x
    GROUP BY x.metric, x.bin HAVING sum(x.count) <> 0 OR sum(x.within_target) <> 0
    ORDER BY x.metric, x.bin`;
  return { text, values: params.values, reusable: true };
}
