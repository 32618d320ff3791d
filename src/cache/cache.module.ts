import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AuthModule } from '../auth/auth.module.js';
import { Clock } from '../common/clock.js';
import { AppConfig } from '../config/app-config.js';
import { RedisHealth } from '../redis/redis-health.js';
import { CacheInvalidator } from './cache-invalidator.service.js';
import { CacheKeys } from './cache-keys.js';
import { CacheStore } from './cache-store.js';
import { CachedExecutor } from './cached-executor.service.js';
import { CachedReads } from './cached-reads.js';
import { CachedResponseInterceptor } from './cached-response.interceptor.js';
import { InvalidationOutbox } from './invalidation-outbox.repository.js';
import { InvalidationListener } from './invalidation.listener.js';
import { MemoryCacheStore } from './memory-cache-store.js';
import { RedisCacheStore } from './redis-cache-store.js';

/**
 * The cached executor on its store: Redis, or in embedded mode the process's
 * memory (one process only). Everything above the store is the same.
 */
@Module({
  imports: [AuthModule],
  providers: [
    {
      provide: CacheKeys,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new CacheKeys(config.redisKeyPrefix),
    },
    Clock,
    {
      provide: CacheStore,
      inject: [{ token: RedisHealth, optional: true }, CacheKeys, Clock],
      useFactory: (redis: RedisHealth | null, keys: CacheKeys, clock: Clock) =>
        redis ? new RedisCacheStore(redis, keys) : new MemoryCacheStore(clock),
    },
    InvalidationOutbox,
    CacheInvalidator,
    CachedExecutor,
    CachedReads,
    InvalidationListener,
    { provide: APP_INTERCEPTOR, useClass: CachedResponseInterceptor },
  ],
  exports: [CachedExecutor, CacheInvalidator, CacheStore, CachedReads],
})
export class CacheModule {}
