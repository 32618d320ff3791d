import type { PGlite } from '@electric-sql/pglite';
import { Logger } from '@nestjs/common';
import { createServer, type Server } from 'node:net';
import { OUTPUT_HIGH_WATER_MARK } from './client-output.js';
import { SessionLock } from './pglite-session.js';
import { ScramVerifier } from './scram.js';
import { WireConnection } from './wire-connection.js';

export interface WireServerOptions {
  /** The password every client must prove (SCRAM-SHA-256); made per run by the caller. */
  readonly password: string;
  /** Client connections accepted at once (both pools of the app, the seeder, a test's own pool). */
  readonly maxConnections?: number;
  /** Output held in memory per client before the rest waits on disk. */
  readonly outputHighWaterMark?: number;
}

/** What the clients' connections hold now: memory, disk, count. */
export interface WireServerStats {
  readonly connections: number;
  /** Output held in memory for clients, socket buffers included. */
  readonly bufferedBytes: number;
  /** Output waiting on disk for clients that read slowly. */
  readonly spilledBytes: number;
}

/**
 * A PostgreSQL wire-protocol server in front of one PGlite, for any number of
 * `pg` connections.
 *
 * PGlite is one backend, one session. `PGLiteSocketServer` (pglite-socket
 * 0.2.17) multiplexes connections message by message and only keeps a
 * connection's turn during an explicit transaction block, so the extended
 * protocol of one connection (Parse, Bind, Execute, Sync) interleaves with
 * another's: unnamed statements and portals get replaced under it, cursors
 * vanish, COPY breaks the protocol and concurrent transactions hang. Here a
 * connection holds the session from its first message until PGlite answers
 * ReadyForQuery with status idle: a whole statement, a whole transaction, a
 * whole COPY or cursor, never interleaved with another connection.
 *
 * It also guards what a raw socket would leave open: a client proves the
 * run's password before anything reaches PGlite, a message longer than
 * MAX_MESSAGE_LENGTH or with a malformed length ends its connection, a slow
 * reader's output waits on disk rather than in memory, and a
 * `COPY … FROM STDIN` (which would end PGlite) fails as a statement.
 *
 * What remains of PGlite being one session: the others wait while one holds
 * it (a transaction that waits on another connection deadlocks), `SET` is
 * seen by every connection, and `statement_timeout` never fires.
 */
export class PgliteWireServer {
  private readonly logger = new Logger('PgliteWireServer');
  private readonly server: Server;
  private readonly session = new SessionLock();
  private readonly connections = new Set<WireConnection>();

  constructor(
    private readonly db: PGlite,
    options: WireServerOptions,
  ) {
    const settings = {
      db,
      session: this.session,
      logger: this.logger,
      verifier: new ScramVerifier(options.password),
      outputHighWaterMark: options.outputHighWaterMark ?? OUTPUT_HIGH_WATER_MARK,
    };
    this.server = createServer((socket) => {
      const connection = new WireConnection(socket, settings);
      this.connections.add(connection);
      void connection.closed.then(() => this.connections.delete(connection));
    });
    this.server.maxConnections = options.maxConnections ?? 100;
  }

  /** Listens on `host:port` (0 for a free port) and returns the port. */
  async listen(port: number, host: string): Promise<number> {
    await this.db.waitReady;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
    return address.port;
  }

  stats(): WireServerStats {
    let bufferedBytes = 0;
    let spilledBytes = 0;
    for (const connection of this.connections) {
      bufferedBytes += connection.output.bufferedBytes;
      spilledBytes += connection.output.spilledBytes;
    }
    return { connections: this.connections.size, bufferedBytes, spilledBytes };
  }

  /** Stops accepting, ends every connection (rolling back what it left open) and waits for them. */
  async close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const connections = [...this.connections];
    for (const connection of connections) connection.destroy();
    await Promise.all(connections.map((c) => c.closed));
    await stopped;
  }
}
