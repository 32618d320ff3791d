import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { DomainError, invalid, notFound } from '../common/errors.js';
import { uniqueViolationConstraint } from '../common/database-errors.js';
import { normalizeFilters } from '../metrics/filters.js';
import { Telemetry } from '../observability/telemetry.service.js';
import type { BulkTicketsDto } from './dto/bulk-tickets.dto.js';
import type { CreateTicketDto } from './dto/create-ticket.dto.js';
import type { ListTicketsQueryDto } from './dto/list-tickets.query.dto.js';
import type { UpdateTicketDto } from './dto/update-ticket.dto.js';
import {
  TICKETS_COMMITTED,
  TICKETS_PUBLISHED,
  TicketChange,
  TicketsCommittedEvent,
} from './events/tickets-committed.event.js';
import { TICKETS_WRITING, TicketsWritingEvent } from './events/tickets-writing.event.js';
import { applyTicketInput, type TicketState } from './ticket-rules.js';
import type { Ticket } from './ticket.entity.js';
import { TicketsRepository, UNIQUE_EXTERNAL_ID, type TicketRow } from './tickets.repository.js';
import { decodeCursor, encodeCursor } from './ticket-cursor.js';

export type TicketResource = Omit<Ticket, 'organization_id'>;

const BULK_ATTEMPTS = 3;
/**
 * Items per statement of a bulk write: small enough that the last slice
 * (written after the service is done) is short, large enough that a
 * statement's own cost stays small next to its rows'. The first slice is
 * applied while the database has nothing to do yet, so it is smaller: the
 * database starts writing sooner, and has the next slice's statement by the
 * time it is done.
 */
const BULK_SLICE = 2_000;
const FIRST_BULK_SLICE = 500;

@Injectable()
export class TicketsService {
  constructor(
    private readonly tickets: TicketsRepository,
    private readonly events: EventEmitter2,
    private readonly telemetry: Telemetry,
  ) {}

  async create(organizationId: number, input: CreateTicketDto): Promise<TicketResource> {
    const now = new Date();
    const state = stateOrThrow(applyTicketInput(null, input, now));
    const changes = await this.tickets.transaction(async (manager) => {
      const rows = await this.tickets.write(manager, organizationId, [{ id: randomUUID(), state, before: null }], now, {
        skipDuplicates: true,
        returning: true,
      });
      if (rows.length === 0) throw await this.duplicate(manager, organizationId, state.external_id!);
      return this.writing(manager, organizationId, [new TicketChange(null, rows[0])]);
    });
    await this.committed(organizationId, changes, now);
    return resource(changes[0].after);
  }

  async update(organizationId: number, id: string, input: UpdateTicketDto): Promise<TicketResource> {
    const now = new Date();
    const changes = await this.tickets
      .transaction(async (manager) => {
        const current = await this.tickets.findById(manager, organizationId, id, true);
        if (!current) throw notFound('ticket');
        const state = stateOrThrow(applyTicketInput(current, input, now));
        const [updated] = await this.tickets.write(manager, organizationId, [{ id, state, before: current }], now, {
          returning: true,
        });
        return this.writing(manager, organizationId, [new TicketChange(current, updated)]);
      })
      .catch(async (error: unknown) => {
        if (isUniqueViolation(error) && input.external_id) {
          throw await this.duplicate(null, organizationId, input.external_id);
        }
        throw error;
      });
    await this.committed(organizationId, changes, now);
    return resource(changes[0].after);
  }

  /**
   * All or nothing: every item is checked against the stored tickets inside
   * one transaction, and any problem rolls the whole batch back. A batch that
   * loses a race with a concurrent insert of the same external_id is retried.
   */
  async bulk(
    organizationId: number,
    { tickets: items }: BulkTicketsDto,
  ): Promise<{ inserted: number; updated: number }> {
    const seen = new Map<string, number>();
    const duplicates: string[] = [];
    items.forEach((item, index) => {
      if (item.external_id === undefined || item.external_id === null) return;
      const first = seen.get(item.external_id);
      if (first === undefined) seen.set(item.external_id, index);
      else duplicates.push(`tickets.${index} repeats the external_id of tickets.${first} ("${item.external_id}")`);
    });
    if (duplicates.length > 0) throw invalid(duplicates);

    const now = new Date();
    for (let attempt = 1; ; attempt++) {
      try {
        const changes = await this.tickets.transaction(async (manager) =>
          this.writing(manager, organizationId, await this.writeBatch(manager, organizationId, items, now)),
        );
        await this.committed(organizationId, changes, now);
        const inserted = changes.filter((c) => c.before === null).length;
        return { inserted, updated: changes.length - inserted };
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        if (attempt >= BULK_ATTEMPTS)
          throw new DomainError('CONFLICT', 'concurrent writes of the same external_id; retry the batch');
      }
    }
  }

  async get(organizationId: number, id: string): Promise<TicketResource> {
    const ticket = await this.tickets.findById(null, organizationId, id);
    if (!ticket) throw notFound('ticket');
    return resource(ticket);
  }

  async list(
    organizationId: number,
    query: ListTicketsQueryDto,
  ): Promise<{ items: TicketResource[]; next_cursor: string | null }> {
    const limit = query.limit ?? 50;
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
    const rows = await this.tickets.list(organizationId, normalizeFilters(query), limit + 1, after);
    const items = rows.slice(0, limit);
    return {
      items: items.map(resource),
      next_cursor: rows.length > limit ? encodeCursor(items[items.length - 1]) : null,
    };
  }

