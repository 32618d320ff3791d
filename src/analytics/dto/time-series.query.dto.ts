import { IsIn } from 'class-validator';
import { Optional } from '../../common/validation.js';
import { GRANULARITIES, type Granularity } from '../../metrics/granularity.js';
import { RangeQueryDto } from './range.query.dto.js';

export class TimeSeriesQueryDto extends RangeQueryDto {
  @Optional()
  @IsIn(GRANULARITIES)
  granularity?: Granularity;
}
