import { ApiPropertyOptional } from '@nestjs/swagger';
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

// Defaults are described, not declared as schema defaults: the same schema serves
// PATCH, where a left-out field keeps its value, and generated clients fill declared defaults in.

/** The writable fields of a ticket; every one optional (create fills defaults, patch keeps values). */
export class TicketFieldsDto {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    minLength: 1,
    maxLength: 128,
    description: "The ticket's id in the source system; unique within the organization.",
  })
  @Nullable()
  @IsString()
  @Length(1, 128)
  external_id?: string | null;

  @ApiPropertyOptional({
    type: String,
    enum: STATUSES,
    description:
      'On create: open when left out. resolved or closed sets resolved_at to now when it is null and none is given; ' +
      'open, in_progress or pending clears resolved_at.',
  })
  @Optional()
  @IsIn(STATUSES)
  status?: Status;

  @ApiPropertyOptional({ type: String, enum: PRIORITIES, description: 'On create: medium when left out.' })
  @Optional()
  @IsIn(PRIORITIES)
  priority?: Priority;

  @ApiPropertyOptional({
    type: String,
    pattern: SLUG_PATTERN.source,
    example: 'email',
    description: 'A slug. On create: web when left out.',
  })
  @Optional()
  @IsString()
  @Matches(SLUG_PATTERN, { message: 'channel must match ^[a-z0-9_-]{1,64}$' })
  channel?: string;

  @ApiPropertyOptional({
    type: String,
    pattern: SLUG_PATTERN.source,
    example: 'billing',
    description: 'A slug. On create: general when left out.',
  })
  @Optional()
  @IsString()
  @Matches(SLUG_PATTERN, { message: 'category must match ^[a-z0-9_-]{1,64}$' })
  category?: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    minLength: 1,
    maxLength: 128,
    description: `null for no assignee; "${UNASSIGNED}" is reserved.`,
  })
  @Nullable()
  @IsString()
  @Length(1, 128)
  @NotEquals(UNASSIGNED, { message: `assignee_id "${UNASSIGNED}" is reserved; send null for no assignee` })
  assignee_id?: string | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: -1, maximum: 1 })
  @Nullable()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-1)
  @Max(1)
  sentiment_score?: number | null;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'ISO 8601; not more than 5 minutes in the future. On create: now when left out.',
  })
  @Optional()
  @IsTimestamp()
  created_at?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'Not before created_at.' })
  @Nullable()
  @IsTimestamp()
  first_response_at?: string | null;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Not before created_at; only when the status is resolved or closed.',
  })
  @Nullable()
  @IsTimestamp()
  resolved_at?: string | null;
}
