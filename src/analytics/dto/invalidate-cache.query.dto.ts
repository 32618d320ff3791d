import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { CACHE_SECTIONS } from '../../cache/cache-scopes.js';
import { Optional } from '../../common/validation.js';
import { METRIC_TYPES } from '../../metrics/metric-registry.js';

export class InvalidateCacheQueryDto {
  @ApiPropertyOptional({
    type: String,
    enum: ['all', ...CACHE_SECTIONS, ...METRIC_TYPES],
    default: 'all',
    description:
      "What to invalidate: all of the caller's organization, one section, or every result computed from a metric " +
      '(the dashboard uses all four, performance response_time and resolution_time, distributions ticket_count).',
  })
  @Optional()
  @IsString()
  @MaxLength(64)
  pattern?: string;
}
