import { ApiProperty, ApiPropertyOptional, getSchemaPath, OmitType } from '@nestjs/swagger';
import { DataPointDto } from '../../analytics/dto/time-series.response.dto.js';
import { AggregationsQueryDto } from '../../analytics/dto/aggregations.response.dto.js';
import { TicketResponseDto } from '../../tickets/dto/ticket.response.dto.js';

/** The normalized request a json export echoes: an aggregation's, without group_by (documentation only). */
export class ExportMetadataDto extends OmitType(AggregationsQueryDto, ['group_by'] as const) {
  @ApiProperty({ type: Boolean })
  include_raw_data: boolean;

  @ApiProperty({ type: String, enum: ['csv', 'json', 'xlsx'], description: 'excel is echoed as xlsx.' })
  format: string;

  @ApiProperty({ type: 'integer', example: 1 })
  organization_id: number;

  @ApiProperty({ type: String, format: 'date-time' })
  generated_at: string;
}

/** One raw ticket of an export: the ticket as the API returns it, with its response and resolution hours. */
export class ExportTicketDto extends OmitType(TicketResponseDto, ['updated_at'] as const) {
  @ApiProperty({ type: Number, nullable: true })
  response_time_hours: number | null;

  @ApiProperty({ type: Number, nullable: true })
  resolution_time_hours: number | null;
}

/** The body of a json export (documentation only). */
export class ExportJsonResponseDto {
  @ApiProperty({ type: () => ExportMetadataDto })
  metadata: ExportMetadataDto;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'array', items: { $ref: getSchemaPath(DataPointDto) } },
    description: "Each metric's data_points, as the time-series endpoint computes them for the same query.",
  })
  series: Record<string, DataPointDto[]>;

  @ApiPropertyOptional({
    type: () => ExportTicketDto,
    isArray: true,
    description: 'Only with include_raw_data: the tickets created in the range that match the filters, oldest first.',
  })
  tickets?: ExportTicketDto[];
}
