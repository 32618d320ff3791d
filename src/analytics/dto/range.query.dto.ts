import { IntersectionType } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsString, MaxLength } from 'class-validator';
import { Optional, IsTimestamp, QueryBoolean } from '../../common/validation.js';
import { PERIODS, type Period } from '../../common/time.js';
import { FiltersQueryDto } from '../../metrics/dto/filters.query.dto.js';

/** Range, zone and cache control of an analytics GET (dashboard and performance take only these). */
export class RangeQueryDto {
  @Optional()
  @IsTimestamp()
  start_date?: string;

  @Optional()
  @IsTimestamp()
  end_date?: string;

  @Optional()
  @IsIn(PERIODS)
  period?: Period;

  @Optional()
  @IsString()
  @MaxLength(64)
  timezone?: string;

  @Optional()
  @QueryBoolean()
  @IsBoolean({ message: 'use_cache must be true or false' })
  use_cache?: boolean;
}

/** The same, with filters (time-series, distribution). */
export class FilteredRangeQueryDto extends IntersectionType(RangeQueryDto, FiltersQueryDto) {}
