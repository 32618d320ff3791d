import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { Public } from '../auth/auth.decorators.js';
import { CACHE_REDIS } from '../cache/redis-cache-store.js';
import { HealthResponseDto } from './dto/health.response.dto.js';

const CHECK_TIMEOUT_MS = 1000;

/** Liveness of the service and its dependencies: the database is required, Redis only degrades. */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CACHE_REDIS) private readonly redis: Redis,
  ) {}

  @Public()
  @Get()
  @ApiOperation({
    operationId: 'getHealth',
    summary: 'Health of the service and its dependencies',
    description: 'Public: no token.',
    security: [],
  })
  @ApiOkResponse({ type: HealthResponseDto, description: 'The database is up (Redis may be down: degraded).' })
  @ApiServiceUnavailableResponse({ type: HealthResponseDto, description: 'The database is unreachable.' })
  async check(): Promise<Response> {
    const [database, cache] = await Promise.all([
      probe(() => this.db.query('SELECT 1')),
      probe(() => this.redis.ping()),
    ]);
    const status = database === 'up' ? (cache === 'up' ? 'ok' : 'degraded') : 'error';
    const body = { status, checks: { database: { status: database }, redis: { status: cache } } };
    return Response.json(body, { status: database === 'up' ? 200 : 503 });
  }
}

async function probe(check: () => Promise<unknown>): Promise<'up' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'up';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}
