import type { EntityManager } from 'typeorm';
import type { TicketChange } from './tickets-committed.event.js';

export const TICKETS_WRITING = 'tickets.writing';

/**
 * A temporary table holding, during a write's transaction, what it changed:
 * every updated ticket's row as it was before (`sign` -1) and every row
 * written (`sign` 1), with the columns of `tickets`. A listener that keeps a
 * table derived from the tickets reads it in one set-based statement per
 * write, however many tickets the write has, instead of sending the rows
 * again.
 */
export const TICKET_CHANGES_TABLE = 'ticket_changes';

/**
 * Emitted inside a ticket write's transaction, after its rows are written and
 * before it commits: listeners that must leave a durable trace of the write
 * (the cache's invalidation record) write it through `manager`, so it commits
 * or rolls back with the tickets. A listener that fails rolls the write back.
 * The same `changes` array is carried by the TicketsCommittedEvent that
 * follows the commit; `changesTable` holds the same changes in the database.
 */
export class TicketsWritingEvent {
  readonly changesTable = TICKET_CHANGES_TABLE;

  constructor(
    readonly organizationId: number,
    readonly changes: readonly TicketChange[],
    readonly manager: EntityManager,
  ) {}
}
