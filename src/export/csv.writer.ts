import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { DataPoint } from '../metrics/series.js';

export type SeriesByMetric = ReadonlyMap<string, readonly DataPoint[]>;

export const SERIES_CSV_COLUMNS = ['metric_type', 'timestamp', 'value', 'count'] as const;

/**
 * The series as CSV: one row per bucket per metric. Nothing in it needs
 * formula escaping: metric names, ISO timestamps and numbers only. An empty
 * value is an empty field.
 */
export function seriesCsv(series: SeriesByMetric): Readable {
  const rows = function* () {
    for (const [metric_type, points] of series) {
      for (const { timestamp, value, count } of points) yield { metric_type, timestamp, value, count };
    }
  };
  return Readable.from(rows()).pipe(stringify({ header: true, columns: [...SERIES_CSV_COLUMNS] }));
}
