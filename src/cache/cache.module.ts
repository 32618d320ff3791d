import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config.js';
import { createRedisClient } from '../redis/redis-client.js';
import { CacheInvalidator } from './cache-invalidator.service.js';
import { CacheKeys } from './cache-keys.js';
import { CacheStore } from './cache-store.js';
import { CachedExecutor } from './cached-executor.service.js';
import { CachedResponseInterceptor } from './cached-response.interceptor.js';
import { InvalidationOutbox } from './invalidation-outbox.repository.js';
import { InvalidationListener } from './invalidation.listener.js';
import { CACHE_REDIS, RedisCacheStore } from './redis-cache-store.js';

@Module({
  providers: [
    {
      provide: CACHE_REDIS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => createRedisClient(config, 'pulse-cache'),
    },
    {
      provide: CacheKeys,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new CacheKeys(config.redisKeyPrefix),
    },
    { provide: CacheStore, useClass: RedisCacheStore },
    InvalidationOutbox,
    CacheInvalidator,
    CachedExecutor,
    InvalidationListener,
    { provide: APP_INTERCEPTOR, useClass: CachedResponseInterceptor },
  ],
  exports: [CachedExecutor, CacheInvalidator, CacheStore, CACHE_REDIS],
})
export class CacheModule implements OnApplicationShutdown {
  constructor(@Inject(CACHE_REDIS) private readonly redis: Redis) {}

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}
