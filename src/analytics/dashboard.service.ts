import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/auth.types.js';
import { CachedExecutor, type CachedResult } from '../cache/cached-executor.service.js';
import { Expiring } from '../cache/expiring.js';
import { Clock } from '../common/clock.js';
import { AppConfig } from '../config/app-config.js';
import { formatTimestamp } from '../common/time.js';
import { CLOSED_STATUSES, OPEN_STATUSES } from '../metrics/dimensions.js';
import { METRIC_TYPES } from '../metrics/metric-registry.js';
import { summarizeSeries } from '../metrics/series.js';
import { AnalyticsRepository, type GroupFacts } from './analytics.repository.js';
import { assertBucketLimit, resolveRange, type ResolvedRange } from './analytics-query.js';
import type { RangeQueryDto } from './dto/range.query.dto.js';
import { queueCutoffs, slaQueue } from './sla-queue.js';

const counts = (groups: Record<string, GroupFacts> = {}) =>
  Object.fromEntries(Object.entries(groups).map(([value, { count }]) => [value, count]));

/**
 * The dashboard of 4.3. It reads all four metrics over the range, and its
 * current_backlog and queue read the organization's tickets as they are now,
 * whatever their timestamps: the section's `current` generation covers those
 * (see src/cache/README.md). The queue also changes with the clock alone, so
 * a dashboard is stored only until its queue would change.
 */
@Injectable()
export class DashboardService {
  private readonly targets: AppConfig['slaFirstResponseHours'];

  constructor(
    private readonly executor: CachedExecutor,
    private readonly analytics: AnalyticsRepository,
    private readonly clock: Clock,
    config: AppConfig,
  ) {
    const t = config.slaFirstResponseHours;
    this.targets = { urgent: t.urgent, high: t.high, medium: t.medium, low: t.low };
  }

  find(caller: Principal, dto: RangeQueryDto, noCacheHeader: boolean, prepaid = false): Promise<CachedResult> {
    const range = resolveRange(dto, this.clock.now(), '30d');
    assertBucketLimit(range, 'daily');
    return this.cached(caller.organizationId, range, dto.use_cache === false || noCacheHeader, prepaid);
  }

  /** The dashboard through the cached executor; REST and the socket's snapshots share its entries. */
  cached(organizationId: number, range: ResolvedRange, fresh: boolean, prepaid = false): Promise<CachedResult> {
    return this.executor.run({
      organizationId,
      section: 'dashboard',
      metrics: METRIC_TYPES,
      range,
      // The targets are part of the key: a deployment that changes them never serves the old queue.
      query: { ...range, sla_targets_hours: this.targets },
      fresh,
      prepaid,
      compute: () => this.compute(organizationId, range),
    });
  }

  /**
   * The figures of one snapshot, with the queue counted at one `now` (the
   * service's clock, as the tickets' default created_at and the cache's
   * expiry): the answer expires when its queue would change.
   */
  private async compute(organizationId: number, range: ResolvedRange): Promise<Expiring> {
    const now = this.clock.now();
    const base = { organizationId, ...range, filters: {} };
    // One snapshot for all six reads: figures that must agree (the total and
    // its breakdowns, the backlog and the queue) are never taken from different states.
    const { tickets, responses, resolutions, sentiment, backlog, waiting } = await this.analytics.snapshot(
      async (reader) => ({
        tickets: await reader.report({
          ...base,
          metric: 'ticket_count',
          granularity: 'daily',
          groupBy: ['status', 'category', 'channel', 'priority'],
        }),
        responses: await reader.report({ ...base, metric: 'response_time', granularity: 'daily', groupBy: [] }),
        resolutions: await reader.report({ ...base, metric: 'resolution_time', granularity: 'daily', groupBy: [] }),
        sentiment: await reader.report({
          ...base,
          metric: 'sentiment_score',
          granularity: null,
          groupBy: ['sentiment_band'],
        }),
        backlog: await reader.backlog(organizationId),
        waiting: await reader.queue(organizationId, queueCutoffs(now, this.targets)),
      }),
    );
    const { queue, asOf, changesAt } = slaQueue(waiting, now, this.targets);
    const byStatus = counts(tickets.groups.status);
    const sumOf = (statuses: readonly string[]) => statuses.reduce((n, s) => n + (byStatus[s] ?? 0), 0);
    const trend = {
      ticket_count: summarizeSeries('ticket_count', tickets.buckets, range.timezone),
      response_time: summarizeSeries('response_time', responses.buckets, range.timezone),
      resolution_time: summarizeSeries('resolution_time', resolutions.buckets, range.timezone),
    };
    const bands = counts(sentiment.groups.sentiment_band);
    const body = {
      start_date: formatTimestamp(range.start, range.timezone),
      end_date: formatTimestamp(range.end, range.timezone),
      timezone: range.timezone,
      total_tickets: trend.ticket_count.total_count,
      open_tickets: sumOf(OPEN_STATUSES),
      resolved_tickets: sumOf(CLOSED_STATUSES),
      current_backlog: backlog,
      avg_response_time_hours: trend.response_time.average_value,
      avg_resolution_time_hours: trend.resolution_time.average_value,
      sentiment_breakdown: {
        positive: bands.positive ?? 0,
        neutral: bands.neutral ?? 0,
        negative: bands.negative ?? 0,
      },
      category_breakdown: counts(tickets.groups.category),
      channel_breakdown: counts(tickets.groups.channel),
      priority_breakdown: counts(tickets.groups.priority),
      trend_data: {
        ticket_count: trend.ticket_count.data_points,
        response_time: trend.response_time.data_points,
        resolution_time: trend.resolution_time.data_points,
      },
      queue: { as_of: formatTimestamp(asOf, range.timezone), ...queue },
    };
    return new Expiring(body, changesAt);
  }
}
