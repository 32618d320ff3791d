import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CacheModule } from '../cache/cache.module.js';
import { HealthController } from './health.controller.js';

@Module({ imports: [CacheModule, TerminusModule.forRoot({ logger: false })], controllers: [HealthController] })
export class HealthModule {}
