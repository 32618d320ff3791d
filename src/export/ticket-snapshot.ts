import { Logger } from '@nestjs/common';
import { finished, type Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import copyStreams from 'pg-copy-streams';
import Cursor from 'pg-cursor';
import {
  compileTicketRows,
  type TicketRecord,
  type TicketRowsQuery,
  type TicketRowsShape,
} from '../metrics/ticket-rows.compiler.js';
import { compileTicketRowsCopy } from './ticket-rows-copy.js';

/**
 * An export's raw tickets, held in a read-only REPEATABLE READ transaction on
 * one connection of the analytics pool, so the rows sent are exactly the ones
 * counted. The rows stream out at the pace the client reads them.
 *
 * The connection is given back exactly once: committed and returned to the
 * pool when the rows were read to the end, destroyed otherwise (an error, a
 * client that went away, a file that was never sent). Destroying it is the
 * only way to stop a COPY midway, and it rolls the transaction back.
 */
export class TicketSnapshot {
  private readonly logger = new Logger('Export');
  private client: PoolClient | null;

  constructor(
    client: PoolClient,
    private readonly query: TicketRowsQuery,
    /** How many rows the snapshot holds, counted up to the cap it was opened with. */
    readonly count: number,
    /** Called once, when the connection is given up. */
    private readonly onRelease: () => void = () => undefined,
  ) {
    this.client = client;
  }

  /** The rows as CSV with a header line, as PostgreSQL's COPY writes it. */
  copyCsv(): Readable {
    const stream = this.held().query(copyStreams.to(compileTicketRowsCopy(this.query)));
    this.releaseWith(stream);
    return stream;
  }

  /** The rows in batches through a cursor; stopping early gives the connection up. */
  async *batches(shape: TicketRowsShape, size: number): AsyncGenerator<TicketRecord[]> {
    const client = this.held();
    const { text, values } = compileTicketRows(this.query, shape);
    const cursor = client.query(new Cursor<TicketRecord>(text, values));
    let complete = false;
    try {
      for (let rows = await cursor.read(size); rows.length > 0; rows = await cursor.read(size)) yield rows;
      complete = true;
    } finally {
      if (!complete) this.abort();
    }
    await this.end();
  }

  /**
   * Gives the connection up when `stream` is over: committed when it ended,
   * destroyed otherwise. What reads the stream reports its errors; the one
   * listener here only keeps a late error (the driver's "Connection
   * terminated" after a destroy) from ending the process.
   */
  private releaseWith(stream: Readable): void {
    stream.on('error', () => undefined);
    finished(stream, (error) => (error ? this.abort() : void this.end()));
  }

  /** Commits and returns the connection to the pool. */
  async end(): Promise<void> {
    const client = this.take();
    if (!client) return;
    try {
      await client.query('COMMIT');
      client.release();
    } catch (error) {
      this.logger.warn(`export snapshot did not commit: ${(error as Error).message}`);
      client.release(true);
    }
  }

  /** Destroys the connection, which stops whatever runs on it. Safe to call at any time, more than once. */
  abort(): void {
    this.take()?.release(true);
  }

  private held(): PoolClient {
    if (!this.client) throw new Error('the export snapshot was already given up');
    return this.client;
  }

  private take(): PoolClient | null {
    const client = this.client;
    this.client = null;
    if (client) this.onRelease();
    return client;
  }
}
