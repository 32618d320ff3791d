import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AnalyticsModule } from './analytics/analytics.module.js';
import { AuthModule } from './auth/auth.module.js';
import { CacheModule } from './cache/cache.module.js';
import { DeclaredInputInterceptor } from './common/declared-input.interceptor.js';
import { SafeInputInterceptor } from './common/safe-input.interceptor.js';
import { HttpExceptionFilter } from './common/http-exception.filter.js';
import { createValidationPipe } from './common/validation.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { ExportModule } from './export/export.module.js';
import { HealthModule } from './health/health.module.js';
import { LifecycleModule } from './lifecycle/lifecycle.module.js';
import { loggingParams } from './observability/logging.js';
import { ObservabilityModule } from './observability/observability.module.js';
import { RateLimitModule } from './rate-limit/rate-limit.module.js';
import { RealtimeModule } from './realtime/realtime.module.js';
import { RedisModule } from './redis/redis.module.js';
import { RollupsModule } from './rollups/rollups.module.js';
import { TicketsModule } from './tickets/tickets.module.js';

@Module({})
export class AppModule {
  /** `logDestination` replaces stdout for the request log (tests read it). */
  static forRoot(config: AppConfig, logDestination?: DestinationStream): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggingParams(config, logDestination)),
        EventEmitterModule.forRoot(),
        LifecycleModule,
        ObservabilityModule,
        DatabaseModule,
        RedisModule,
        // Before AuthModule: its guard runs first, so requests without a valid token are limited too.
        RateLimitModule,
        AuthModule,
        CacheModule,
        TicketsModule,
        RollupsModule,
        AnalyticsModule,
        ExportModule,
        HealthModule,
        RealtimeModule,
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        // Interceptors run after every guard: authentication answers before any input check.
        { provide: APP_INTERCEPTOR, useClass: DeclaredInputInterceptor },
        { provide: APP_INTERCEPTOR, useClass: SafeInputInterceptor },
      ],
    };
  }
}
