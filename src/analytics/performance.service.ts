import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/auth.types.js';
import { CachedExecutor, type CachedResult } from '../cache/cached-executor.service.js';
import { Clock } from '../common/clock.js';
import { formatTimestamp } from '../common/time.js';
import { AppConfig } from '../config/app-config.js';
import { sketchPercentiles } from '../metrics/sketch.js';
import type { SketchReportRow } from '../metrics/sketch-report.compiler.js';
import { AnalyticsRepository } from './analytics.repository.js';
import { resolveRange, type ResolvedRange } from './analytics-query.js';
import type { Accuracy, PerformanceQueryDto } from './dto/performance.query.dto.js';

const PERCENTILES = [0.5, 0.95, 0.99] as const;

interface Figures {
  readonly response: readonly (number | null)[];
  readonly resolution: readonly (number | null)[];
  readonly slaComplianceRate: number | null;
}

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

  find(caller: Principal, dto: PerformanceQueryDto, noCacheHeader: boolean, prepaid = false): Promise<CachedResult> {
    const range = resolveRange(dto, this.clock.now(), '30d');
    const accuracy = dto.accuracy ?? 'exact';
    return this.executor.run({
      organizationId: caller.organizationId,
      section: 'performance',
      metrics: ['response_time', 'resolution_time'],
      range,
      // The targets are part of the key: a deployment that changes them never serves the old rate.
      query: { ...range, accuracy, sla_targets_hours: this.targets },
      fresh: dto.use_cache === false || noCacheHeader,
      prepaid,
      compute: () => this.compute(caller.organizationId, range, accuracy),
    });
  }

  private async compute(organizationId: number, range: ResolvedRange, accuracy: Accuracy) {
    const figures =
      accuracy === 'exact' ? await this.exact(organizationId, range) : await this.approximate(organizationId, range);
    const [r50, r95, r99] = figures.response;
    const [s50, s95, s99] = figures.resolution;
    return {
      start_date: formatTimestamp(range.start, range.timezone),
      end_date: formatTimestamp(range.end, range.timezone),
      timezone: range.timezone,
      accuracy,
      response_time_p50: r50,
      response_time_p95: r95,
      response_time_p99: r99,
      resolution_time_p50: s50,
      resolution_time_p95: s95,
      resolution_time_p99: s99,
      sla_compliance_rate: figures.slaComplianceRate,
      sla_targets_hours: this.targets,
    };
  }

  /** percentile_cont over the raw rows; the compliance rate from the same scan. */
  private async exact(organizationId: number, range: ResolvedRange): Promise<Figures> {
    const base = { organizationId, ...range, filters: {} };
    const [responses, resolutions] = await Promise.all([
      this.analytics.percentiles({ ...base, metric: 'response_time' }, PERCENTILES, this.targets),
      this.analytics.percentiles({ ...base, metric: 'resolution_time' }, PERCENTILES),
    ]);
    return {
      response: responses.percentiles ?? [null, null, null],
      resolution: resolutions.percentiles ?? [null, null, null],
      slaComplianceRate: responses.count > 0 ? (responses.within_target ?? null) : null,
    };
  }

  /**
   * From the sketches: the percentiles within 1%, the compliance rate exactly
   * from the within-target counts, or from the raw rows while the stored
   * counts were made with other targets than the configured ones.
   */
  private async approximate(organizationId: number, range: ResolvedRange): Promise<Figures> {
    const rows = await this.analytics.sketches({ organizationId, ...range }, this.targets);
    const of = (metric: SketchReportRow['metric']) => rows.filter((r) => r.metric === metric);
    const responses = of('response_time');
    const answered = responses.reduce((n, r) => n + r.count, 0);
    let slaComplianceRate = answered > 0 ? responses.reduce((n, r) => n + r.within_target, 0) / answered : null;
    if (rows.some((r) => !r.targets_match)) {
      const raw = await this.analytics.percentiles(
        { organizationId, ...range, filters: {}, metric: 'response_time' },
        [],
        this.targets,
      );
      slaComplianceRate = raw.count > 0 ? (raw.within_target ?? null) : null;
    }
    return {
      response: sketchPercentiles(responses, PERCENTILES) ?? [null, null, null],
      resolution: sketchPercentiles(of('resolution_time'), PERCENTILES) ?? [null, null, null],
      slaComplianceRate,
    };
  }
}
