import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, ValidateNested } from 'class-validator';
import { IsObjectEach } from '../../common/validation.js';
import { TicketFieldsDto } from './ticket-fields.dto.js';

export const BULK_MAX_ITEMS = 10_000;

export class BulkTicketsDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BULK_MAX_ITEMS)
  @IsObjectEach()
  @ValidateNested({ each: true })
  @Type(() => TicketFieldsDto)
  tickets: TicketFieldsDto[];
}
