import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import type { Filters } from '../metrics/dimensions.js';
import { filterPredicates } from '../metrics/filters.js';
import { SqlParams } from '../metrics/sql-params.js';
import type { Ticket } from './ticket.entity.js';
import type { TicketState } from './ticket-rules.js';

/** A ticket row to write: its id, its state, and when it was written. */
export interface TicketRow {
  readonly id: string;
  readonly state: TicketState;
}

/** The stored columns of a ticket's state with their SQL types, for `unnest` bulk statements. */
export const STATE_COLUMNS = [
  ['external_id', 'varchar'],
  ['status', 'varchar'],
  ['priority', 'varchar'],
  ['channel', 'varchar'],
  ['category', 'varchar'],
  ['assignee_id', 'varchar'],
  ['sentiment_score', 'float8'],
  ['created_at', 'timestamptz'],
  ['first_response_at', 'timestamptz'],
  ['resolved_at', 'timestamptz'],
] as const satisfies readonly (readonly [keyof TicketState, string])[];

export const UNIQUE_EXTERNAL_ID = 'tickets_org_external_id_key';

/** One bound, typed array per column (id first), for `unnest`. */
function columnArrays(rows: readonly TicketRow[], params: SqlParams): string[] {
  return [
    `${params.add(rows.map((r) => r.id))}::uuid[]`,
    ...STATE_COLUMNS.map(([column, type]) => `${params.add(rows.map((r) => r.state[column]))}::${type}[]`),
  ];
}

/**
 * SQL of the tickets table. Batches go through `unnest` over one array per
 * column: one statement and a fixed number of parameters however many rows.
 */
@Injectable()
export class TicketsRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
  ) {}

  /**
   * A write's transaction, bounded: a statement that waits for a lock longer
   * than WRITE_LOCK_TIMEOUT_MS, or runs longer than WRITE_STATEMENT_TIMEOUT_MS,
   * fails and rolls the transaction back, so a write held up by a lock is
   * answered 503 and never commits after its client has given up. Set per
   * transaction rather than on the pool, whose connections also run migrations.
   */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(async (manager) => {
      await manager.query(`SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)`, [
        `${this.config.writeLockTimeoutMs}ms`,
        `${this.config.writeStatementTimeoutMs}ms`,
      ]);
      return work(manager);
    });
  }

  /** Inserts rows; with `skipDuplicates`, rows whose external_id exists are left out of the result. */
  async insert(
    manager: EntityManager,
    organizationId: number,
    rows: readonly TicketRow[],
    now: Date,
    skipDuplicates = false,
  ): Promise<Ticket[]> {
    const params = new SqlParams();
    const org = params.add(organizationId);
    const arrays = columnArrays(rows, params);
    const columns = ['id', ...STATE_COLUMNS.map(([c]) => c)];
    const { records } = await manager.queryRunner!.query(
      `INSERT INTO tickets (organization_id, ${columns.join(', ')}, updated_at)
       SELECT ${org}, ${columns.map((c) => `u.${c}`).join(', ')}, ${params.add(now)}
       FROM unnest(${arrays.join(', ')}) AS u(${columns.join(', ')})
       ${skipDuplicates ? 'ON CONFLICT (organization_id, external_id) DO NOTHING' : ''}
       RETURNING *`,
      params.values,
      true,
    );
    return records;
  }

  async update(
    manager: EntityManager,
    organizationId: number,
    rows: readonly TicketRow[],
    now: Date,
  ): Promise<Ticket[]> {
    const params = new SqlParams();
    const org = params.add(organizationId);
    const arrays = columnArrays(rows, params);
    const { records } = await manager.queryRunner!.query(
      `UPDATE tickets t SET ${STATE_COLUMNS.map(([c]) => `${c} = u.${c}`).join(', ')}, updated_at = ${params.add(now)}
       FROM unnest(${arrays.join(', ')}) AS u(id, ${STATE_COLUMNS.map(([c]) => c).join(', ')})
       WHERE t.organization_id = ${org} AND t.id = u.id
       RETURNING t.*`,
      params.values,
      true,
    );
    return records;
  }

  async findById(
    manager: EntityManager | null,
    organizationId: number,
    id: string,
    forUpdate = false,
  ): Promise<Ticket | null> {
    const rows: Ticket[] = await (manager ?? this.db).query(
      `SELECT * FROM tickets WHERE organization_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
      [organizationId, id],
    );
    return rows[0] ?? null;
  }

  async findByExternalIds(
    manager: EntityManager | null,
    organizationId: number,
    externalIds: readonly string[],
    forUpdate = false,
  ): Promise<Ticket[]> {
    if (externalIds.length === 0) return [];
    return (manager ?? this.db).query(
      `SELECT * FROM tickets WHERE organization_id = $1 AND external_id = ANY($2::varchar[])
       ORDER BY id${forUpdate ? ' FOR UPDATE' : ''}`,
      [organizationId, externalIds],
    );
  }

  /** Newest first, ties by id descending; `after` is the last ticket of the previous page. */
  async list(
    organizationId: number,
    filters: Filters,
    limit: number,
    after: { created_at: Date; id: string } | null,
  ): Promise<Ticket[]> {
    const params = new SqlParams();
    const where = [`t.organization_id = ${params.add(organizationId)}`, ...filterPredicates(filters, params)];
    if (after)
      where.push(
        `(t.created_at, t.id) < (${params.add(after.created_at)}::timestamptz, ${params.add(after.id)}::uuid)`,
      );
    return this.db.query(
      `SELECT * FROM tickets t WHERE ${where.join(' AND ')}
       ORDER BY t.created_at DESC, t.id DESC LIMIT ${params.add(limit)}`,
      params.values,
    );
  }
}
