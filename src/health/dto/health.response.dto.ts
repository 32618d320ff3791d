import { ApiProperty } from '@nestjs/swagger';

/** One dependency's probe (documentation only). */
export class HealthCheckDto {
  @ApiProperty({ type: String, enum: ['up', 'down'] })
  status: 'up' | 'down';
}

export class HealthChecksDto {
  @ApiProperty({ type: () => HealthCheckDto, description: 'PostgreSQL: required.' })
  database: HealthCheckDto;

  @ApiProperty({ type: () => HealthCheckDto, description: 'Redis: without it the service runs on, uncached.' })
  redis: HealthCheckDto;
}

/** The body of `GET /health`, whatever its status. */
export class HealthResponseDto {
  @ApiProperty({
    type: String,
    enum: ['ok', 'degraded', 'error'],
    description: 'ok: all up; degraded: Redis down (still 200); error: the database down (503).',
  })
  status: 'ok' | 'degraded' | 'error';

  @ApiProperty({ type: () => HealthChecksDto })
  checks: HealthChecksDto;
}
