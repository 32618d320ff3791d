import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/auth.types.js';
import { CachedExecutor, type CachedResult } from '../cache/cached-executor.service.js';
import { Clock } from '../common/clock.js';
import { invalid } from '../common/errors.js';
import { formatTimestamp } from '../common/time.js';
import { DIMENSION_NAMES, isDimensionName } from '../metrics/dimensions.js';
import { normalizeFilters } from '../metrics/filters.js';
import { AnalyticsRepository } from './analytics.repository.js';
import { resolveRange } from './analytics-query.js';
import type { FilteredRangeQueryDto } from './dto/range.query.dto.js';

/** Tickets created in range, counted by one dimension (4.5). */
@Injectable()
export class DistributionService {
  constructor(
    private readonly executor: CachedExecutor,
    private readonly analytics: AnalyticsRepository,
    private readonly clock: Clock,
  ) {}

  find(caller: Principal, field: string, dto: FilteredRangeQueryDto, noCacheHeader: boolean): Promise<CachedResult> {
    if (!isDimensionName(field)) throw invalid(`field must be one of ${DIMENSION_NAMES.join(', ')}`);
    const range = resolveRange(dto, this.clock.now());
    const filters = normalizeFilters(dto);
    return this.executor.run({
      organizationId: caller.organizationId,
      section: 'distribution',
      metrics: ['ticket_count'],
      range,
      query: { field, ...range, filters },
      fresh: dto.use_cache === false || noCacheHeader,
      compute: async () => {
        const { groups } = await this.analytics.report({
          organizationId: caller.organizationId,
          metric: 'ticket_count',
          ...range,
          filters,
          granularity: null,
          groupBy: [field],
        });
        const distribution = Object.fromEntries(
          Object.entries(groups[field] ?? {}).map(([value, { count }]) => [value, count]),
        );
        return {
          field,
          distribution,
          total: Object.values(distribution).reduce((n, c) => n + c, 0),
          period: {
            start: formatTimestamp(range.start, range.timezone),
            end: formatTimestamp(range.end, range.timezone),
          },
        };
      },
    });
  }
}
