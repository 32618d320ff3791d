import { TicketFieldsDto } from './ticket-fields.dto.js';

export class UpdateTicketDto extends TicketFieldsDto {}
