import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** One dependency's check (documentation only). */
export class HealthCheckDto {
  @ApiProperty({ type: String, enum: ['up', 'down'] })
  status: 'up' | 'down';

  @ApiPropertyOptional({ description: 'Why the check failed (down only), e.g. a timeout.' })
  message?: string;
}

/** The database's check, with the state of this instance's write pool when it is up. */
export class DatabaseCheckDto extends HealthCheckDto {
  @ApiPropertyOptional({
    type: String,
    enum: ['ready', 'busy'],
    description:
      'Up only. busy: every connection of the write pool is lent out and requests wait for one (e.g. writes ' +
      'held up by a lock); the database still answered on a connection of its own, so the check is up and the ' +
      'answer 200. Writes that wait too long answer 503 with Retry-After on their own.',
  })
  pool?: 'ready' | 'busy';

  @ApiPropertyOptional({ description: 'Busy only: connections open in the write pool.' })
  connections?: number;

  @ApiPropertyOptional({ description: 'Busy only: requests waiting for a connection.' })
  waiting?: number;
}

export class HealthChecksDto {
  @ApiProperty({ type: () => DatabaseCheckDto, description: 'PostgreSQL: required.' })
  database: DatabaseCheckDto;

  @ApiPropertyOptional({
    type: () => HealthCheckDto,
    description: 'Redis: without it the service runs on, uncached. Absent in embedded mode.',
  })
  redis?: HealthCheckDto;

  @ApiPropertyOptional({
    type: () => HealthCheckDto,
    description: 'Embedded mode only: the in-process cache (`store: in-process`), always up.',
  })
  cache?: HealthCheckDto;
}

/** The body of `GET /health`, whatever its status: terminus's result. */
export class HealthResponseDto {
  @ApiProperty({
    type: String,
    enum: ['ok', 'degraded', 'error', 'shutting_down'],
    description:
      'ok: all up; degraded: Redis down (still 200); error: the database down (503); ' +
      'shutting_down: this instance is draining after SIGTERM (503, route traffic elsewhere).',
  })
  status: 'ok' | 'degraded' | 'error' | 'shutting_down';

  @ApiProperty({ type: () => HealthChecksDto, description: 'Every check.' })
  details: HealthChecksDto;

  @ApiProperty({ type: Object, description: 'The checks that are up, keyed like `details`.' })
  info: Record<string, HealthCheckDto>;

  @ApiProperty({ type: Object, description: 'The checks that are down, keyed like `details`.' })
  error: Record<string, HealthCheckDto>;
}
