import { Inject, Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import type { EntityManager } from 'typeorm';
import { GENERIC_PLANS_ALLOWED } from '../database/database-options.js';
import { TICKETS_WRITING, TicketsWritingEvent } from '../tickets/events/tickets-writing.event.js';
import { RollupsRepository } from './rollups.repository.js';
import { SketchesRepository } from './sketches.repository.js';

/**
 * Writes of at most this many staged rows (a ticket changed is two) run the
 * prepared upserts; larger batches are planned for their size, as a generic
 * plan made for one ticket need not suit ten thousand.
 */
const PREPARED_MAX_ROWS = 200;

/**
 * Keeps the rollups and sketches in the transaction of every ticket write:
 * they commit with the tickets, or roll back with them (a failure here fails
 * the write). So a read after a write sees it there too, with no refresh job.
 * Rollups, then sketches, always in this order (concurrent writers lock the
 * rows of both tables in the same order), sent as one string of statements:
 * one round trip for all of it.
 *
 * Planning the two upserts cost more than running them for a single ticket
 * (~1 ms against ~0.7 ms), so on PostgreSQL a small write runs them as
 * prepared statements of its connection's session (`EXECUTE`, still in the
 * one string): prepared the first time a connection needs them, after a
 * look at the session's own list, so a connection whose earlier attempt
 * failed midway prepares only what is missing (a `PREPARE` outlives a
 * transaction that rolls back).
 */
@Injectable()
export class RollupsListener {
  private readonly prepared = new WeakSet<object>();
  private writes = { prepared: 0, planned: 0 };

  constructor(
    private readonly rollups: RollupsRepository,
    private readonly sketches: SketchesRepository,
    // Whether the maintenance upserts may run as prepared statements (PostgreSQL; not Citus, not embedded).
    @Inject(GENERIC_PLANS_ALLOWED) private readonly mayPrepare: boolean,
  ) {}

  @OnEvent(TICKETS_WRITING, { suppressErrors: false })
  async onTicketsWriting(event: TicketsWritingEvent): Promise<void> {
    const { manager, organizationId, changesTable, changes } = event;
    const staged = changes.reduce((n, change) => n + (change.before ? 2 : 1), 0);
    const prepared = this.mayPrepare && staged <= PREPARED_MAX_ROWS && (await this.prepare(manager, changesTable));
    this.writes[prepared ? 'prepared' : 'planned'] += 1;
    await manager.query(
      `${this.rollups.maintenanceSql(organizationId, changesTable, prepared)};
       ${this.sketches.maintenanceSql(organizationId, changesTable, prepared)}`,
    );
  }

  /** Read-only, for tests: how many writes ran the prepared upserts, and how many had theirs planned. */
  inspect(): { prepared: number; planned: number } {
    return { ...this.writes };
  }

  /** Prepares the upserts in the session of the transaction's connection, once; false when there is no connection to tell. */
  private async prepare(manager: EntityManager, changesTable: string): Promise<boolean> {
    const connection = (await manager.queryRunner?.connect()) as object | undefined;
    if (!connection) return false;
    if (this.prepared.has(connection)) return true;
    const statements = [this.rollups.preparation(changesTable), this.sketches.preparation(changesTable)];
    const rows: { name: string }[] = await manager.query(
      `SELECT name FROM pg_prepared_statements WHERE name = ANY($1::text[])`,
      [statements.map((s) => s.name)],
    );
    const missing = statements.filter((s) => !rows.some((row) => row.name === s.name));
    if (missing.length > 0) await manager.query(missing.map((s) => s.sql).join(';\n'));
    this.prepared.add(connection);
    return true;
  }
}
