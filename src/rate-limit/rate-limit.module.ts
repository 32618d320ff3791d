import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule, type ThrottlerOptions } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { CacheModule } from '../cache/cache.module.js';
import { CacheStore } from '../cache/cache-store.js';
import { CACHE_REDIS } from '../cache/redis-cache-store.js';
import { AppConfig } from '../config/app-config.js';
import { FailOpenThrottlerStorage } from './fail-open-storage.js';
import { isExport, isForcedRecompute } from './rate-limit.decorators.js';
import { RateLimitGuard } from './rate-limit.guard.js';

/** The caller: the token's organization and subject, or the client address before authentication. */
function caller(req: Record<string, unknown>): string {
  const request = req as unknown as FastifyRequest;
  const principal = request.principal;
  return principal ? `org:${principal.organizationId}:sub:${principal.subject}` : `ip:${request.ip}`;
}

function organization(req: Record<string, unknown>): string {
  const request = req as unknown as FastifyRequest;
  return request.principal ? `org:${request.principal.organizationId}` : `ip:${request.ip}`;
}

/**
 * Three limits in one Redis, so they hold across instances: every request of
 * a caller; forced recomputes of an organization (the expensive path, admins
 * included); exports of an organization. Counters are fixed windows that the
 * whole fleet shares through one atomic script per request.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [CacheModule],
      inject: [AppConfig, CACHE_REDIS, CacheStore],
      useFactory: (config: AppConfig, redis: Redis | null, cache: CacheStore) => {
        const ttl = config.rateLimitWindowSeconds * 1000;
        const prefix = `${config.redisKeyPrefix}:rl`;
        const throttlers: ThrottlerOptions[] = [
          { name: 'default', ttl, limit: config.rateLimitRequests, getTracker: caller },
          {
            name: 'forced',
            ttl,
            limit: config.rateLimitForced,
            getTracker: organization,
            skipIf: (context) => !isForcedRecompute(context),
            setHeaders: false,
          },
          {
            name: 'exports',
            ttl,
            limit: config.rateLimitExports,
            getTracker: organization,
            skipIf: (context) => !isExport(context),
            setHeaders: false,
          },
        ];
        return {
          throttlers,
          // One counter per limit and tracker, whatever the route.
          generateKey: (_context, tracker, name) => `${prefix}:${name}:${tracker}`,
          // The limits share the cache's Redis client, and its view of whether Redis answers;
          // in embedded mode (one process) the throttler's own in-memory storage counts.
          ...(redis
            ? {
                storage: new FailOpenThrottlerStorage(
                  new ThrottlerStorageRedisService(redis),
                  () => cache.isReady(),
                  () => cache.suspect(),
                ),
              }
            : {}),
        };
      },
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
})
export class RateLimitModule {}
