import { ApiProperty } from '@nestjs/swagger';
import { DataPointDto, ResolvedRangeDto } from './time-series.response.dto.js';

const COUNTS = { type: 'object', additionalProperties: { type: 'integer' } } as const;

/** Tickets created in range with a score, by band (documentation only). */
export class SentimentBreakdownDto {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Score above 0.2.' })
  positive: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Score from -0.2 to 0.2.' })
  neutral: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Score below -0.2.' })
  negative: number;
}

/** The daily data points of three metrics over the range. */
export class TrendDataDto {
  @ApiProperty({ type: () => DataPointDto, isArray: true })
  ticket_count: DataPointDto[];

  @ApiProperty({ type: () => DataPointDto, isArray: true })
  response_time: DataPointDto[];

  @ApiProperty({ type: () => DataPointDto, isArray: true })
  resolution_time: DataPointDto[];
}

/** The unanswered tickets of one priority, or of all (documentation only). */
export class QueueFiguresDto {
  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description: 'Tickets open, in_progress or pending without a first response, whenever created.',
  })
  unanswered: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Of those, older than their priority’s target.' })
  breaching: number;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description: 'Of those, not breaching but older than 75% of their priority’s target.',
  })
  at_risk: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Age in hours of the oldest of them at `as_of`; null when none.',
  })
  oldest_unanswered_hours: number | null;
}

/** The queue by priority: all four always appear (documentation only). */
export class QueueByPriorityDto {
  @ApiProperty({ type: () => QueueFiguresDto })
  urgent: QueueFiguresDto;

  @ApiProperty({ type: () => QueueFiguresDto })
  high: QueueFiguresDto;

  @ApiProperty({ type: () => QueueFiguresDto })
  medium: QueueFiguresDto;

  @ApiProperty({ type: () => QueueFiguresDto })
  low: QueueFiguresDto;
}

/** The organization's waiting line now, whatever the range (documentation only). */
export class QueueDto extends QueueFiguresDto {
  @ApiProperty({
    type: String,
    format: 'date-time',
    example: '2025-10-02T12:34:00Z',
    description:
      'The start of the minute the ages are measured at. Ages come from SLA_FIRST_RESPONSE_HOURS targets; ' +
      'breaching and at_risk are exact at the request: a cached answer is never served once a ticket crosses 75% or 100% of its target.',
  })
  as_of: string;

  @ApiProperty({ type: () => QueueByPriorityDto })
  by_priority: QueueByPriorityDto;
}

/** The body of `GET /analytics/dashboard` (documentation only). */
export class DashboardResponseDto extends ResolvedRangeDto {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Tickets created in range.' })
  total_tickets: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Of those, status open, in_progress or pending.' })
  open_tickets: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Of those, status resolved or closed.' })
  resolved_tickets: number;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description: "All the organization's tickets open, in_progress or pending now, whenever created.",
  })
  current_backlog: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Mean response hours over the first responses in range; null when none.',
  })
  avg_response_time_hours: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Mean resolution hours over the resolutions in range; null when none.',
  })
  avg_resolution_time_hours: number | null;

  @ApiProperty({ type: () => SentimentBreakdownDto })
  sentiment_breakdown: SentimentBreakdownDto;

  @ApiProperty({ ...COUNTS, example: { billing: 12, technical: 30 }, description: 'Tickets created in range.' })
  category_breakdown: Record<string, number>;

  @ApiProperty({ ...COUNTS, example: { email: 20, chat: 22 }, description: 'Tickets created in range.' })
  channel_breakdown: Record<string, number>;

  @ApiProperty({ ...COUNTS, example: { high: 8, medium: 34 }, description: 'Tickets created in range.' })
  priority_breakdown: Record<string, number>;

  @ApiProperty({ type: () => TrendDataDto })
  trend_data: TrendDataDto;

  @ApiProperty({
    type: () => QueueDto,
    description: "The organization's unanswered tickets now against their first-response targets, whatever the range.",
  })
  queue: QueueDto;
}
