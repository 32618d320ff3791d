import { ApiProperty } from '@nestjs/swagger';
import { PRIORITIES, STATUSES, type Priority, type Status } from '../../metrics/dimensions.js';

/** A ticket as the API returns it (documentation only). */
export class TicketResponseDto {
  @ApiProperty({ type: String, format: 'uuid' })
  id: string;

  @ApiProperty({ type: String, nullable: true })
  external_id: string | null;

  @ApiProperty({ type: String, enum: STATUSES })
  status: Status;

  @ApiProperty({ type: String, enum: PRIORITIES })
  priority: Priority;

  @ApiProperty({ type: String, example: 'email' })
  channel: string;

  @ApiProperty({ type: String, example: 'billing' })
  category: string;

  @ApiProperty({ type: String, nullable: true })
  assignee_id: string | null;

  @ApiProperty({ type: Number, nullable: true, minimum: -1, maximum: 1 })
  sentiment_score: number | null;

  @ApiProperty({ type: String, format: 'date-time' })
  created_at: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  first_response_at: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  resolved_at: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  updated_at: string;
}

/** One page of `GET /tickets`. */
export class TicketPageResponseDto {
  @ApiProperty({
    type: () => TicketResponseDto,
    isArray: true,
    description: 'Newest created_at first (ties by id).',
  })
  items: TicketResponseDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last.' })
  next_cursor: string | null;
}

/** The result of `POST /tickets/bulk`. */
export class BulkTicketsResponseDto {
  @ApiProperty({ type: 'integer', minimum: 0 })
  inserted: number;

  @ApiProperty({ type: 'integer', minimum: 0 })
  updated: number;
}
