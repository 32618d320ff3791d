import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { GENERIC_PLANS_ALLOWED } from '../database/database-options.js';
import type { Filters } from '../metrics/dimensions.js';
import { filterPredicates } from '../metrics/filters.js';
import { SqlParams } from '../metrics/sql-params.js';
import type { Ticket } from './ticket.entity.js';
import type { TicketState } from './ticket-rules.js';
import { TICKET_CHANGES_TABLE } from './events/tickets-writing.event.js';

/** A ticket row to write: its id, its new state, and the stored row it replaces (null for a new ticket). */
export interface TicketRow {
  readonly id: string;
  readonly state: TicketState;
  readonly before: Ticket | null;
}

/** The stored columns of a ticket's state with their SQL types, in table order, for `unnest` bulk statements. */
export interface WriteOptions {
  readonly skipDuplicates?: boolean;
  readonly returning?: boolean;
}

/**
 * Writes of at most this many tickets run as a named statement with its
 * generic plan; larger ones are planned for their size (the plan of a
 * statement over arrays of one ticket need not suit ten thousand).
 */
const PREPARED_MAX_TICKETS = 100;

/** A write's statement and its bound values (see TicketsRepository.prepareWrite). */
export interface PreparedWrite {
  /** The statement's name, when it runs as a named (prepared) one. */
  readonly name?: string;
  readonly text: string;
  readonly values: unknown[];
  readonly returning: boolean;
  /** Stages the rows the write replaces (sign -1), run before it; null when it replaces none. */
  readonly replaced: { readonly text: string; readonly values: unknown[] } | null;
}

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

const STATE_NAMES = STATE_COLUMNS.map(([c]) => c);

export const UNIQUE_EXTERNAL_ID = 'tickets_org_external_id_key';

/**
 * The staging table of TICKET_CHANGES_TABLE: one per connection, created by
 * the first write on it, emptied when each transaction commits (and, as any
 * table, of what a rolled-back one wrote).
 */
const STAGING_TABLE_SQL = `CREATE TEMPORARY TABLE IF NOT EXISTS ${TICKET_CHANGES_TABLE} (sign smallint NOT NULL, LIKE tickets)
  ON COMMIT DELETE ROWS`;

/**
 * One bound, typed array per column (id first, whether the row is new last),
 * for `unnest`, each sent as the text of a PostgreSQL array: written here in
 * one pass per column, it costs a fraction of node-postgres's generic
 * conversion of 10,000 values (a Date is formatted in JavaScript there).
 */
function columnArrays(rows: readonly TicketRow[], params: SqlParams): string[] {
  return [
    `${params.add(arrayText(rows.map((r) => r.id)))}::uuid[]`,
    ...STATE_COLUMNS.map(([column, type]) => `${params.add(arrayText(rows.map((r) => r.state[column])))}::${type}[]`),
    `${params.add(arrayText(rows.map((r) => r.before === null)))}::bool[]`,
  ];
}

