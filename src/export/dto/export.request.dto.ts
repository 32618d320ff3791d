import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn } from 'class-validator';
import { Optional } from '../../common/validation.js';
import { RangeQueryDto } from '../../analytics/dto/range.query.dto.js';
import { FiltersBodySchema, IsFilters, type FiltersBody } from '../../metrics/dto/filters.body.js';
import { GRANULARITIES, type Granularity } from '../../metrics/granularity.js';
import { METRIC_TYPES, type MetricType } from '../../metrics/metric-registry.js';

/** `excel` is another name for `xlsx`. */
export const EXPORT_FORMATS = ['csv', 'json', 'xlsx', 'excel'] as const;
export type ExportFormatName = (typeof EXPORT_FORMATS)[number];

/**
 * The body of `POST /analytics/export`: the range fields of every analytics
 * request, without `use_cache` (an export is always computed fresh). With
 * `stopAtFirstError`, a property's constraints are checked bottom-up.
 */
export class ExportRequestDto extends OmitType(RangeQueryDto, ['use_cache'] as const) {
  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...METRIC_TYPES] },
    minItems: 1,
    maxItems: METRIC_TYPES.length * 2,
    description: 'The metrics whose series the file holds, in this order; a metric named twice is exported once.',
  })
  @IsIn(METRIC_TYPES, { each: true, message: `metric_types values must be among ${METRIC_TYPES.join(', ')}` })
  @ArrayMaxSize(METRIC_TYPES.length * 2)
  @ArrayMinSize(1)
  @IsArray()
  metric_types: MetricType[];

  @ApiProperty({ type: String, enum: EXPORT_FORMATS, description: 'The file format; excel means xlsx.' })
  @IsIn(EXPORT_FORMATS, { message: `format must be one of ${EXPORT_FORMATS.join(', ')}` })
  format: ExportFormatName;

  @ApiPropertyOptional({
    type: String,
    enum: GRANULARITIES,
    default: 'daily',
    description: 'Bucket size of the series. A series of more than 10,000 buckets is refused with 400.',
  })
  @Optional()
  @IsIn(GRANULARITIES)
  granularity?: Granularity;

  @ApiPropertyOptional({ type: () => FiltersBodySchema })
  @Optional()
  @IsFilters()
  filters?: FiltersBody;

  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description: 'Also export the tickets created in the range that match the filters (at most EXPORT_MAX_ROWS).',
  })
  @Optional()
  @IsBoolean({ message: 'include_raw_data must be true or false' })
  include_raw_data?: boolean;
}
