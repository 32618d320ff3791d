import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { AppConfig } from '../config/app-config.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { AnalyticsSocket } from './realtime.service.js';
import { UnsentBytes } from './unsent-bytes.js';

/** Messages of one socket waiting for the limiter's verdict; past this they are refused unheard. */
const MAX_PENDING = 32;
/** How long a socket sent away for its backlog may still drain before its transport is dropped. */
const DRAIN_GRACE_MS = 5000;
/** setTimeout's longest delay; a later expiry is reached in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * The bounds every socket lives within, whoever sends what:
 * - messages per organization and token subject per window
 *   (`RATE_LIMIT_SOCKET_EVENTS` per `RATE_LIMIT_WINDOW_SECONDS`), counted by
 *   the shared RateLimiter; a message over the limit is answered with an ack
 *   `{ok: false, error}` (when the client asked for one) and `exception`, and
 *   a socket that sends a whole limit's worth more while refused is closed;
 * - bytes waiting to be sent to it (`SOCKET_MAX_UNSENT_BYTES`): past the cap
 *   the socket gets `exception` and is disconnected, so a client that stops
 *   reading cannot grow the process's memory;
 * - its token: the socket is closed, after `exception` "token expired", at
 *   the token's `exp`.
 */
@Injectable()
export class SocketLimits {
  private readonly logger = new Logger('SocketLimits');
  private readonly windowMs: number;

  constructor(
    private readonly limiter: RateLimiter,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.windowMs = config.rateLimitWindowSeconds * 1000;
  }

  /** Applies every bound to a socket that has just connected; they end with it. */
  apply(socket: AnalyticsSocket): void {
    this.limitMessages(socket);
    this.capUnsent(socket);
    this.expireWithToken(socket);
  }

  private limitMessages(socket: AnalyticsSocket): void {
    const { organizationId, subject } = socket.data;
    // In the organization's Redis Cluster slot, apart from the HTTP counts of the same caller.
    const key = `{o${organizationId}}:socket:${encodeURIComponent(subject)}`;
    const limit = this.config.rateLimitSocketEvents;
    let chain = Promise.resolve();
    let pending = 0;
    let refusedInARow = 0;
    const refuse = (packet: unknown[], retryAfterSeconds: number) => {
      const error =
        `too many messages: at most ${limit} per ${this.config.rateLimitWindowSeconds} s; ` +
        `try again in ${retryAfterSeconds} s`;
      const ack = packet.at(-1);
      if (typeof ack === 'function') (ack as (reply: unknown) => void)({ ok: false, error });
      // One exception per run of refusals: a flood is not answered message for message.
      if (refusedInARow === 0) socket.emit('exception', { status: 'error', message: error });
      refusedInARow += 1;
      if (refusedInARow >= limit) this.dismiss(socket, 'too many messages over the rate limit; disconnecting');
    };
    // socket.io's per-socket middleware sees every incoming event before its handler.
    // Verdicts are awaited in order, so the events that pass keep the order they came in.
    socket.use((packet, next) => {
      if (pending >= MAX_PENDING) return refuse(packet, this.config.rateLimitWindowSeconds);
      pending += 1;
      chain = chain
        .then(() => this.limiter.consume(key, limit, this.windowMs))
        .then(
          (verdict) => {
            if (verdict.allowed) {
              refusedInARow = 0;
              next();
            } else refuse(packet, verdict.retryAfterSeconds);
          },
          (error: Error) => {
            // A limiter that cannot answer does not cut the socket off.
            this.logger.warn(`socket rate limit unavailable: ${error.message}`);
            next();
          },
        )
        .finally(() => (pending -= 1));
    });
  }

  private capUnsent(socket: AnalyticsSocket): void {
    const cap = this.config.socketMaxUnsentBytes;
    let over = false;
    new UnsentBytes(socket.conn, cap, () => {
      if (over) return;
      over = true;
      // Not from inside engine.io's send path (possibly a broadcast's loop over sockets).
      setImmediate(() => {
        this.logger.warn(`socket ${socket.id} of organization ${socket.data.organizationId} left ${cap} bytes unread`);
        this.dismiss(socket, `more than ${cap} bytes sent to this socket are unread; disconnecting`);
      });
    });
  }

  private expireWithToken(socket: AnalyticsSocket): void {
    let timer: NodeJS.Timeout;
    const arm = () => {
      const delay = socket.data.expiresAt - this.clock.now().getTime();
      timer = setTimeout(
        () => (delay > MAX_DELAY_MS ? arm() : this.dismiss(socket, 'token expired')),
        Math.max(0, Math.min(delay, MAX_DELAY_MS)),
      );
      timer.unref();
    };
    arm();
    socket.once('disconnect', () => clearTimeout(timer));
  }

  /**
   * Tells the client why (it sees `exception`, then the "io server
   * disconnect" reason) and disconnects it. A client that does not read
   * would otherwise keep what is queued for it, and go on costing the
   * parsing of what it sends, until its ping times out: its connection is
   * dropped after a grace period.
   */
  private dismiss(socket: AnalyticsSocket, reason: string): void {
    if (!socket.connected) return;
    socket.emit('exception', { status: 'error', message: reason });
    socket.disconnect(true);
    setTimeout(() => drop(socket), DRAIN_GRACE_MS).unref();
  }
}

/**
 * Ends the connection at once: engine.io's close with discard frees its
 * write buffer. Over a WebSocket opened directly (not upgraded from
 * polling), the TCP socket of the connection's first request is the
 * WebSocket's, and is destroyed too: ws would wait 30 s for the closing
 * handshake of a peer that does not read.
 */
function drop(socket: AnalyticsSocket): void {
  const connection = socket.conn;
  if (connection.readyState !== 'closed') connection.close(true);
  // Also once engine.io has closed: ws may still be waiting for the peer's closing handshake.
  if (connection.transport.name === 'websocket' && !connection.upgraded) connection.request.socket.destroy();
}
