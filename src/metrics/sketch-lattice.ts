import { PRIORITIES, type Priority } from './dimensions.js';
import { METRICS } from './metric-registry.js';
import { BIN_ORIGIN } from './rollup-lattice.js';
import { binSql } from './sketch.js';

/**
 * Where the sketches of response and resolution hours are stored
 * (`ticket_sketches`, see src/metrics/README.md): per organization, UTC-aligned
 * block and metric, a count per log bin (src/metrics/sketch.ts), and for
 * first responses how many of those tickets were answered within their
 * priority's target as stored in `ticket_sla_targets`.
 */

export const SKETCH_METRICS = ['response_time', 'resolution_time'] as const;
export type SketchMetric = (typeof SKETCH_METRICS)[number];

/**
 * Block sizes in minutes, each dividing the next: hours, 4 hours, then days
 * doubling up to 256 days, aligned on BIN_ORIGIN. A range cut on the hour is
 * a disjoint sum of at most a few blocks of each size, so a read sums a few
 * thousand bin rows however long the range; the rest of the range (less than
 * an hour at each end) is read from the raw rows.
 */
export const SKETCH_GRAINS = [60, 240, ...Array.from({ length: 9 }, (_, k) => 1440 * 2 ** k)] as const;

const HOUR_MS = 3_600_000;
const ORIGIN_MS = Date.UTC(2000, 0, 1);

/** The key columns of a sketch row, in primary-key order. */
export const SKETCH_KEY = ['organization_id', 'grain', 'bucket', 'metric', 'bin'] as const;

/** A stored block `[bucket, bucket + grain)`. */
export interface SketchPiece {
  readonly grain: number;
  readonly bucket: Date;
}

/** `[start, end)` as stored blocks, largest that fit first, and the raw slivers (under an hour) at its ends. */
export function sketchPieces(start: Date, end: Date): { blocks: SketchPiece[]; slivers: { lo: Date; hi: Date }[] } {
  const s = start.getTime();
  const e = end.getTime();
  const first = ORIGIN_MS + Math.ceil((s - ORIGIN_MS) / HOUR_MS) * HOUR_MS;
  const last = ORIGIN_MS + Math.floor((e - ORIGIN_MS) / HOUR_MS) * HOUR_MS;
  // Within one hour: one sliver. Across exactly one hour boundary (no whole hour inside), the two
  // slivers below, each under an hour.
  if (first > last) return { blocks: [], slivers: s < e ? [{ lo: start, hi: end }] : [] };
  const blocks: SketchPiece[] = [];
  for (let at = first; at < last;) {
    const grain = [...SKETCH_GRAINS]
      .reverse()
      .find((g) => (at - ORIGIN_MS) % (g * 60_000) === 0 && at + g * 60_000 <= last)!;
    blocks.push({ grain, bucket: new Date(at) });
    at += grain * 60_000;
  }
  const slivers = [
    { lo: start, hi: new Date(first) },
    { lo: new Date(last), hi: end },
  ].filter((x) => x.lo < x.hi);
  return { blocks, slivers };
}

/**
 * SQL of the sketch rows of a set of tickets: key columns, `count` (the sum
 * of `t.sign`) and `within_target`. `source` is a relation with the tickets'
 * columns and a `sign` (1 or -1), alias `t`; the targets are the ones stored
 * for the ticket's organization, so a write counts with the targets its
 * organization's counts were made with, whatever the writer's settings.
 */
