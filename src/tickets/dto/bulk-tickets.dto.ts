import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, ValidateNested } from 'class-validator';
import { TicketFieldsDto } from './ticket-fields.dto.js';

export const BULK_MAX_ITEMS = 10_000;

export class BulkTicketsDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BULK_MAX_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => TicketFieldsDto)
  tickets: TicketFieldsDto[];
}
