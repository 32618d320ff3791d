import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, ValidateNested } from 'class-validator';
import { IsObjectEach } from '../../common/validation.js';
import { TicketFieldsDto } from './ticket-fields.dto.js';

export const BULK_MAX_ITEMS = 10_000;

export class BulkTicketsDto {
  @ApiProperty({
    type: () => TicketFieldsDto,
    isArray: true,
    minItems: 1,
    maxItems: BULK_MAX_ITEMS,
    description:
      'An item whose external_id exists updates that ticket (the fields given replace the stored ones); ' +
      'the others are created.',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BULK_MAX_ITEMS)
  @IsObjectEach()
  @ValidateNested({ each: true })
  @Type(() => TicketFieldsDto)
  tickets: TicketFieldsDto[];
}
