import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { Adapter } from 'socket.io-adapter';
import type { Observable } from 'rxjs';
import type { Server, ServerOptions, Socket } from 'socket.io';
import type { AppConfig } from '../config/app-config.js';
import { createPubSubClients, type RedisClient } from '../redis/redis-client.js';

/**
 * The host of an Origin header, or null for one that is not a URL: `null`
 * (sandboxed iframes, file:// pages) or garbage, which is then refused like
 * any other origin that is not allowed.
 */
function hostOf(origin: string): string | null {
  try {
    return new URL(origin).host || null;
  } catch {
    return null;
  }
}

/** Embedded mode: one process, so there is no other server to tell (the base class warns on every call). */
class SingleProcessAdapter extends Adapter {
  override serverSideEmit(): void {}
}

/**
 * socket.io over the Redis adapter's sharded adapter (in embedded mode,
 * socket.io's in-memory one), so a server-side emit (and a broadcast) on one
 * instance reaches the handlers and sockets of all of them, through the
 * clients redis/ makes for it: on one Redis or on a Redis Cluster.
 */
export class RedisIoAdapter extends IoAdapter {
  private readonly clients: RedisClient[] = [];

  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    // Browsers may open the socket from the same origin or from CORS_ORIGINS
    // only; CORS alone does not cover WebSocket handshakes, so they are checked too.
    const allowed = new Set(this.config.corsOrigins);
    const server: Server = super.createIOServer(port, {
      ...options,
      cors: { origin: allowed.size > 0 ? [...allowed] : false },
      allowRequest: (request, callback) => {
        const origin = request.headers.origin;
        callback(null, origin === undefined || allowed.has(origin) || hostOf(origin) === request.headers.host);
      },
    } as ServerOptions);
    if (this.config.embedded) {
      server.adapter(SingleProcessAdapter);
      return server;
    }
    const { pub, sub } = createPubSubClients(this.config);
    this.clients.push(pub, sub);
    // Sharded pub/sub (SPUBLISH, SSUBSCRIBE: Redis 7): on a cluster each
    // channel lives on the master owning its slot, instead of every message
    // crossing the cluster bus to every node. `static`: the namespace's two
    // channels only. Pulse sends to rooms locally (SocketNamespace.emitLocal)
    // and tells the other instances about writes by server-side emit, so a
    // channel per room ("dynamic", the default) would only add an SSUBSCRIBE
    // and an SUNSUBSCRIBE per room and instance.
    server.adapter(
      createShardedAdapter(pub, sub, { channelPrefix: `${this.config.redisKeyPrefix}:io`, subscriptionMode: 'static' }),
    );
    return server;
  }

  /**
   * Each message handler as one plain listener on the socket. Nest's own
   * binding builds an RxJS pipeline per socket and handler (a dozen
   * subscribers with their closures and contexts, kept as long as the socket
   * lives: half of a connected socket's heap, ~14 KB); here a message's pipeline lives only while its handler
   * runs. What a handler sees and answers is the same: its result (or each
   * value of an Observable) is the ack, or an emit when it names an `event`;
   * nothing is answered once the socket has gone, and a handler's error is
   * logged.
   */
  override bindMessageHandlers(
    socket: Socket,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      socket.on(message as string, (...args: unknown[]) => {
        // As RxJS's fromEvent hands them on: the one argument, or all of them.
        const { data, ack } = this.mapPayload(args.length > 1 ? args : args[0]);
        const answer = (response: unknown) => {
          if (response === null || response === undefined || !socket.connected) return;
          const { event, data: payload } = response as { event?: string; data?: unknown };
          if (event) socket.emit(event, payload);
          else if (!isAckHandledManually && typeof ack === 'function') ack(response);
        };
        const fail = (error: unknown) => this.logger.error(error);
        try {
          transform(callback(data, ack)).subscribe({ next: answer, error: fail });
        } catch (error) {
          fail(error);
        }
      });
    }
  }

  override async close(server: Server): Promise<void> {
    await super.close(server);
    for (const client of this.clients) client.disconnect();
  }
}
