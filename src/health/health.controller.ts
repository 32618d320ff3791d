import { Controller, Get, Inject, Optional, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../auth/auth.decorators.js';
import { RedisHealth } from '../redis/redis-health.js';
import { DatabaseIndicator } from './database.indicator.js';
import { HealthResponseDto } from './dto/health.response.dto.js';

const CHECK_TIMEOUT_MS = 1000;

/**
 * Health of the service and its dependencies, checked by terminus. The
 * database is required; Redis only degrades (the service runs on uncached),
 * so a Redis that is down is reported down but the answer stays 200.
 */
@ApiTags('operations')
@SkipThrottle()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseIndicator,
    private readonly indicators: HealthIndicatorService,
    @Optional() @Inject(RedisHealth) private readonly redis: RedisHealth | null,
  ) {}

  @Public()
  @Get()
  @ApiOperation({
    operationId: 'getHealth',
    summary: 'Health of the service and its dependencies',
    description:
      'Public: no token. `details` names every check; `error` those that are down. Redis down gives `degraded` ' +
      'with 200; the database unreachable, or the instance shutting down, gives 503. A database whose connection ' +
      'pool is busy (every connection lent out, requests waiting) is up, with `pool: busy`: still 200.',
    security: [],
  })
  @ApiOkResponse({ type: HealthResponseDto, description: 'The database is up (Redis may be down: degraded).' })
  @ApiServiceUnavailableResponse({
    type: HealthResponseDto,
    description: 'The database is unreachable, or this instance is shutting down.',
  })
  async check(): Promise<Response> {
    const result = await this.run();
    const databaseUp = result.details.database?.status === 'up';
    if (result.status === 'error' && databaseUp) {
      // Terminus fails the whole check on any indicator that is down; Redis is optional here.
      return Response.json({ ...result, status: 'degraded' }, { status: 200 });
    }
    const serving = result.status === 'ok' || result.status === 'degraded';
    return Response.json(result, { status: serving ? 200 : 503 });
  }

  /** Redis; in embedded mode the cache is in the process and has nothing to check. */
  private cacheCheck() {
    const redis = this.redis;
    if (!redis) return this.indicators.check('cache').up({ store: 'in-process' });
    return this.indicators
      .check('redis')
      .attempt(async () => {
        await redis.client.ping();
        return { state: redis.state };
      })
      .withTimeout(CHECK_TIMEOUT_MS);
  }

  /** The terminus result whatever its status (terminus throws it as a 503 exception when not ok). */
  private async run(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.database.check(CHECK_TIMEOUT_MS), () => this.cacheCheck()]);
    } catch (error) {
      if (error instanceof ServiceUnavailableException) return error.getResponse() as HealthCheckResult;
      throw error;
    }
  }
}
