import type { TicketEventName } from '../../metrics/metric-registry.js';
import type { Ticket } from '../ticket.entity.js';

export const TICKETS_COMMITTED = 'tickets.committed';
/**
 * The same event once the write's response has been handed over: for
 * listeners that only tell others about the write (socket updates), which a
 * write's answer must never wait for.
 */
export const TICKETS_PUBLISHED = 'tickets.published';

/** One ticket's committed change; `before` is null for a new ticket. */
export class TicketChange {
  /** The domain events this change amounts to, in the order they happened. */
  readonly events: readonly TicketEventName[];

  constructor(
    readonly before: Ticket | null,
    readonly after: Ticket,
  ) {
    const events: TicketEventName[] = [before === null ? 'ticket.created' : 'ticket.updated'];
    if (after.first_response_at && !before?.first_response_at) events.push('ticket.first_response');
    if (after.resolved_at && !before?.resolved_at) events.push('ticket.resolved');
    this.events = events;
  }
}

/**
 * Emitted once per committed transaction, after the commit, carrying every
 * ticket it changed: a bulk write of 10,000 tickets is one event, so its
 * consequences (a single generation bump, one coalesced socket update) are
 * computed once.
 */
export class TicketsCommittedEvent {
  constructor(
    readonly organizationId: number,
    readonly changes: readonly TicketChange[],
    readonly committedAt: Date,
  ) {}
}
