import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn } from 'class-validator';
import { Optional } from '../../common/validation.js';
import { FiltersBodySchema, IsFilters, type FiltersBody } from '../../metrics/dto/filters.body.js';
import { GRANULARITIES, type Granularity } from '../../metrics/granularity.js';
import { METRIC_TYPES, type MetricType } from '../../metrics/metric-registry.js';
import { RangeQueryDto } from './range.query.dto.js';

/** A body asking for several metrics over a range (aggregations, export). */
export class MetricsBodyDto extends RangeQueryDto {
  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...METRIC_TYPES] },
    minItems: 1,
    maxItems: METRIC_TYPES.length * 2,
    description: 'The metrics, in the order their results come; a metric named twice counts once.',
  })
  @IsIn(METRIC_TYPES, { each: true, message: `metric_types values must be among ${METRIC_TYPES.join(', ')}` })
  @ArrayMaxSize(METRIC_TYPES.length * 2)
  @ArrayMinSize(1)
  @IsArray()
  metric_types: MetricType[];

  @ApiPropertyOptional({
    type: String,
    enum: GRANULARITIES,
    default: 'daily',
    description: 'Bucket size of each series. A series of more than 10,000 buckets is refused with 400.',
  })
  @Optional()
  @IsIn(GRANULARITIES)
  granularity?: Granularity;

  @ApiPropertyOptional({ type: () => FiltersBodySchema })
  @Optional()
  @IsFilters()
  filters?: FiltersBody;
}