  /**
   * Locks the stored tickets the batch names, then applies the items to
   * their tickets (or to new ones) and writes them in slices of BULK_SLICE:
   * each slice is applied and its statement built while the database writes
   * the one before, in the same transaction. An item that breaks a rule
   * stops the writing, but every item is still checked, so the answer names
   * every problem; the transaction then rolls back. The changes are built
   * from what was written rather than read back: a batch's answer is two
   * counts.
   */
  private async writeBatch(
    manager: EntityManager,
    organizationId: number,
    items: BulkTicketsDto['tickets'],
    now: Date,
  ): Promise<TicketChange[]> {
    const externalIds = items.flatMap((item) => (item.external_id ? [item.external_id] : []));
    const existing = new Map(
      (await this.tickets.findByExternalIds(manager, organizationId, externalIds, true)).map((t) => [
        t.external_id!,
        t,
      ]),
    );
    const changes: TicketChange[] = [];
    const errors: string[] = [];
    let writing: Promise<unknown> | null = null;
    for (let start = 0, end = FIRST_BULK_SLICE; start < items.length; start = end, end += BULK_SLICE) {
      const rows = applySlice(items, start, Math.min(end, items.length), existing, now, errors);
      if (errors.length > 0) continue;
      const statement = this.tickets.prepareWrite(organizationId, rows, now);
      await writing;
      writing = this.tickets.run(manager, statement);
      // TypeORM sends a statement a few promise steps after it is asked to: one turn of the event
      // loop puts it on the wire before the next slice is worked on. It is awaited further down.
      writing.catch(() => undefined);
      await new Promise(setImmediate);
      for (const { id, state, before } of rows)
        changes.push(new TicketChange(before, storedTicket(organizationId, id, state, now)));
    }
    if (errors.length > 0) {
      // The transaction rolls back; what the items broke is the answer, not how the last slice ended.
      await writing?.catch(() => undefined);
      throw invalid(errors);
    }
    await writing;
    return changes;
  }

  /** Inside the transaction, once the rows are written: what listeners record commits with them. */
  private async writing(
    manager: EntityManager,
    organizationId: number,
    changes: TicketChange[],
  ): Promise<TicketChange[]> {
    await this.events.emitAsync(TICKETS_WRITING, new TicketsWritingEvent(organizationId, changes, manager));
    return changes;
  }

  /** After commit: listeners (cache invalidation among them) finish before the write answers. */
  private async committed(organizationId: number, changes: TicketChange[], now: Date): Promise<void> {
    const emitted = new Map<string, number>();
    for (const change of changes) for (const name of change.events) emitted.set(name, (emitted.get(name) ?? 0) + 1);
    for (const [name, count] of emitted) this.telemetry.eventsEmitted.inc({ event: name }, count);
    const event = new TicketsCommittedEvent(organizationId, changes, now);
    await this.events.emitAsync(TICKETS_COMMITTED, event);
    // Runs after the microtasks that send the response: fan-out costs the answer nothing.
    setImmediate(() => this.events.emit(TICKETS_PUBLISHED, event));
  }

  private async duplicate(
    manager: EntityManager | null,
    organizationId: number,
    externalId: string,
  ): Promise<DomainError> {
    const [existing] = await this.tickets.findByExternalIds(manager, organizationId, [externalId]);
    return new DomainError('DUPLICATE_EXTERNAL_ID', `external_id "${externalId}" already exists`, {
      existing_id: existing?.id ?? null,
    });
  }
}

/**
 * Applies items [start, end) to their stored tickets (by external_id) or to
 * new ones; the rows to write, or, for an item that breaks a rule, its
 * problems added to `errors`.
 */
function applySlice(
  items: BulkTicketsDto['tickets'],
  start: number,
  end: number,
  existing: ReadonlyMap<string, Ticket>,
  now: Date,
  errors: string[],
): TicketRow[] {
  const rows: TicketRow[] = [];
  for (let index = start; index < end; index++) {
    const item = items[index];
    const before = (item.external_id && existing.get(item.external_id)) || null;
    const result = applyTicketInput(before, item, now);
    if (result.state === null) for (const e of result.errors) errors.push(`tickets.${index}.${e}`);
    else rows.push({ id: before?.id ?? randomUUID(), state: result.state, before });
  }
  return rows;
}

function stateOrThrow(result: ReturnType<typeof applyTicketInput>): TicketState {
  if (result.state === null) throw invalid(result.errors);
  return result.state;
}

/** The row a write stores, with the columns in table order (as a row read back has them). */
function storedTicket(organizationId: number, id: string, state: TicketState, now: Date): Ticket {
  return {
    organization_id: organizationId,
    id,
    external_id: state.external_id,
    status: state.status,
    priority: state.priority,
    channel: state.channel,
    category: state.category,
    assignee_id: state.assignee_id,
    sentiment_score: state.sentiment_score,
    created_at: state.created_at,
    first_response_at: state.first_response_at,
    resolved_at: state.resolved_at,
    updated_at: now,
  };
}

function resource(ticket: Ticket): TicketResource {
  const { organization_id: _, ...rest } = ticket;
  return rest;
}

/** A unique violation of the external-id index, as PostgreSQL or a Citus coordinator reports it. */
function isUniqueViolation(error: unknown): boolean {
  const constraint = uniqueViolationConstraint(error);
  return constraint !== null && isExternalIdConstraint(constraint);
}

/** The unique index on external ids, or a Citus shard's copy of it (`…_key_102038`). */
function isExternalIdConstraint(name: string): boolean {
  return name === UNIQUE_EXTERNAL_ID || new RegExp(`^${UNIQUE_EXTERNAL_ID}_\\d+$`).test(name);
}
