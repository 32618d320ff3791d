import { ApiProperty } from '@nestjs/swagger';
import { DIMENSION_NAMES, type DimensionName } from '../../metrics/dimensions.js';

/** The resolved range of a distribution (documentation only). */
export class DistributionPeriodDto {
  @ApiProperty({ type: String, format: 'date-time', description: 'Included.' })
  start: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'Excluded.' })
  end: string;
}

/** The body of `GET /analytics/distribution/{field}` (documentation only). */
export class DistributionResponseDto {
  @ApiProperty({ type: String, enum: DIMENSION_NAMES })
  field: DimensionName;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { open: 456, resolved: 678 },
    description: 'Tickets created in range, by value of the field (no assignee is "unassigned").',
  })
  distribution: Record<string, number>;

  @ApiProperty({ type: 'integer', minimum: 0 })
  total: number;

  @ApiProperty({ type: () => DistributionPeriodDto })
  period: DistributionPeriodDto;
}