export function sketchContributionsSql(source: string, grains: readonly number[] = SKETCH_GRAINS): string {
  const [finest, ...coarser] = grains;
  // One scan per metric, each reading its own timestamp and value (a pass that fanned every ticket
  // out to both metrics with LATERAL VALUES cost more than the two scans), with the target its value
  // is tested against (response times only).
  const perMetric = SKETCH_METRICS.map((name) => {
    const m = METRICS[name];
    const response = name === 'response_time';
    return `
          SELECT t.organization_id, date_bin(interval '${finest} minutes', t.${m.timestamp}, ${BIN_ORIGIN}) AS bucket,
                 '${name}'::text AS metric, ${m.valueSql} AS value, ${response ? 'g.hours' : 'NULL::float8'} AS target, t.sign
          FROM ${source} t${
            response
              ? `
          LEFT JOIN ticket_sla_targets g ON g.organization_id = t.organization_id AND g.priority = t.priority`
              : ''
          }
          WHERE t.${m.timestamp} IS NOT NULL`;
  });
  // Summed in blocks of the finest grain first, and each coarser block from those sums (every grain
  // is a multiple of the finest on one origin): the tickets of a write, close in time, fill few
  // blocks, so the coarser grains sum a few rows instead of every ticket once more per grain.
  return `
    SELECT organization_id, grain, bucket, metric, bin, count, within_target FROM (
      WITH f AS MATERIALIZED (
        SELECT v.organization_id, v.bucket, v.metric, ${binSql('v.value')} AS bin,
               sum(v.sign)::bigint AS count, sum(CASE WHEN v.value <= v.target THEN v.sign ELSE 0 END)::bigint AS within_target
        FROM (${perMetric.join('\n          UNION ALL')}
        ) v
        GROUP BY v.organization_id, v.bucket, v.metric, 4)
      SELECT organization_id, ${finest} AS grain, bucket, metric, bin, count, within_target FROM f${
        coarser.length === 0
          ? ''
          : `
      UNION ALL
      SELECT f.organization_id, k.grain, date_bin(make_interval(mins => k.grain), f.bucket, ${BIN_ORIGIN}), f.metric, f.bin,
             sum(f.count)::bigint, sum(f.within_target)::bigint
      FROM f CROSS JOIN unnest(ARRAY[${coarser.join(', ')}]) AS k(grain)
      GROUP BY 1, 2, 3, 4, 5`
      }
    ) x`;
}

const KEY = SKETCH_KEY.join(', ');
const ADD_ON_CONFLICT = `ON CONFLICT (${KEY}) DO UPDATE
      SET count = s.count + excluded.count, within_target = s.within_target + excluded.within_target`;

/**
 * Adds the contributions of `source` to the stored sketches of `grains` in
 * one statement, rows in key order (concurrent writers lock shared rows in
 * one order).
 */
export function upsertSketchesSql(source: string, grains: readonly number[] = SKETCH_GRAINS): string {
  return `
    INSERT INTO ticket_sketches AS s (${KEY}, count, within_target)
    SELECT ${KEY}, c.count, c.within_target FROM (${sketchContributionsSql(source, grains)}) c
    WHERE c.count <> 0 OR c.within_target <> 0
    ORDER BY ${KEY}
    ${ADD_ON_CONFLICT}`;
}

/** The finest block size alone: what a build from scratch bins the tickets into (see `coarserSketchesSql`). */
export const FINEST_SKETCH_GRAIN: readonly number[] = [SKETCH_GRAINS[0]];

/**
 * How an organization's sketches are built from scratch (rebuild, backfill,
 * seeding; they must be empty): the tickets binned into the finest blocks
 * only (`upsertSketchesSql(source, FINEST_SKETCH_GRAIN)`, in as many batches
 * as the caller likes), then these statements in order, each summing one
 * block size of organization `$1` from the size below it. Bins add up, so
 * that equals binning every ticket into every block, at a fraction of the
 * work: a block holds far fewer bin rows than tickets.
 */
export function coarserSketchesSql(): string[] {
  return SKETCH_GRAINS.slice(1).map(
    (grain, i) => `
    INSERT INTO ticket_sketches AS s (${KEY}, count, within_target)
    SELECT f.organization_id, ${grain}, date_bin(interval '${grain} minutes', f.bucket, ${BIN_ORIGIN}) AS bucket,
           f.metric, f.bin, sum(f.count), sum(f.within_target)
    FROM ticket_sketches f
    WHERE f.organization_id = $1 AND f.grain = ${SKETCH_GRAINS[i]}
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(f.count) <> 0 OR sum(f.within_target) <> 0
    ORDER BY 1, 2, 3, 4, 5
    ${ADD_ON_CONFLICT}`,
  );
}

/**
 * Stores first-response targets for an organization that has none: what the
 * organization's within-target counts are then made with (see
 * `sketchContributionsSql`). One statement with its values written out (an
 * integer organization and finite hours, checked), the rows in one order of
 * priorities, so it can go in a string of statements sent without bound values.
 */
export function storeTargetsSql(organizationId: number, targets: Readonly<Record<Priority, number>>): string {
  const hours = (p: Priority) => {
    if (!Number.isFinite(targets[p])) throw new Error(`not a number of hours: ${targets[p]}`);
    return `${targets[p]}::float8`;
  };
  // Number(): a bigint column read without the pool's int8 parsing arrives as a string.
  const org = Number(organizationId);
  if (!Number.isSafeInteger(org)) throw new Error(`not an organization id: ${organizationId}`);
  const rows = [...PRIORITIES].sort().map((p) => `(${org}, '${p}', ${hours(p)})`);
  return `INSERT INTO ticket_sla_targets (organization_id, priority, hours) VALUES ${rows.join(', ')}
          ON CONFLICT DO NOTHING`;
}
