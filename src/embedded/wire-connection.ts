import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from '@nestjs/common';
import type { Socket } from 'node:net';
import { ClientOutput } from './client-output.js';
import { ResponseTracker, type SessionLock } from './pglite-session.js';
import { SCRAM_SHA_256, type ScramVerifier } from './scram.js';
import {
  CANCEL_REQUEST,
  COPY_FROM_STDIN_REFUSED,
  errorResponse,
  FrameReader,
  GSSENC_REQUEST,
  message,
  ProtocolViolation,
  SSL_REQUEST,
  startupParameters,
} from './wire-protocol.js';

const TERMINATE = 0x58; // 'X'
const QUERY = 0x51; // 'Q'
const EXECUTE = 0x45; // 'E'
const PASSWORD_MESSAGE = 0x70; // 'p': SASLInitialResponse, SASLResponse
/** Messages received and not yet run, beyond which the server stops reading the client. */
const INPUT_HIGH_WATER_MARK = 1024 * 1024;
/** PostgreSQL's authentication_timeout is a minute; a local client needs far less. */
const AUTHENTICATION_TIMEOUT_MS = 10_000;

export interface ConnectionSettings {
  readonly db: PGlite;
  readonly session: SessionLock;
  readonly logger: Logger;
  readonly verifier: ScramVerifier;
  readonly outputHighWaterMark: number;
}

type Scram = ReturnType<ScramVerifier['start']>;

/**
 * One client connection: the startup and SCRAM exchange first (nothing
 * reaches PGlite before the client proved the password), then its messages
 * run in order while it holds the session.
 */
