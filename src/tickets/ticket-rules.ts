import { CLOSED_STATUSES, type Priority, type Status } from '../metrics/dimensions.js';
import { parseTimestamp } from '../common/time.js';
import {
  PARSED_TIMESTAMPS,
  TIMESTAMP_FIELDS,
  type TicketFieldsDto,
  type TimestampField,
} from './dto/ticket-fields.dto.js';
import type { Ticket } from './ticket.entity.js';

/** What a write sets: the ticket minus the fields the service owns. */
export type TicketState = Omit<Ticket, 'organization_id' | 'id' | 'updated_at'>;

const FUTURE_TOLERANCE_MS = 5 * 60_000;

const DEFAULTS = {
  external_id: null,
  status: 'open' as Status,
  priority: 'medium' as Priority,
  channel: 'web',
  category: 'general',
  assignee_id: null,
  sentiment_score: null,
  first_response_at: null,
  resolved_at: null,
};

/**
 * Applies a create or patch to a ticket (null for a new one) under the
 * contract's rules, returning the new state or the problems, each naming its
 * field. Creates, patches and bulk items all go through here.
 */
export function applyTicketInput(
  current: TicketState | null,
  input: TicketFieldsDto,
  now: Date,
): { state: TicketState; errors: [] } | { state: null; errors: string[] } {
  const errors: string[] = [];
  const time = (field: TimestampField): Date | null | undefined => {
    const raw = input[field];
    if (raw === undefined || raw === null) return raw;
    return input[PARSED_TIMESTAMPS]?.[field] ?? parseTimestamp(raw, 'UTC');
  };

  const base: TicketState = current ?? { ...DEFAULTS, created_at: now };
  const next: TicketState = { ...base };
  for (const field of [
    'external_id',
    'status',
    'priority',
    'channel',
    'category',
    'assignee_id',
    'sentiment_score',
  ] as const) {
    if (input[field] !== undefined) (next as Record<string, unknown>)[field] = input[field];
  }
  for (const field of TIMESTAMP_FIELDS) {
    const value = time(field);
    if (value !== undefined) (next as Record<string, unknown>)[field] = value;
  }

  if (next.created_at.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
    errors.push('created_at must not be more than 5 minutes in the future');
  }
  const closed = CLOSED_STATUSES.includes(next.status);
  if (closed && next.resolved_at === null) {
    if (input.resolved_at === null) {
      errors.push(`resolved_at cannot be null while status is ${next.status}`);
    } else {
      // Resolving without a time resolves now (never before the ticket existed).
      next.resolved_at = new Date(Math.max(now.getTime(), next.created_at.getTime()));
    }
  } else if (!closed) {
    if (input.resolved_at !== undefined && input.resolved_at !== null) {
      errors.push(`resolved_at is only allowed when status is resolved or closed (status is ${next.status})`);
    }
    next.resolved_at = null;
  }
  if (next.first_response_at && next.first_response_at < next.created_at) {
    errors.push('first_response_at must not be before created_at');
  }
  if (next.resolved_at && next.resolved_at < next.created_at) {
    errors.push('resolved_at must not be before created_at');
  }
  return errors.length > 0 ? { state: null, errors } : { state: next, errors: [] };
}
