import { ResolvedRangeDto } from './time-series.response.dto.js';
import { ApiProperty } from '@nestjs/swagger';
import { ACCURACIES, type Accuracy } from './performance.query.dto.js';

const PERCENTILE = { type: Number, nullable: true } as const;

/** First-response targets by priority, in hours (documentation only). */
export class SlaTargetsDto {
  @ApiProperty({ type: Number, example: 1 })
  urgent: number;

  @ApiProperty({ type: Number, example: 4 })
  high: number;

  @ApiProperty({ type: Number, example: 8 })
  medium: number;

  @ApiProperty({ type: Number, example: 24 })
  low: number;
}

/** The body of `GET /analytics/performance` (documentation only). */
export class PerformanceResponseDto extends ResolvedRangeDto {
  @ApiProperty({
    type: String,
    enum: ACCURACIES,
    example: 'exact',
    description: 'How the percentiles were computed, as requested: exact, or approximate (within 1% relative).',
  })
  accuracy: Accuracy;

  @ApiProperty({ ...PERCENTILE, description: 'Hours, over tickets first answered in range; null when none.' })
  response_time_p50: number | null;

  @ApiProperty({ ...PERCENTILE, description: 'Hours, over tickets first answered in range; null when none.' })
  response_time_p95: number | null;

  @ApiProperty({ ...PERCENTILE, description: 'Hours, over tickets first answered in range; null when none.' })
  response_time_p99: number | null;

  @ApiProperty({ ...PERCENTILE, description: 'Hours, over tickets resolved in range; null when none.' })
  resolution_time_p50: number | null;

  @ApiProperty({ ...PERCENTILE, description: 'Hours, over tickets resolved in range; null when none.' })
  resolution_time_p95: number | null;

  @ApiProperty({ ...PERCENTILE, description: 'Hours, over tickets resolved in range; null when none.' })
  resolution_time_p99: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    minimum: 0,
    maximum: 1,
    description:
      "Share of the tickets first answered in range that were answered within their priority's target; null when none.",
  })
  sla_compliance_rate: number | null;

  @ApiProperty({ type: () => SlaTargetsDto })
  sla_targets_hours: SlaTargetsDto;
}
