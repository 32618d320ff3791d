import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { Optional } from '../../common/validation.js';
import { RangeQueryDto } from './range.query.dto.js';

export const ACCURACIES = ['exact', 'approximate'] as const;
export type Accuracy = (typeof ACCURACIES)[number];

export class PerformanceQueryDto extends RangeQueryDto {
  @ApiPropertyOptional({
    type: String,
    enum: ACCURACIES,
    default: 'exact',
    description:
      'How the percentiles are computed: `exact` as percentile_cont over the tickets; `approximate` from ' +
      'mergeable log-bucket sketches, each within 1% relative error of the exact value (0 stays 0), much faster ' +
      'over long ranges. The SLA compliance rate and everything else are exact either way.',
  })
  @Optional()
  @IsIn(ACCURACIES)
  accuracy?: Accuracy;
}
