import { ApiProperty } from '@nestjs/swagger';
import { GRANULARITIES, type Granularity } from '../../metrics/granularity.js';
import { METRIC_TYPES, type MetricType } from '../../metrics/metric-registry.js';

/** One bucket of a series (documentation only). */
export class DataPointDto {
  @ApiProperty({
    type: String,
    format: 'date-time',
    example: '2025-01-01T00:00:00Z',
    description: "Start of the bucket, with the zone's offset at that instant.",
  })
  timestamp: string;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 45,
    description: 'The count (ticket_count), or the mean of the counted tickets (hours, or score); null when none.',
  })
  value: number | null;

  @ApiProperty({ type: 'integer', minimum: 0, example: 45, description: 'Tickets that count in the bucket.' })
  count: number;
}

/** The range an analytics answer covers, as resolved from the request (documentation only). */
export class ResolvedRangeDto {
  @ApiProperty({ type: String, example: 'UTC' })
  timezone: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'The resolved range, start included.' })
  start_date: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'The resolved range, end excluded.' })
  end_date: string;
}

/** The body of `GET /analytics/time-series/{metric_type}` (documentation only). */
export class TimeSeriesResponseDto extends ResolvedRangeDto {
  @ApiProperty({ type: String, enum: METRIC_TYPES })
  metric_type: MetricType;

  @ApiProperty({ type: String, enum: GRANULARITIES })
  granularity: Granularity;

  @ApiProperty({
    type: () => DataPointDto,
    isArray: true,
    description: 'Every bucket that overlaps the range, in order, empty ones included.',
  })
  data_points: DataPointDto[];

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Sum of the counts of all buckets.' })
  total_count: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'ticket_count: total_count per bucket. Mean metrics: the mean over all counted tickets. null when nothing counted.',
  })
  average_value: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Over the non-empty buckets (all, for ticket_count).' })
  min_value: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Over the non-empty buckets (all, for ticket_count).' })
  max_value: number | null;
}
