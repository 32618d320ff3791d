import { Injectable, Logger } from '@nestjs/common';
import type { Principal } from '../auth/auth.types.js';
import { CacheInvalidator } from '../cache/cache-invalidator.service.js';
import { scopeOfPattern } from '../cache/cache-scopes.js';
import { cacheStats } from '../cache/cache-stats.js';
import { CacheStore } from '../cache/cache-store.js';
import { DomainError } from '../common/errors.js';
import { METRIC_TYPES } from '../metrics/metric-registry.js';
import { ForcedRecomputes } from '../rate-limit/forced-recomputes.js';
import { DashboardService } from './dashboard.service.js';
import { PerformanceService } from './performance.service.js';
import { TimeSeriesService } from './time-series.service.js';

@Injectable()
export class CacheManagementService {
  private readonly logger = new Logger('CacheManagement');

  constructor(
    private readonly invalidator: CacheInvalidator,
    private readonly store: CacheStore,
    private readonly timeSeries: TimeSeriesService,
    private readonly dashboard: DashboardService,
    private readonly performance: PerformanceService,
    private readonly forced: ForcedRecomputes,
  ) {}

  async invalidate(caller: Principal, pattern: string | undefined) {
    const { pattern: name, scope } = scopeOfPattern(pattern);
    await this.invalidator.invalidate(caller.organizationId, [scope]);
    return { message: 'Cache invalidated successfully', organization_id: caller.organizationId, pattern: name };
  }

  /**
   * Recomputes the organization's common results in the background (the
   * request does not wait): dashboard and performance over 24h, 7d and 30d,
   * and the daily series of every metric over 30d, all in UTC. The whole
   * refresh is one forced recompute of the organization's budget.
   */
  async refresh(caller: Principal) {
    await this.forced.charge(caller.organizationId);
    const periods = ['24h', '7d', '30d'] as const;
    const work = [
      ...periods.flatMap((period) => [
        this.dashboard.find(caller, { period, timezone: 'UTC' }, true, true),
        this.performance.find(caller, { period, timezone: 'UTC' }, true, true),
      ]),
      ...METRIC_TYPES.map((metric) =>
        this.timeSeries.find(caller, metric, { period: '30d', granularity: 'daily', timezone: 'UTC' }, true, true),
      ),
    ];
    void Promise.allSettled(work).then((results) => {
      const failed = results.filter((r) => r.status === 'rejected').length;
      if (failed > 0)
        this.logger.warn(
          `cache refresh for organization ${caller.organizationId}: ${failed} of ${results.length} failed`,
        );
    });
    return { message: 'Cache refresh initiated in background', organization_id: caller.organizationId };
  }

  async stats(caller: Principal) {
    const { hits, misses, entries } = await cacheStats(this.store, caller.organizationId).catch(() => {
      throw new DomainError('SERVICE_UNAVAILABLE', 'the cache is unreachable; try again shortly', {}, 5);
    });
    const total = hits + misses;
    return { organization_id: caller.organizationId, hits, misses, hit_ratio: total === 0 ? 0 : hits / total, entries };
  }
}
