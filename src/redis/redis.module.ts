import {
  Global,
  Inject,
  Logger,
  Module,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { createRedisClient } from './redis-client.js';
import { RedisHealth } from './redis-health.js';

/** How long boot waits for Redis before serving without it. */
const BOOT_WAIT_MS = 2000;

/**
 * The shared Redis connection and its health, for the cache, the rate limits
 * and /health. In embedded mode there is no Redis: the provider is null and
 * its users keep their state in the process.
 */
@Global()
@Module({
  providers: [
    {
      provide: RedisHealth,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        config.embedded
          ? null
          : new RedisHealth(createRedisClient(config, 'pulse'), {
              commandTimeoutMs: config.redisCommandTimeoutMs,
              probeTimeoutMs: Math.max(500, 2 * config.redisCommandTimeoutMs),
            }),
    },
  ],
  exports: [RedisHealth],
})
export class RedisModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Optional() @Inject(RedisHealth) private readonly redis: RedisHealth | null) {}

  /** Serving starts with Redis when it answers soon; without it (degraded) otherwise. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.redis && !(await this.redis.waitUntilAvailable(BOOT_WAIT_MS))) {
      new Logger('Redis').warn('Redis is not reachable: serving without it until it is');
    }
  }

  onApplicationShutdown(): void {
    this.redis?.client.disconnect();
  }
}
