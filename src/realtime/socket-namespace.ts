import { Injectable } from '@nestjs/common';
import type { Namespace, Socket } from 'socket.io';
import { PacketType } from 'socket.io-parser';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from './realtime.contract.js';

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

  /**
   * To each of `socketIds` still connected to this instance, encoded once and
   * written to each socket as text, for a message that a few sockets get once
   * (the answer to their subscribe). A room broadcast (`emitLocal`) shares one
   * pre-encoded frame, a Buffer that only V8's collector frees; Node's copy of
   * the text is freed as soon as the socket has taken the write. So a burst of
   * subscribes does not leave its answers' memory behind: 5,000 sockets
   * subscribing got ~1,400 distinct answers of 36 KB, and as frames they grew
   * the C allocator's heap by 48 MB that stayed after the sockets left, as
   * text by 7 MB (bench/socket-memory.mjs). Written straight to each
   * socket's client, without the call that tells socket.io's `onAnyOutgoing`
   * listeners (Pulse has none): they do not see these messages.
   */
  emitToSockets<E extends keyof ServerToClientEvents>(
    socketIds: readonly string[],
    event: E,
    payload: Payload<E>,
  ): void {
    const namespace = this.namespace;
    if (!namespace) return;
    const encoded = namespace.server.encoder.encode({
      type: PacketType.EVENT,
      data: [event, payload],
      nsp: namespace.name,
    });
    for (const id of socketIds) namespace.sockets.get(id)?.client._packet(encoded, { preEncoded: true });
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
