import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ANALYTICS_CONNECTION } from '../database/database-options.js';
import { poolOf } from '../database/pg-pool.js';
import { compileTicketRowCount, type TicketRowsQuery } from '../metrics/ticket-rows.compiler.js';
import { TicketSnapshot } from './ticket-snapshot.js';

/** The pool's connections that have export's 'error' listener (see openTickets). */
const quieted = new WeakSet<object>();

/**
 * Raw ticket rows for exports, on the analytics pool (statement timeout
 * included). It works on a pg connection of its own rather than through
 * TypeORM, whose query API buffers whole results: the rows must stream.
 */
@Injectable()
export class ExportRepository {
  constructor(@InjectDataSource(ANALYTICS_CONNECTION) private readonly db: DataSource) {}

  /**
   * Opens a snapshot of the tickets `query` selects and counts them, up to
   * `countCap`; `onRelease` runs once its connection is given up.
   */
  async openTickets(query: TicketRowsQuery, countCap: number, onRelease?: () => void): Promise<TicketSnapshot> {
    // Straight from the pg Pool rather than through a TypeORM query runner:
    // stopping a COPY midway takes destroying its connection
    // (`release(true)`), which a query runner cannot do.
    const client = await poolOf(this.db).connect();
    // A connection that fails while no statement of ours runs on it (its
    // backend ended between statements, or once a COPY was cut short) tells
    // so by an 'error' event, which unheard would end the process: the pool
    // listens only while a connection is idle. What runs on it sees the
    // failure itself. One listener per connection, for its whole life.
    if (!quieted.has(client)) {
      client.on('error', () => undefined);
      quieted.add(client);
    }
    try {
      // Planned for its values (plan_cache_mode: src/analytics/prepared-statements.ts): a range scan.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL plan_cache_mode = auto');
      const { text, values } = compileTicketRowCount(query, countCap);
      const { rows } = await client.query<{ count: number }>(text, values);
      // The rows then take as long as the client takes to read them, which the
      // analytics statement timeout must not cut short (it runs from the first
      // fetch of a cursor, and through a whole COPY). Their number is bounded:
      // the count ran under that timeout, and the caller refuses too many.
      await client.query('SET LOCAL statement_timeout = 0');
      // Rows go out in the order of the (organization_id, created_at, id) index as
      // they are read, so the first byte leaves at once: left to itself the
      // planner may prefer scanning the whole multi-tenant table and sorting,
      // which holds everything back until the sort is done (seconds at 1M rows).
      await client.query('SET LOCAL enable_sort = off');
      await client.query('SET LOCAL enable_seqscan = off');
      return new TicketSnapshot(client, query, rows[0].count, onRelease);
    } catch (error) {
      client.release(true);
      throw error;
    }
  }
}
