import { formatTimestamp } from '../common/time.js';
import { METRICS, type MetricType } from './metric-registry.js';
import type { BucketRow } from './query-compiler.js';

export interface DataPoint {
  timestamp: string;
  value: number | null;
  count: number;
}

export interface SeriesSummary {
  data_points: DataPoint[];
  total_count: number;
  /** Sum of the counted tickets' values (mean metrics), null for counts or when nothing counted. */
  sum_value: number | null;
  average_value: number | null;
  min_value: number | null;
  max_value: number | null;
}

/** The metric's value over a set of tickets: their count, or the mean of their values (null when none). */
export function aggregateValue(
  metricType: MetricType,
  { count, sum }: { count: number; sum: number | null },
): number | null {
  if (METRICS[metricType].aggregate === 'count') return count;
  return count > 0 && sum !== null ? sum / count : null;
}

/**
 * Turns bucket rows into data points and the summary fields, combining them
 * as the metric's aggregate says: a count's average is per bucket and its
 * extremes span every bucket; a mean's average is over all counted tickets
 * (not a mean of bucket means) and its extremes span non-empty buckets.
 */
export function summarizeSeries(metricType: MetricType, rows: readonly BucketRow[], zone: string): SeriesSummary {
  const metric = METRICS[metricType];
  const isCount = metric.aggregate === 'count';
  const data_points = rows.map((row) => ({
    timestamp: formatTimestamp(row.bucket, zone),
    value: aggregateValue(metricType, row),
    count: row.count,
  }));
  const total_count = rows.reduce((n, r) => n + r.count, 0);
  const values = data_points.filter((p) => isCount || p.count > 0).map((p) => p.value as number);
  const sum_value = isCount || total_count === 0 ? null : rows.reduce((s, r) => s + (r.sum ?? 0), 0);
  return {
    data_points,
    total_count,
    sum_value,
    average_value: isCount
      ? rows.length > 0
        ? total_count / rows.length
        : null
      : sum_value === null
        ? null
        : sum_value / total_count,
    min_value: values.length > 0 ? Math.min(...values) : null,
    max_value: values.length > 0 ? Math.max(...values) : null,
  };
}
