import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { IsBoolean, IsIn } from 'class-validator';
import { Optional } from '../../common/validation.js';
import { MetricsBodyDto } from '../../analytics/dto/metrics-body.dto.js';

/** `excel` is another name for `xlsx`. */
export const EXPORT_FORMATS = ['csv', 'json', 'xlsx', 'excel'] as const;
export type ExportFormatName = (typeof EXPORT_FORMATS)[number];

/**
 * The body of `POST /analytics/export`: the range fields of every analytics
 * request, without `use_cache` (an export is always computed fresh). With
 * `stopAtFirstError`, a property's constraints are checked bottom-up.
 */
export class ExportRequestDto extends OmitType(MetricsBodyDto, ['use_cache'] as const) {
  @ApiProperty({ type: String, enum: EXPORT_FORMATS, description: 'The file format; excel means xlsx.' })
  @IsIn(EXPORT_FORMATS, { message: `format must be one of ${EXPORT_FORMATS.join(', ')}` })
  format: ExportFormatName;

  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description: 'Also export the tickets created in the range that match the filters (at most EXPORT_MAX_ROWS).',
  })
  @Optional()
  @IsBoolean({ message: 'include_raw_data must be true or false' })
  include_raw_data?: boolean;
}
