import { Module } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module.js';
import { Clock } from '../common/clock.js';
import { AggregationsService } from './aggregations.service.js';
import { AnalyticsController } from './analytics.controller.js';
import { AnalyticsRepository } from './analytics.repository.js';
import { CacheManagementController } from './cache-management.controller.js';
import { CacheManagementService } from './cache-management.service.js';
import { DashboardService } from './dashboard.service.js';
import { DistributionService } from './distribution.service.js';
import { PerformanceService } from './performance.service.js';
import { TimeSeriesController } from './time-series.controller.js';
import { TimeSeriesService } from './time-series.service.js';

@Module({
  imports: [CacheModule],
  controllers: [TimeSeriesController, AnalyticsController, CacheManagementController],
  providers: [
    Clock,
    AnalyticsRepository,
    TimeSeriesService,
    AggregationsService,
    DashboardService,
    PerformanceService,
    DistributionService,
    CacheManagementService,
  ],
  exports: [TimeSeriesService, DashboardService, AnalyticsRepository],
})
export class AnalyticsModule {}
