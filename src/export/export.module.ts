import { Module } from '@nestjs/common';
import { AnalyticsModule } from '../analytics/analytics.module.js';
import { Clock } from '../common/clock.js';
import { ExportController } from './export.controller.js';
import { ExportRepository } from './export.repository.js';
import { ExportService } from './export.service.js';
import { ExportSlots } from './export-slots.js';

@Module({
  imports: [AnalyticsModule],
  controllers: [ExportController],
  providers: [Clock, ExportRepository, ExportService, ExportSlots],
})
export class ExportModule {}
