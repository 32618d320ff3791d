import { Injectable } from '@nestjs/common';
import type { Namespace, Socket } from 'socket.io';
import type {
  ClientToServerEvents,
  InterServerEvents,
  ServerToClientEvents,
  SocketData,
} from './realtime.contract.js';

export type AnalyticsNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type AnalyticsSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type Payload<E extends keyof ServerToClientEvents> = Parameters<ServerToClientEvents[E]>[0];

/**
 * The owner of this instance's `/analytics` namespace: the one way the
 * realtime services send to sockets. socket.io creates the namespace and
 * the gateway hands it over once; before that (or in a context with no
 * socket server) there is nobody to send to and sends do nothing.
 */
@Injectable()
export class SocketNamespace {
  private namespace?: AnalyticsNamespace;

  bind(namespace: AnalyticsNamespace): void {
    if (this.namespace) throw new Error('the /analytics namespace is bound already');
    this.namespace = namespace;
  }

  /**
   * To this instance's sockets in `rooms` (room names or socket ids), encoded
   * once for all of them. Volatile: a socket whose previous data is still
   * unsent skips this message.
   */
  emitLocal<E extends keyof ServerToClientEvents>(
    rooms: string | string[],
    event: E,
    payload: Payload<E>,
    options: { volatile?: boolean } = {},
  ): void {
    if (!this.namespace) return;
    const target = this.namespace.local.to(rooms);
    (options.volatile ? target.volatile : target).emit(event, ...([payload] as Parameters<ServerToClientEvents[E]>));
  }

  /** Sends every socket of this instance away ("io server disconnect"). */
  disconnectLocal(): void {
    this.namespace?.local.disconnectSockets(true);
  }

  /** Read-only: this instance's rooms and their sockets as the adapter holds them, without each socket's own room. */
  localRooms(): Map<string, string[]> {
    const rooms = new Map<string, string[]>();
    for (const [room, sockets] of this.namespace?.adapter.rooms ?? []) {
      if (!sockets.has(room)) rooms.set(room, [...sockets]);
    }
    return rooms;
  }

  /**
   * Read-only, for tests: this instance's sockets, and what socket.io and
   * engine.io hold for sockets: the adapter's rooms (each socket's own
   * included) and socket ids, and engine.io's open connections (of every namespace).
   */
  inspect(): { sockets: AnalyticsSocket[]; rooms: number; sids: number; connections: number } {
    const namespace = this.namespace;
    if (!namespace) return { sockets: [], rooms: 0, sids: 0, connections: 0 };
    return {
      sockets: [...namespace.sockets.values()],
      rooms: namespace.adapter.rooms.size,
      sids: namespace.adapter.sids.size,
      connections: namespace.server.engine.clientsCount,
    };
  }
}
