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
  if (first >= last) return { blocks: [], slivers: s < e ? [{ lo: start, hi: end }] : [] };
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
export function sketchContributionsSql(source: string): string {
  const metrics = SKETCH_METRICS.map((name) => {
    const m = METRICS[name];
    const within = name === 'response_time' ? `(${m.valueSql} <= g.hours)` : 'false';
    return `('${name}', t.${m.timestamp}, ${binSql(`(${m.valueSql})`)}, coalesce(${within}, false))`;
  });
  return `
    SELECT b.organization_id, b.grain, b.bucket, b.metric, b.bin,
           sum(b.sign)::bigint AS count, sum(CASE WHEN b.within THEN b.sign ELSE 0 END)::bigint AS within_target
    FROM (
      SELECT t.organization_id, k.grain::int AS grain,
             date_bin(make_interval(mins => k.grain), m.at, ${BIN_ORIGIN}) AS bucket, m.metric, m.bin, m.within, t.sign
      FROM ${source} t
      LEFT JOIN ticket_sla_targets g ON g.organization_id = t.organization_id AND g.priority = t.priority
      CROSS JOIN LATERAL (VALUES ${metrics.join(', ')}) AS m(metric, at, bin, within)
      CROSS JOIN unnest(ARRAY[${SKETCH_GRAINS.join(', ')}]) AS k(grain)
      WHERE m.at IS NOT NULL
    ) b
    GROUP BY b.organization_id, b.grain, b.bucket, b.metric, b.bin`;
}

/**
 * Adds the contributions of `source` to the stored sketches in one statement,
 * rows in key order (concurrent writers lock shared rows in one order).
 */
export function upsertSketchesSql(source: string): string {
  const key = SKETCH_KEY.join(', ');
  return `
    INSERT INTO ticket_sketches AS s (${key}, count, within_target)
    SELECT ${key}, c.count, c.within_target FROM (${sketchContributionsSql(source)}) c
    WHERE c.count <> 0 OR c.within_target <> 0
    ORDER BY ${key}
    ON CONFLICT (${key}) DO UPDATE
      SET count = s.count + excluded.count, within_target = s.within_target + excluded.within_target`;
}
