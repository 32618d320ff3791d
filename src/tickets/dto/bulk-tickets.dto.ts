import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, ValidateNested } from 'class-validator';
import { isPlainObject, IsObjectEach } from '../../common/validation.js';
import { acceptTicketFields, TicketFieldsDto } from './ticket-fields.dto.js';

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

  /** The DTO of a body the decorators surely accept, or undefined, when they decide (see Precompiled). */
  static accept(value: unknown): BulkTicketsDto | undefined {
    if (!isPlainObject(value) || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
    const { tickets, ...others } = value as Record<string, unknown>;
    if (Object.keys(others).length > 0 || !Array.isArray(tickets)) return undefined;
    if (tickets.length < 1 || tickets.length > BULK_MAX_ITEMS) return undefined;
    const accepted: TicketFieldsDto[] = [];
    for (const item of tickets) {
      const fields = acceptTicketFields(item);
      if (fields === undefined) return undefined;
      accepted.push(fields);
    }
    return Object.assign(new BulkTicketsDto(), { tickets: accepted });
  }
}
