import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { Optional } from '../../common/validation.js';
import { GRANULARITIES, type Granularity } from '../../metrics/granularity.js';
import { FilteredRangeQueryDto } from './range.query.dto.js';

export class TimeSeriesQueryDto extends FilteredRangeQueryDto {
  @ApiPropertyOptional({
    type: String,
    enum: GRANULARITIES,
    default: 'daily',
    description: 'Bucket size. A series of more than 10,000 buckets is refused with 400.',
  })
  @Optional()
  @IsIn(GRANULARITIES)
  granularity?: Granularity;
}
