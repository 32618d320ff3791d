import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNumber, IsString, Length, Matches, Max, Min, NotEquals } from 'class-validator';
import { isPlainObject, Nullable, Optional, IsTimestamp } from '../../common/validation.js';
import { parseTimestamp } from '../../common/time.js';
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

/** The fields that hold timestamps. */
export const TIMESTAMP_FIELDS = ['created_at', 'first_response_at', 'resolved_at'] as const;
export type TimestampField = (typeof TIMESTAMP_FIELDS)[number];

/**
 * The instants of a DTO's timestamps as `acceptTicketFields` read them while
 * checking them, so that applying the DTO does not read them again (a bulk
 * of 10,000 tickets holds 30,000).
 */
export const PARSED_TIMESTAMPS = Symbol('parsed timestamps');

/** The writable fields of a ticket; every one optional (create fills defaults, patch keeps values). */
export class TicketFieldsDto {
  [PARSED_TIMESTAMPS]?: Partial<Record<TimestampField, Date>>;

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

/**
 * Within @Length's bounds. validator.js counts a surrogate pair, or a
 * character with its variation selector, as one: a length in code units is
 * never below its count, and not 0 when its count is not, so a string within
 * bounds here is within them there.
 */
const text = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length >= 1 && value.length <= max;
const oneOf = (values: readonly string[]) => (value: unknown) => values.includes(value as string);
const slug = (value: unknown) => typeof value === 'string' && SLUG_PATTERN.test(value);
const timestamp = (value: unknown) => typeof value === 'string' && parseTimestamp(value, 'UTC') !== null;

/**
 * What the decorators above accept, as plain checks (narrower where their
 * reading differs, see `text`); `bulk-tickets.dto.spec.ts` checks that they
 * never accept what the decorators refuse.
 */
type Field = Exclude<keyof TicketFieldsDto, typeof PARSED_TIMESTAMPS>;
const ACCEPTS: Readonly<Record<Field, (value: unknown) => boolean>> = {
  external_id: (v) => v === null || text(v, 128),
  status: oneOf(STATUSES),
  priority: oneOf(PRIORITIES),
  channel: slug,
  category: slug,
  assignee_id: (v) => v === null || (text(v, 128) && v !== UNASSIGNED),
  sentiment_score: (v) => v === null || (typeof v === 'number' && Number.isFinite(v) && v >= -1 && v <= 1),
  created_at: timestamp,
  first_response_at: (v) => v === null || timestamp(v),
  resolved_at: (v) => v === null || timestamp(v),
};

/** The TicketFieldsDto of a JSON object the decorators surely accept, or undefined (see Precompiled). */
export function acceptTicketFields(value: unknown): TicketFieldsDto | undefined {
  if (!isPlainObject(value) || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const fields = value as Record<string, unknown>;
  let parsed: Partial<Record<TimestampField, Date>> | undefined;
  for (const key of Object.keys(fields)) {
    if (!Object.hasOwn(ACCEPTS, key)) return undefined;
    const field = fields[key];
    if (typeof field === 'string' && (TIMESTAMP_FIELDS as readonly string[]).includes(key)) {
      const instant = parseTimestamp(field, 'UTC');
      if (instant === null) return undefined;
      (parsed ??= {})[key as TimestampField] = instant;
    } else if (!ACCEPTS[key as Field](field)) return undefined;
  }
  const dto = Object.assign(new TicketFieldsDto(), fields);
  if (parsed) dto[PARSED_TIMESTAMPS] = parsed;
  return dto;
}
