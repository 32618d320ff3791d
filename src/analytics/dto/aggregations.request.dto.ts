import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn } from 'class-validator';
import { Optional } from '../../common/validation.js';
import { DIMENSION_NAMES, type DimensionName } from '../../metrics/dimensions.js';
import { MetricsBodyDto } from './metrics-body.dto.js';

export class AggregationsRequestDto extends MetricsBodyDto {
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
