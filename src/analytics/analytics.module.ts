import { Module } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module.js';
import { Clock } from '../common/clock.js';
import { AnalyticsRepository } from './analytics.repository.js';
import { CacheManagementController } from './cache-management.controller.js';
import { CacheManagementService } from './cache-management.service.js';
import { TimeSeriesController } from './time-series.controller.js';
import { TimeSeriesService } from './time-series.service.js';

@Module({
  imports: [CacheModule],
  controllers: [TimeSeriesController, CacheManagementController],
  providers: [Clock, AnalyticsRepository, TimeSeriesService, CacheManagementService],
})
export class AnalyticsModule {}
