import { TicketFieldsDto } from './ticket-fields.dto.js';

export class CreateTicketDto extends TicketFieldsDto {}
