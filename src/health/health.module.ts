import { Module } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module.js';
import { HealthController } from './health.controller.js';

@Module({ imports: [CacheModule], controllers: [HealthController] })
export class HealthModule {}
