import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/auth.types.js';
import { CachedExecutor, type CachedResult } from '../cache/cached-executor.service.js';
import { Clock } from '../common/clock.js';
import { formatTimestamp } from '../common/time.js';
import type { DimensionName } from '../metrics/dimensions.js';
import { normalizeFilters } from '../metrics/filters.js';
import type { MetricType } from '../metrics/metric-registry.js';
import type { ReportQuery } from '../metrics/query-compiler.js';
import { aggregateValue, summarizeSeries } from '../metrics/series.js';
import { AnalyticsRepository } from './analytics.repository.js';
import { assertBucketLimit, resolveRange } from './analytics-query.js';
import type { AggregationsRequestDto } from './dto/aggregations.request.dto.js';

/** Several metrics at once, each one statement: its series and every requested breakdown. */
@Injectable()
export class AggregationsService {
  constructor(
    private readonly executor: CachedExecutor,
    private readonly analytics: AnalyticsRepository,
    private readonly clock: Clock,
  ) {}

  run(caller: Principal, body: AggregationsRequestDto, noCacheHeader: boolean): Promise<CachedResult> {
    const range = resolveRange(body, this.clock.now());
    const granularity = body.granularity ?? 'daily';
    assertBucketLimit(range, granularity);
    const metrics = [...new Set(body.metric_types)];
    const groupBy = [...new Set(body.group_by ?? [])];
    const filters = normalizeFilters(body.filters ?? {});
    const query = {
      metric_types: metrics,
      start_date: formatTimestamp(range.start, range.timezone),
      end_date: formatTimestamp(range.end, range.timezone),
      granularity,
      timezone: range.timezone,
      filters,
      group_by: groupBy,
    };
    const base = { organizationId: caller.organizationId, ...range, granularity, filters, groupBy };
    return this.executor.run({
      organizationId: caller.organizationId,
      section: 'aggregations',
      metrics,
      range,
      query,
      fresh: body.use_cache === false || noCacheHeader,
      compute: async () => ({
        organization_id: caller.organizationId,
        query,
        results: await Promise.all(metrics.map((metric) => this.result({ ...base, metric }))),
        generated_at: formatTimestamp(this.clock.now(), range.timezone),
      }),
    });
  }

  private async result(query: ReportQuery & { groupBy: DimensionName[]; metric: MetricType }) {
    const { buckets, groups } = await this.analytics.report(query);
    const summary = summarizeSeries(query.metric, buckets, query.timezone);
    const breakdown = Object.fromEntries(
      query.groupBy.map((name) => [
        name,
        Object.fromEntries(
          Object.entries(groups[name] ?? {}).map(([value, facts]) => [value, aggregateValue(query.metric, facts)]),
        ),
      ]),
    );
    return {
      metric_type: query.metric,
      granularity: query.granularity,
      total_count: summary.total_count,
      sum_value: summary.sum_value,
      avg_value: summary.average_value,
      min_value: summary.min_value,
      max_value: summary.max_value,
      breakdown,
      time_series: summary.data_points,
    };
  }
}
