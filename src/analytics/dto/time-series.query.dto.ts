import { IsIn } from 'class-validator';
import { Optional } from '../../common/validation.js';
import { GRANULARITIES, type Granularity } from '../../metrics/granularity.js';
import { FilteredRangeQueryDto } from './range.query.dto.js';

export class TimeSeriesQueryDto extends FilteredRangeQueryDto {
  @Optional()
  @IsIn(GRANULARITIES)
  granularity?: Granularity;
}
