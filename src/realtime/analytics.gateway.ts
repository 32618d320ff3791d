import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { TokenService } from '../auth/token.service.js';
import { Clock } from '../common/clock.js';
import { formatTimestamp } from '../common/time.js';
import { Telemetry } from '../observability/telemetry.service.js';
import type { SubscribeReply } from './realtime.contract.js';
import { RealtimeService, type AnalyticsSocket } from './realtime.service.js';
import { SocketLimits } from './socket-limits.js';
import { SocketNamespace, type AnalyticsNamespace } from './socket-namespace.js';
import { normalizeSubscription, SubscriptionError } from './subscription.js';

/**
 * The `/analytics` namespace of API.md §5. A socket is authenticated in the
 * handshake middleware, so a bad token never reaches a handler; its
 * organization comes from the token and it joins only that organization's rooms.
 */
@WebSocketGateway({ namespace: '/analytics' })
export class AnalyticsGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    private readonly tokens: TokenService,
    private readonly realtime: RealtimeService,
    private readonly sockets: SocketNamespace,
    private readonly limits: SocketLimits,
    private readonly clock: Clock,
    private readonly telemetry: Telemetry,
  ) {}

  afterInit(namespace: AnalyticsNamespace): void {
    this.sockets.bind(namespace);
    namespace.use((socket, next) => {
      const { auth, query } = socket.handshake;
      const token =
        typeof auth?.token === 'string' ? auth.token : typeof query?.token === 'string' ? query.token : null;
      try {
        if (!token) throw new Error('no token');
        // Checked once per connection: not kept in the token cache, which is the HTTP callers'.
        const principal = this.tokens.verify(token, { remember: false });
        Object.assign(socket.data, {
          organizationId: principal.organizationId,
          subject: principal.subject,
          expiresAt: principal.expiresAt.getTime(),
          subscribeSeq: 0,
        });
        next();
      } catch {
        next(new Error('unauthorized'));
      }
    });
  }

  handleConnection(socket: AnalyticsSocket): void {
    this.telemetry.sockets.inc();
    this.limits.apply(socket);
    socket.emit('connected', {
      organization_id: socket.data.organizationId,
      timestamp: formatTimestamp(this.clock.now()),
      message: 'Connected to real-time analytics',
    });
  }

  handleDisconnect(socket: AnalyticsSocket): void {
    this.telemetry.sockets.dec();
    this.realtime.unsubscribe(socket);
  }

  @SubscribeMessage('subscribe')
  async subscribe(
    @ConnectedSocket() socket: AnalyticsSocket,
    @MessageBody() message: unknown,
  ): Promise<SubscribeReply> {
    try {
      const subscription = normalizeSubscription(message);
      await this.realtime.subscribe(socket, subscription);
      return { ok: true, subscription };
    } catch (error) {
      const reason = error instanceof SubscriptionError ? error.message : 'subscription failed; try again';
      socket.emit('exception', { status: 'error', message: reason });
      return { ok: false, error: reason };
    }
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() socket: AnalyticsSocket): { ok: true } {
    this.realtime.unsubscribe(socket);
    return { ok: true };
  }

  @SubscribeMessage('ping')
  ping(@ConnectedSocket() socket: AnalyticsSocket): { timestamp: string } {
    const pong = { timestamp: formatTimestamp(this.clock.now()) };
    socket.emit('pong', pong);
    return pong;
  }
}
