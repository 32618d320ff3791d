import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/auth.types.js';
import { CachedExecutor, type CachedResult } from '../cache/cached-executor.service.js';
import { Clock } from '../common/clock.js';
import { invalid } from '../common/errors.js';
import { formatTimestamp } from '../common/time.js';
import { normalizeFilters } from '../metrics/filters.js';
import { isMetricType, METRIC_TYPES } from '../metrics/metric-registry.js';
import type { SeriesQuery } from '../metrics/query-compiler.js';
import { summarizeSeries } from '../metrics/series.js';
import { AnalyticsRepository } from './analytics.repository.js';
import { assertBucketLimit, resolveRange } from './analytics-query.js';
import type { TimeSeriesQueryDto } from './dto/time-series.query.dto.js';

@Injectable()
export class TimeSeriesService {
  constructor(
    private readonly executor: CachedExecutor,
    private readonly analytics: AnalyticsRepository,
    private readonly clock: Clock,
  ) {}

  find(
    caller: Principal,
    metricType: string,
    dto: TimeSeriesQueryDto,
    noCacheHeader: boolean,
    prepaid = false,
  ): Promise<CachedResult> {
    if (!isMetricType(metricType)) throw invalid(`metric_type must be one of ${METRIC_TYPES.join(', ')}`);
    const range = resolveRange(dto, this.clock.now());
    const granularity = dto.granularity ?? 'daily';
    assertBucketLimit(range, granularity);
    const query: SeriesQuery = {
      organizationId: caller.organizationId,
      metric: metricType,
      ...range,
      granularity,
      filters: normalizeFilters(dto),
    };
    return this.cached(query, dto.use_cache === false || noCacheHeader, prepaid);
  }

  /** A series through the cached executor; REST and the socket share its entries. */
  cached(query: SeriesQuery, fresh: boolean, prepaid = false): Promise<CachedResult> {
    const { organizationId, ...normalized } = query;
    return this.executor.run({
      organizationId,
      section: 'time-series',
      metrics: [query.metric],
      range: query,
      query: normalized,
      fresh,
      prepaid,
      compute: () => this.compute(query),
    });
  }

  /** The body of 4.1, also used by the socket's subscription data. */
  async compute(query: SeriesQuery) {
    const { sum_value: _, ...summary } = summarizeSeries(
      query.metric,
      await this.analytics.series(query),
      query.timezone,
    );
    return {
      metric_type: query.metric,
      granularity: query.granularity,
      timezone: query.timezone,
      start_date: formatTimestamp(query.start, query.timezone),
      end_date: formatTimestamp(query.end, query.timezone),
      ...summary,
    };
  }
}
