import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn } from 'class-validator';
import { Optional } from '../../common/validation.js';
import { DIMENSION_NAMES, type DimensionName } from '../../metrics/dimensions.js';
import { FiltersBodySchema, IsFilters, type FiltersBody } from '../../metrics/dto/filters.body.js';
import { GRANULARITIES, type Granularity } from '../../metrics/granularity.js';
import { METRIC_TYPES, type MetricType } from '../../metrics/metric-registry.js';
import { RangeQueryDto } from './range.query.dto.js';

export class AggregationsRequestDto extends RangeQueryDto {
  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...METRIC_TYPES] },
    minItems: 1,
    maxItems: METRIC_TYPES.length * 2,
    description: 'The metrics to compute; one result each, duplicates ignored.',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(METRIC_TYPES.length * 2)
  @IsIn(METRIC_TYPES, { each: true, message: `metric_types values must be among ${METRIC_TYPES.join(', ')}` })
  metric_types: MetricType[];

  @ApiPropertyOptional({
    type: String,
    enum: GRANULARITIES,
    default: 'daily',
    description: 'Bucket size of each time_series. A series of more than 10,000 buckets is refused with 400.',
  })
  @Optional()
  @IsIn(GRANULARITIES)
  granularity?: Granularity;

  @ApiPropertyOptional({ type: () => FiltersBodySchema })
  @Optional()
  @IsFilters()
  filters?: FiltersBody;

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', enum: [...DIMENSION_NAMES] },
    maxItems: DIMENSION_NAMES.length * 2,
    description: 'Dimensions to break each metric down by over the whole range.',
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(DIMENSION_NAMES.length * 2)
  @IsIn(DIMENSION_NAMES, { each: true, message: `group_by values must be dimensions: ${DIMENSION_NAMES.join(', ')}` })
  group_by?: DimensionName[];
}
