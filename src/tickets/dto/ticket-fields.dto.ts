import { IsIn, IsNumber, IsString, Length, Matches, Max, Min, NotEquals } from 'class-validator';
import { Nullable, Optional, IsTimestamp } from '../../common/validation.js';
import {
  PRIORITIES,
  SLUG_PATTERN,
  STATUSES,
  UNASSIGNED,
  type Priority,
  type Status,
} from '../../metrics/dimensions.js';

/** The writable fields of a ticket; every one optional (create fills defaults, patch keeps values). */
export class TicketFieldsDto {
  @Nullable()
  @IsString()
  @Length(1, 128)
  external_id?: string | null;

  @Optional()
  @IsIn(STATUSES)
  status?: Status;

  @Optional()
  @IsIn(PRIORITIES)
  priority?: Priority;

  @Optional()
  @IsString()
  @Matches(SLUG_PATTERN, { message: 'channel must match ^[a-z0-9_-]{1,64}$' })
  channel?: string;

  @Optional()
  @IsString()
  @Matches(SLUG_PATTERN, { message: 'category must match ^[a-z0-9_-]{1,64}$' })
  category?: string;

  @Nullable()
  @IsString()
  @Length(1, 128)
  @NotEquals(UNASSIGNED, { message: `assignee_id "${UNASSIGNED}" is reserved; send null for no assignee` })
  assignee_id?: string | null;

  @Nullable()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-1)
  @Max(1)
  sentiment_score?: number | null;

  @Optional()
  @IsTimestamp()
  created_at?: string;

  @Nullable()
  @IsTimestamp()
  first_response_at?: string | null;

  @Nullable()
  @IsTimestamp()
  resolved_at?: string | null;
}
