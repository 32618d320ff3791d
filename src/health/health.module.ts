import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CacheModule } from '../cache/cache.module.js';
import { DatabaseIndicator } from './database.indicator.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [CacheModule, TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [DatabaseIndicator],
})
export class HealthModule {}