const ESCAPED = /[\\"]/;

/**
 * An array literal: strings quoted (an unquoted `null` would be NULL), with
 * backslashes and quotes escaped; numbers, booleans, and timestamps in ISO
 * 8601 as they are (none holds a character the literal treats specially).
 */
function arrayText(values: readonly (string | number | boolean | Date | null)[]): string {
  const elements = values.map((v) => {
    if (v === null) return 'NULL';
    if (typeof v === 'string') return `"${ESCAPED.test(v) ? v.replace(/[\\"]/g, '\\$&') : v}"`;
    if (v instanceof Date) return v.toISOString();
    return String(v);
  });
  return `{${elements.join(',')}}`;
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
    // Whether small writes may run as named statements (PostgreSQL; not Citus, not embedded): see prepareWrite.
    @Inject(GENERIC_PLANS_ALLOWED) private readonly mayPrepare: boolean,
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
      // Both timeouts are integers from the validated config; in one round trip with the staging table.
      // A small write's named statement runs its generic plan (see prepareWrite): planned for arrays of
      // ten rows, it reads tickets by primary key. So do the rollups' and sketches' prepared upserts
      // (the sketches' takes the organization as a parameter, and under `auto` was planned anew on
      // every write). The other statements are unnamed: PostgreSQL plans those for their values.
      await manager.query(
        `SELECT set_config('lock_timeout', '${this.config.writeLockTimeoutMs}ms', true),
                set_config('statement_timeout', '${this.config.writeStatementTimeoutMs}ms', true)
                ${this.mayPrepare ? `, set_config('plan_cache_mode', 'force_generic_plan', true)` : ''};
         ${STAGING_TABLE_SQL}`,
      );
      return work(manager);
    });
  }

  /**
   * Writes a batch in one statement: inserts the new rows (those without
   * `before`), updates the others, and stages the change in
   * TICKET_CHANGES_TABLE: each updated ticket's stored row as it was (sign
   * -1, read by a statement of its own just before, while the caller holds
   * the rows' locks) and every written row (sign 1). With `skipDuplicates`, a new row whose
   * external_id exists is left out. Returns the written rows when
   * `returning` (a single write answers with what was stored), otherwise none.
   */
  write(
    manager: EntityManager,
    organizationId: number,
    rows: readonly TicketRow[],
    now: Date,
    options: WriteOptions = {},
  ): Promise<Ticket[]> {
    return this.run(manager, this.prepareWrite(organizationId, rows, now, options));
  }

  /**
   * The statement of `write`, built apart from running it: a batch written in
   * slices builds the next slice's statement (its array text is most of the
   * service's work of a write) while the database runs the previous one.
   */
  prepareWrite(
    organizationId: number,
    rows: readonly TicketRow[],
    now: Date,
    { skipDuplicates = false, returning = false }: WriteOptions = {},
  ): PreparedWrite {
    const params = new SqlParams();
    const org = `${params.add(organizationId)}::bigint`;
    const at = `${params.add(now)}::timestamptz`;
    const input = `unnest(${columnArrays(rows, params).join(', ')}) AS u(id, ${STATE_NAMES.join(', ')}, is_new)`;
    const names = ['organization_id', 'id', ...STATE_NAMES, 'updated_at'];
    const columns = names.join(', ');
    const written = `${org}, u.id, ${STATE_NAMES.map((c) => `u.${c}`).join(', ')}, ${at}`;
    const text = `WITH input AS (SELECT * FROM ${input}),
       inserted AS (
         INSERT INTO tickets (${columns})
         SELECT ${written} FROM input u WHERE u.is_new
         ${skipDuplicates ? 'ON CONFLICT (organization_id, external_id) DO NOTHING RETURNING id' : ''}),
       -- The rows to update are locked by the caller: each one exists and is updated.
       updated AS (
         UPDATE tickets t SET ${STATE_NAMES.map((c) => `${c} = u.${c}`).join(', ')}, updated_at = ${at}
         FROM input u
         WHERE NOT u.is_new AND t.organization_id = ${org} AND t.id = u.id)
       INSERT INTO ${TICKET_CHANGES_TABLE} (sign, ${columns})
       SELECT 1, ${written}
       FROM input u
       ${skipDuplicates ? 'WHERE NOT u.is_new OR u.id IN (SELECT id FROM inserted)' : ''}
       ${returning ? `RETURNING sign, ${columns}` : ''}`;
    const replacedIds = rows.filter((r) => r.before !== null).map((r) => r.id);
    // Its own statement, before the write: a distributed database (Citus) runs
    // the write's modifying CTEs before the rest of its statement, where a join
    // on tickets would already see the new rows.
    const replaced =
      replacedIds.length === 0
        ? null
        : {
            text: `INSERT INTO ${TICKET_CHANGES_TABLE} (sign, ${columns})
                   SELECT -1, ${names.map((c) => `o.${c}`).join(', ')} FROM tickets o
                   WHERE o.organization_id = $1::bigint AND o.id = ANY($2::uuid[])`,
            values: [organizationId, arrayText(replacedIds)],
          };
    // The text depends on the options only (the rows are bound arrays), so a small write reuses the
    // connection's parsed statement and its plan: parsing and planning the unnamed statement cost a
    // single POST 0.39 ms of the 0.72 its write took on the server.
    const name =
      this.mayPrepare && rows.length <= PREPARED_MAX_TICKETS
        ? `pulse_ticket_write${skipDuplicates ? '_skip' : ''}${returning ? '_returning' : ''}`
        : undefined;
    return { name, text, values: params.values, returning, replaced };
  }

  /** Runs a prepared write in the transaction of `manager`. */
  async run(manager: EntityManager, { name, text, values, returning, replaced }: PreparedWrite): Promise<Ticket[]> {
    if (replaced) await manager.queryRunner!.query(replaced.text, replaced.values);
    // node-postgres takes a query config ({ name, text }) where TypeORM passes a string through.
    const query = name ? ({ name, text } as unknown as string) : text;
    const { records } = await manager.queryRunner!.query(query, values, true);
    if (!returning) return [];
    return (records as (Ticket & { sign: number })[]).flatMap(({ sign, ...ticket }) => (sign === 1 ? [ticket] : []));
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
