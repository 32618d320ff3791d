import type { EntityManager } from 'typeorm';
import type { TicketChange } from './tickets-committed.event.js';

export const TICKETS_WRITING = 'tickets.writing';

/**
 * Emitted inside a ticket write's transaction, after its rows are written and
 * before it commits: listeners that must leave a durable trace of the write
 * (the cache's invalidation record) write it through `manager`, so it commits
 * or rolls back with the tickets. A listener that fails rolls the write back.
 * The same `changes` array is carried by the TicketsCommittedEvent that
 * follows the commit.
 */
export class TicketsWritingEvent {
  constructor(
    readonly organizationId: number,
    readonly changes: readonly TicketChange[],
    readonly manager: EntityManager,
  ) {}
}
