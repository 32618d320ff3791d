import { assertBucketLimit, resolveRange } from '../analytics/analytics-query.js';
import { formatTimestamp } from '../common/time.js';
import type { Filters } from '../metrics/dimensions.js';
import { normalizeFilters } from '../metrics/filters.js';
import type { Granularity } from '../metrics/granularity.js';
import type { MetricType } from '../metrics/metric-registry.js';
import type { ExportRequestDto } from './dto/export.request.dto.js';

export type ExportFormat = 'csv' | 'json' | 'xlsx';

/** An export request with its range resolved, its defaults applied and its names canonical. */
export interface ExportRequest {
  /** In the order asked, each once: the order of the file's series and sheets. */
  readonly metricTypes: readonly MetricType[];
  readonly start: Date;
  readonly end: Date;
  readonly timezone: string;
  readonly granularity: Granularity;
  readonly filters: Filters;
  readonly includeRawData: boolean;
  readonly format: ExportFormat;
}

/** Resolves and checks the request; every refusal here is a 400 before any query runs. */
export function normalizeExportRequest(dto: ExportRequestDto, now: Date): ExportRequest {
  const range = resolveRange(dto, now);
  const granularity = dto.granularity ?? 'daily';
  assertBucketLimit(range, granularity);
  return {
    metricTypes: [...new Set(dto.metric_types)],
    ...range,
    granularity,
    filters: normalizeFilters(dto.filters ?? {}),
    includeRawData: dto.include_raw_data ?? false,
    format: dto.format === 'excel' ? 'xlsx' : dto.format,
  };
}

export const CONTENT_TYPES: Readonly<Record<ExportFormat, string>> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** `pulse_<org>_<start>_<end>.<ext>`, the range's ends in UTC as `YYYYMMDDTHHMMSSZ`. */
export function exportFilename(organizationId: number, request: ExportRequest): string {
  const compact = (instant: Date) =>
    instant
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z')
      .replace(/[-:]/g, '');
  return `pulse_${organizationId}_${compact(request.start)}_${compact(request.end)}.${request.format}`;
}

/** The request as a JSON export echoes it: range ends in the request's zone, as the time-series endpoint does. */
export function exportMetadata(organizationId: number, request: ExportRequest, generatedAt: Date) {
  return {
    metric_types: request.metricTypes,
    start_date: formatTimestamp(request.start, request.timezone),
    end_date: formatTimestamp(request.end, request.timezone),
    granularity: request.granularity,
    timezone: request.timezone,
    filters: request.filters,
    include_raw_data: request.includeRawData,
    format: request.format,
    organization_id: organizationId,
    generated_at: formatTimestamp(generatedAt),
  };
}
