import type { PGlite } from '@electric-sql/pglite';
import { Logger } from '@nestjs/common';
import { createServer, type Server, type Socket } from 'node:net';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const READY_FOR_QUERY = 0x5a; // 'Z'
const ERROR_RESPONSE = 0x45; // 'E'
const COPY_IN_RESPONSE = 0x47; // 'G'
const TERMINATE = 0x58; // 'X'
const QUERY = 0x51; // 'Q'
/** PGlite cannot read COPY data from the client: it exits, and the database is gone until restarted. */
const COPY_FROM_STDIN = /^\s*copy\b[^;]*\bfrom\s+stdin\b/i;
const REFUSE_COPY_FROM_STDIN = frame(
  'Q',
  `DO $$BEGIN RAISE EXCEPTION 'COPY FROM STDIN is not supported by the embedded database; use INSERT' ` +
    `USING ERRCODE = 'feature_not_supported'; END$$\0`,
);

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
 * What remains of PGlite being one session: the others wait while one holds
 * it (a transaction that waits on another connection deadlocks), `SET` is
 * seen by every connection, and `statement_timeout` never fires. COPY TO
 * STDOUT works; COPY FROM STDIN would kill PGlite, so it fails as a statement.
 */
export class PgliteWireServer {
  private readonly logger = new Logger('PgliteWireServer');
  private readonly server: Server;
  private readonly session = new SessionLock();
  private readonly connections = new Set<WireConnection>();

  constructor(
    private readonly db: PGlite,
    maxConnections = 100,
  ) {
    this.server = createServer((socket) => {
      const connection = new WireConnection(socket, db, this.session, this.logger);
      this.connections.add(connection);
      void connection.closed.then(() => this.connections.delete(connection));
    });
    this.server.maxConnections = maxConnections;
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

  /** Stops accepting, ends every connection (rolling back what it left open) and waits for them. */
  async close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const connections = [...this.connections];
    for (const connection of connections) connection.destroy();
    await Promise.all(connections.map((c) => c.closed));
    await stopped;
  }
}

/** One client connection: frames its messages and runs them, in order, while it holds the session. */
class WireConnection {
  readonly closed: Promise<void>;
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;
  private ended = false;
  private holdsSession = false;
  private work: Promise<void> = Promise.resolve();
  private readonly response = new ResponseTracker();

  constructor(
    private readonly socket: Socket,
    private readonly db: PGlite,
    private readonly session: SessionLock,
    private readonly logger: Logger,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('error', () => undefined); // 'close' follows and cleans up.
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.ended = true;
        this.work = this.work.then(() => this.cleanUp()).finally(resolve);
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (let message = this.next(); message; message = this.next()) {
      const current = message;
      // Not passed on: a client that leaves is cleaned up like one that vanished.
      if (current[0] === TERMINATE && this.started) {
        this.socket.end();
        return;
      }
      this.work = this.work.then(() => this.run(current));
    }
  }

  /** The next complete message, answering SSL/GSS requests and dropping cancel requests on the way. */
  private next(): Buffer | null {
    for (;;) {
      if (this.started) {
        if (this.buffer.length < 5) return null;
        return this.take(1 + this.buffer.readInt32BE(1));
      }
      if (this.buffer.length < 8) return null;
      const code = this.buffer.readInt32BE(4);
      const message = this.take(this.buffer.readInt32BE(0));
      if (!message) return null;
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        this.socket.write('N');
      } else if (code === CANCEL_REQUEST) {
        // PGlite has no other backend to signal: a cancel cannot stop anything.
        this.socket.end();
        return null;
      } else {
        this.started = true;
        return message;
      }
    }
  }

  private take(length: number): Buffer | null {
    if (this.buffer.length < length) return null;
    const message = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return message;
  }

  private async run(message: Buffer): Promise<void> {
    if (this.ended) return;
    if (!this.holdsSession) {
      await this.session.acquire();
      this.holdsSession = true;
      if (this.ended) return; // cleanUp, queued behind, gives the session back.
    }
    if (this.session.broken) {
      this.socket.destroy();
      return;
    }
    const refused = message[0] === QUERY && COPY_FROM_STDIN.test(message.toString('utf8', 5, 512));
    try {
      await this.execute(refused ? REFUSE_COPY_FROM_STDIN : message, (data) => {
        if (!this.socket.destroyed) this.socket.write(Buffer.from(data));
      });
    } catch (error) {
      this.session.broken = true;
      this.logger.error(`the embedded database failed and must be restarted: ${(error as Error).message}`);
      this.socket.destroy();
      return;
    }
    if (this.response.idle) this.releaseSession();
  }

  /**
   * Leaves the session as a vanished client would have left a real backend:
   * no COPY in progress, no transaction open, implicit or explicit.
   */
  private async cleanUp(): Promise<void> {
    if (!this.holdsSession) return;
    if (this.session.broken) return this.releaseSession();
    try {
      const discard = () => undefined;
      if (this.response.lastType === COPY_IN_RESPONSE) await this.execute(frame('f', 'client went away\0'), discard);
      if (this.response.failedSinceReady) await this.execute(frame('S', ''), discard);
      if (!this.response.idle) await this.execute(frame('Q', 'ROLLBACK\0'), discard);
    } catch (error) {
      this.logger.error(`could not roll back after a client went away: ${(error as Error).message}`);
    } finally {
      this.releaseSession();
    }
  }

  private execute(message: Uint8Array, write: (data: Uint8Array) => void): Promise<void> {
    return this.db.runExclusive(() =>
      this.db.execProtocolRawStream(message, {
        onRawData: (data) => {
          this.response.feed(data);
          write(data);
        },
      }),
    );
  }

  private releaseSession(): void {
    if (!this.holdsSession) return;
    this.holdsSession = false;
    this.session.release();
  }
}

/** Follows the backend's messages across chunks to know whether the session is idle again. */
class ResponseTracker {
  /** The last message was ReadyForQuery 'I': no statement, transaction or COPY is open. */
  idle = true;
  /** An ErrorResponse came after the last ReadyForQuery: the backend skips messages until Sync. */
  failedSinceReady = false;
  lastType = 0;
  private readonly header = Buffer.alloc(5);
  private headerBytes = 0;
  private bodyLeft = 0;

  feed(data: Uint8Array): void {
    let i = 0;
    while (i < data.length) {
      if (this.bodyLeft > 0) {
        if (this.lastType === READY_FOR_QUERY) {
          this.idle = data[i] === 0x49; // 'I'; 'T' and 'E' are inside a transaction block
          this.failedSinceReady = false;
        }
        const n = Math.min(this.bodyLeft, data.length - i);
        this.bodyLeft -= n;
        i += n;
        continue;
      }
      this.header[this.headerBytes++] = data[i++];
      if (this.headerBytes < 5) continue;
      this.headerBytes = 0;
      this.lastType = this.header[0];
      this.bodyLeft = this.header.readInt32BE(1) - 4;
      this.idle = false;
      if (this.lastType === ERROR_RESPONSE) this.failedSinceReady = true;
    }
  }
}

/** First come, first served: the one session, handed from connection to connection. */
class SessionLock {
  /** PGlite failed (its program exited): nothing can run on it any more. */
  broken = false;
  private held = false;
  private readonly waiting: (() => void)[] = [];

  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }
}

/** A frontend message: type byte, length, body. */
function frame(type: string, body: string): Buffer {
  const payload = Buffer.from(body, 'utf8');
  const message = Buffer.alloc(5 + payload.length);
  message.write(type, 0, 'latin1');
  message.writeInt32BE(4 + payload.length, 1);
  payload.copy(message, 5);
  return message;
}
