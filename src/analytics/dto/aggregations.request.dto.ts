import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn } from 'class-validator';
import { Optional } from '../../common/validation.js';
import { DIMENSION_NAMES, type DimensionName } from '../../metrics/dimensions.js';
import { IsFilters, type FiltersBody } from '../../metrics/dto/filters.body.js';
import { GRANULARITIES, type Granularity } from '../../metrics/granularity.js';
import { METRIC_TYPES, type MetricType } from '../../metrics/metric-registry.js';
import { RangeQueryDto } from './range.query.dto.js';

export class AggregationsRequestDto extends RangeQueryDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(METRIC_TYPES.length * 2)
  @IsIn(METRIC_TYPES, { each: true, message: `metric_types values must be among ${METRIC_TYPES.join(', ')}` })
  metric_types: MetricType[];

  @Optional()
  @IsIn(GRANULARITIES)
  granularity?: Granularity;

  @Optional()
  @IsFilters()
  filters?: FiltersBody;

  @Optional()
  @IsArray()
  @ArrayMaxSize(DIMENSION_NAMES.length * 2)
  @IsIn(DIMENSION_NAMES, { each: true, message: `group_by values must be dimensions: ${DIMENSION_NAMES.join(', ')}` })
  group_by?: DimensionName[];
}
