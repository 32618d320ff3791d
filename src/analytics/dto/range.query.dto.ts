import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsString, MaxLength } from 'class-validator';
import { Optional, IsTimestamp, QueryBoolean } from '../../common/validation.js';
import { PERIODS, type Period } from '../../common/time.js';
import { FiltersQueryDto } from '../../metrics/dto/filters.query.dto.js';

const BOUND =
  'ISO 8601. Without an offset it is read in `timezone`; a date alone means local midnight there. ' +
  'Give start_date and end_date together, or period instead.';

/** Range, zone and cache control of an analytics GET (dashboard and performance take only these). */
export class RangeQueryDto {
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    example: '2025-01-01T00:00:00Z',
    description: `Start of the range, included. ${BOUND}`,
  })
  @Optional()
  @IsTimestamp()
  start_date?: string;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    example: '2025-02-01T00:00:00Z',
    description: `End of the range, excluded; after start_date. ${BOUND}`,
  })
  @Optional()
  @IsTimestamp()
  end_date?: string;

  @ApiPropertyOptional({
    type: String,
    enum: PERIODS,
    description:
      'The range [now - period, now), now rounded up to the next whole minute. Not together with start_date/end_date.',
  })
  @Optional()
  @IsIn(PERIODS)
  period?: Period;

  @ApiPropertyOptional({
    type: String,
    maxLength: 64,
    default: 'UTC',
    example: 'Europe/Berlin',
    description: 'IANA time zone: local dates, bucket boundaries and the offsets of returned timestamps.',
  })
  @Optional()
  @IsString()
  @MaxLength(64)
  timezone?: string;

  @ApiPropertyOptional({
    type: Boolean,
    default: true,
    description: 'false computes from the database (and refreshes the cache) instead of serving a cached copy.',
  })
  @Optional()
  @QueryBoolean()
  @IsBoolean({ message: 'use_cache must be true or false' })
  use_cache?: boolean;
}

/** The same, with filters (time-series, distribution). */
export class FilteredRangeQueryDto extends IntersectionType(RangeQueryDto, FiltersQueryDto) {}
