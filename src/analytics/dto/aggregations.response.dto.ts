import { ApiProperty } from '@nestjs/swagger';
import { DIMENSION_NAMES, type DimensionName } from '../../metrics/dimensions.js';
import { FiltersBodySchema } from '../../metrics/dto/filters.body.js';
import { GRANULARITIES, type Granularity } from '../../metrics/granularity.js';
import { METRIC_TYPES, type MetricType } from '../../metrics/metric-registry.js';
import { DataPointDto, ResolvedRangeDto } from './time-series.response.dto.js';

/** The request as the service understood it: defaults filled in, duplicates dropped, values sorted. */
export class AggregationsQueryDto extends ResolvedRangeDto {
  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...METRIC_TYPES] } })
  metric_types: MetricType[];

  @ApiProperty({ type: String, enum: GRANULARITIES })
  granularity: Granularity;

  @ApiProperty({ type: () => FiltersBodySchema })
  filters: FiltersBodySchema;

  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...DIMENSION_NAMES] } })
  group_by: DimensionName[];
}

/** One metric of `POST /analytics/aggregations`. */
export class AggregationResultDto {
  @ApiProperty({ type: String, enum: METRIC_TYPES })
  metric_type: MetricType;

  @ApiProperty({ type: String, enum: GRANULARITIES })
  granularity: Granularity;

  @ApiProperty({ type: 'integer', minimum: 0 })
  total_count: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Mean metrics: the sum over the counted tickets. null for ticket_count or when nothing counted.',
  })
  sum_value: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'As average_value of the time series.' })
  avg_value: number | null;

  @ApiProperty({ type: Number, nullable: true })
  min_value: number | null;

  @ApiProperty({ type: Number, nullable: true })
  max_value: number | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'object', additionalProperties: { type: 'number', nullable: true } },
    example: { status: { open: 234, in_progress: 333 } },
    description:
      'breakdown[dimension][value]: the metric over the range for the tickets with that value (a count, or a mean). ' +
      'Only values with a counted ticket; no assignee is "unassigned". {} without group_by.',
  })
  breakdown: Record<string, Record<string, number | null>>;

  @ApiProperty({ type: () => DataPointDto, isArray: true })
  time_series: DataPointDto[];
}

/** The body of `POST /analytics/aggregations` (documentation only). */
export class AggregationsResponseDto {
  @ApiProperty({ type: 'integer', example: 1 })
  organization_id: number;

  @ApiProperty({ type: () => AggregationsQueryDto })
  query: AggregationsQueryDto;

  @ApiProperty({ type: () => AggregationResultDto, isArray: true })
  results: AggregationResultDto[];

  @ApiProperty({ type: String, format: 'date-time' })
  generated_at: string;
}
