import { Inject, Module, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { Clock } from '../common/clock.js';
import { AppConfig } from '../config/app-config.js';
import { createRedisClient } from '../redis/redis-client.js';
import { CacheInvalidator } from './cache-invalidator.service.js';
import { CacheKeys } from './cache-keys.js';
import { CacheStore } from './cache-store.js';
import { CachedExecutor } from './cached-executor.service.js';
import { CachedResponseInterceptor } from './cached-response.interceptor.js';
import { InvalidationOutbox } from './invalidation-outbox.repository.js';
import { InvalidationListener } from './invalidation.listener.js';
import { MemoryCacheStore } from './memory-cache-store.js';
import { CACHE_REDIS, RedisCacheStore } from './redis-cache-store.js';

/**
 * The cached executor on its store: Redis, or in embedded mode the process's
 * memory (one process only). Everything above the store is the same.
 */
@Module({
  providers: [
    {
      provide: CACHE_REDIS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => (config.embedded ? null : createRedisClient(config, 'pulse-cache')),
    },
    {
      provide: CacheKeys,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new CacheKeys(config.redisKeyPrefix),
    },
    Clock,
    {
      provide: CacheStore,
      inject: [CACHE_REDIS, CacheKeys, InvalidationOutbox, Clock],
      useFactory: (redis: Redis | null, keys: CacheKeys, outbox: InvalidationOutbox, clock: Clock) =>
        redis ? new RedisCacheStore(redis, keys, outbox) : new MemoryCacheStore(clock),
    },
    InvalidationOutbox,
    CacheInvalidator,
    CachedExecutor,
    InvalidationListener,
    { provide: APP_INTERCEPTOR, useClass: CachedResponseInterceptor },
  ],
  exports: [CachedExecutor, CacheInvalidator, CacheStore, CACHE_REDIS],
})
export class CacheModule implements OnApplicationShutdown {
  constructor(@Optional() @Inject(CACHE_REDIS) private readonly redis: Redis | null) {}

  onApplicationShutdown(): void {
    this.redis?.disconnect();
  }
}