export class WireConnection {
  readonly closed: Promise<void>;
  readonly output: ClientOutput;
  private readonly reader = new FrameReader();
  private readonly response = new ResponseTracker();
  private readonly authenticationTimer: NodeJS.Timeout;
  private startup: Buffer | null = null;
  private scram: Scram | null = null;
  private authenticated = false;
  /** The socket closed or the connection was refused: nothing more runs. */
  private ended = false;
  /** The client sent Terminate: what came before it still runs. */
  private terminated = false;
  private holdsSession = false;
  private queuedBytes = 0;
  private work: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: Socket,
    private readonly settings: ConnectionSettings,
  ) {
    socket.setNoDelay(true);
    this.output = new ClientOutput(socket, settings.outputHighWaterMark);
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('error', () => undefined); // 'close' follows and cleans up.
    this.authenticationTimer = setTimeout(
      () => this.refuse('08006', 'authentication timed out'),
      AUTHENTICATION_TIMEOUT_MS,
    );
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.ended = true;
        clearTimeout(this.authenticationTimer);
        this.work = this.work.then(() => this.cleanUp()).finally(resolve);
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    if (this.ended || this.terminated) return;
    this.reader.push(chunk);
    try {
      for (let next = this.reader.next(); next && !this.ended && !this.terminated; next = this.reader.next()) {
        if (!this.authenticated) {
          this.handshake(next);
        } else if (next[0] === TERMINATE) {
          // Not passed on: after what came before it has run, a client that
          // leaves is cleaned up like one that vanished.
          this.terminated = true;
          this.work = this.work.then(() => void this.socket.end());
        } else {
          this.enqueue(next);
        }
      }
    } catch (error) {
      if (!(error instanceof ProtocolViolation)) throw error;
      this.refuse(error.code, error.message);
    }
  }

  /** Startup, then SCRAM-SHA-256; on success the startup message is run by PGlite, which answers AuthenticationOk. */
  private handshake(frame: Buffer): void {
    if (!this.startup) {
      const code = frame.readInt32BE(4);
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        this.socket.write('N');
      } else if (code === CANCEL_REQUEST) {
        // PGlite has no other backend to signal: a cancel cannot stop anything.
        this.socket.end();
        this.ended = true;
      } else if (code >> 16 !== 3) {
        this.refuse('0A000', `unsupported frontend protocol ${code >> 16}.${code & 0xffff}`);
      } else {
        this.startup = frame;
        this.reader.started = true;
        this.socket.write(message('R', 10, `${SCRAM_SHA_256}\0`, '\0'));
      }
      return;
    }
    if (frame[0] !== PASSWORD_MESSAGE) throw new ProtocolViolation('expected a SASL response');
    try {
      if (!this.scram) {
        const mechanismEnd = frame.indexOf(0, 5);
        if (frame.toString('utf8', 5, mechanismEnd) !== SCRAM_SHA_256)
          throw new ProtocolViolation('unsupported SASL mechanism');
        this.scram = this.settings.verifier.start(frame.toString('utf8', mechanismEnd + 5));
        this.socket.write(message('R', 11, this.scram.serverFirst));
        return;
      }
      const serverFinal = this.scram.finish(frame.toString('utf8', 5));
      if (serverFinal === null) {
        const user = startupParameters(this.startup).get('user') ?? '';
        this.refuse('28P01', `password authentication failed for user "${user}"`);
        return;
      }
      this.socket.write(message('R', 12, serverFinal));
    } catch (error) {
      if (error instanceof ProtocolViolation) throw error;
      throw new ProtocolViolation((error as Error).message);
    }
    this.authenticated = true;
    clearTimeout(this.authenticationTimer);
    this.enqueue(this.startup);
  }

  /** Ends the connection with an ErrorResponse; whatever it held in the session is rolled back on close. */
  private refuse(code: string, text: string): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.end(errorResponse(code, text));
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Runs `frame` after the ones before it; stops reading the client while too much waits. */
  private enqueue(frame: Buffer): void {
    this.queuedBytes += frame.length;
    if (this.queuedBytes > INPUT_HIGH_WATER_MARK) this.socket.pause();
    this.work = this.work.then(async () => {
      try {
        await this.run(frame);
      } finally {
        this.queuedBytes -= frame.length;
        if (this.queuedBytes <= INPUT_HIGH_WATER_MARK && this.socket.isPaused()) this.socket.resume();
      }
    });
  }

  private async run(frame: Buffer): Promise<void> {
    // Nothing more is pulled from PGlite while the client has not taken what it was sent.
    await this.output.ready();
    if (this.ended) return;
    if (!this.holdsSession) {
      await this.settings.session.acquire();
      this.holdsSession = true;
      if (this.ended) return; // cleanUp, queued behind, gives the session back.
    }
    if (this.settings.session.broken) {
      this.socket.destroy();
      return;
    }
    const type = frame[0];
    const input = type === QUERY || type === EXECUTE ? Buffer.concat([frame, COPY_FROM_STDIN_REFUSED]) : frame;
    try {
      await this.execute(input, (data) => this.output.write(data));
    } catch (error) {
      this.settings.session.broken = true;
      this.settings.logger.error(`the embedded database failed and must be restarted: ${(error as Error).message}`);
      this.socket.destroy();
      return;
    }
    if (this.response.idle) this.releaseSession();
  }

  /**
   * Leaves the session as a vanished client would have left a real backend:
   * no transaction open, implicit or explicit. (No COPY IN can be open: each
   * Query and Execute carries its CopyFail.)
   */
  private async cleanUp(): Promise<void> {
    if (!this.holdsSession) return;
    if (this.settings.session.broken) return this.releaseSession();
    try {
      const discard = () => undefined;
      if (this.response.failedSinceReady) await this.execute(message('S'), discard);
      if (!this.response.idle) await this.execute(message('Q', 'ROLLBACK\0'), discard);
    } catch (error) {
      this.settings.logger.error(`could not roll back after a client went away: ${(error as Error).message}`);
    } finally {
      this.releaseSession();
    }
  }

  private execute(input: Uint8Array, write: (data: Uint8Array) => void): Promise<void> {
    const { db } = this.settings;
    return db.runExclusive(() =>
      db.execProtocolRawStream(input, {
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
    this.settings.session.release();
  }
}
