import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/auth.types.js';
import { CachedExecutor, type CachedResult } from '../cache/cached-executor.service.js';
import { Clock } from '../common/clock.js';
import { formatTimestamp } from '../common/time.js';
import { AppConfig } from '../config/app-config.js';
import { AnalyticsRepository } from './analytics.repository.js';
import { resolveRange, type ResolvedRange } from './analytics-query.js';
import type { RangeQueryDto } from './dto/range.query.dto.js';

const PERCENTILES = [0.5, 0.95, 0.99] as const;

/** Percentiles of response and resolution hours, and first-response SLA compliance (4.4). */
@Injectable()
export class PerformanceService {
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
    return this.executor.run({
      organizationId: caller.organizationId,
      section: 'performance',
      metrics: ['response_time', 'resolution_time'],
      range,
      // The targets are part of the key: a deployment that changes them never serves the old rate.
      query: { ...range, sla_targets_hours: this.targets },
      fresh: dto.use_cache === false || noCacheHeader,
      prepaid,
      compute: () => this.compute(caller.organizationId, range),
    });
  }

  private async compute(organizationId: number, range: ResolvedRange) {
    const base = { organizationId, ...range, filters: {} };
    const [responses, resolutions] = await Promise.all([
      this.analytics.percentiles({ ...base, metric: 'response_time' }, PERCENTILES, this.targets),
      this.analytics.percentiles({ ...base, metric: 'resolution_time' }, PERCENTILES),
    ]);
    const [r50, r95, r99] = responses.percentiles ?? [null, null, null];
    const [s50, s95, s99] = resolutions.percentiles ?? [null, null, null];
    return {
      start_date: formatTimestamp(range.start, range.timezone),
      end_date: formatTimestamp(range.end, range.timezone),
      timezone: range.timezone,
      response_time_p50: r50,
      response_time_p95: r95,
      response_time_p99: r99,
      resolution_time_p50: s50,
      resolution_time_p95: s95,
      resolution_time_p99: s99,
      sla_compliance_rate: responses.count > 0 ? (responses.within_target ?? null) : null,
      sla_targets_hours: this.targets,
    };
  }
}
