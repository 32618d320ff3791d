import { BeforeApplicationShutdown, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Namespace, Socket } from 'socket.io';
import { DashboardService } from '../analytics/dashboard.service.js';
import { TimeSeriesService } from '../analytics/time-series.service.js';
import { Clock } from '../common/clock.js';
import { formatTimestamp } from '../common/time.js';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from './realtime.contract.js';
import { SubscriptionRooms, type Room } from './subscription-rooms.js';
import { subscriptionRoom, windowRange, type NormalizedSubscription } from './subscription.js';

export type AnalyticsNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type AnalyticsSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/**
 * Subscriptions and their tickers. Sockets with one normalized subscription
 * share a room; each instance runs one ticker per room that has sockets on
 * it, computing through the cached executor (so instances share the work)
 * and sending each update once to the room's local sockets.
 */
@Injectable()
export class RealtimeService implements BeforeApplicationShutdown, OnModuleDestroy {
  private readonly logger = new Logger('Realtime');
  namespace?: AnalyticsNamespace;
  readonly rooms = new SubscriptionRooms(
    (room) => this.startTicker(room),
    (room) => clearInterval(room.timer),
  );

  constructor(
    private readonly timeSeries: TimeSeriesService,
    private readonly dashboard: DashboardService,
    private readonly clock: Clock,
  ) {}

  attach(namespace: AnalyticsNamespace): void {
    this.namespace = namespace;
  }

  /**
   * On shutdown every socket of this instance is told to go (socket.io's
   * "io server disconnect" reason) before the HTTP server closes, so
   * wallboards reconnect at once, through the load balancer, to an instance
   * that stays.
   */
  beforeApplicationShutdown(): void {
    this.namespace?.local.disconnectSockets(true);
  }

  /** Runs before the shutdown hook above, so no ticker fires while sockets leave. */
  onModuleDestroy(): void {
    for (const room of this.rooms.all()) clearInterval(room.timer);
  }

  async subscribe(socket: AnalyticsSocket, subscription: NormalizedSubscription): Promise<void> {
    const organizationId = socket.data.organizationId;
    const name = subscriptionRoom(organizationId, subscription);
    this.unsubscribe(socket);
    await socket.join(name);
    socket.data.room = name;
    this.rooms.join(name, organizationId, subscription, socket.id);
    const series = await this.series(organizationId, subscription);
    socket.emit('subscription_data', {
      organization_id: organizationId,
      timestamp: formatTimestamp(this.clock.now()),
      subscription,
      metrics: Object.fromEntries(
        series.map((s) => [
          s.metric_type,
          { data_points: s.data_points, average_value: s.average_value, total_count: s.total_count },
        ]),
      ),
    });
  }

  unsubscribe(socket: AnalyticsSocket): void {
    if (!socket.data.room) return;
    void socket.leave(socket.data.room);
    this.rooms.leave(socket.data.room, socket.id);
    socket.data.room = undefined;
  }

  private startTicker(room: Room): void {
    room.timer = setInterval(() => void this.tick(room), room.subscription.interval * 1000);
    room.timer.unref();
  }

  /** One update for the whole room; a tick still running when the next is due is not doubled. */
  private async tick(room: Room): Promise<void> {
    if (room.ticking || !this.namespace) return;
    room.ticking = true;
    try {
      const { subscription, organizationId } = room;
      const range = { ...windowRange(subscription, this.clock.now()), timezone: subscription.timezone };
      const [series, snapshot] = await Promise.all([
        this.series(organizationId, subscription),
        this.dashboard.cached(organizationId, range, false).then((r) => JSON.parse(r.body)),
      ]);
      // Volatile: a socket whose buffer is still full skips this update and catches up on the next.
      this.namespace.local.to(room.name).volatile.emit('periodic_update', {
        organization_id: organizationId,
        timestamp: formatTimestamp(this.clock.now()),
        metrics: Object.fromEntries(series.map((s) => [s.metric_type, s.data_points.at(-1) ?? null])),
        dashboard_snapshot: {
          total_tickets: snapshot.total_tickets,
          open_tickets: snapshot.open_tickets,
          resolved_tickets: snapshot.resolved_tickets,
          avg_response_time_hours: snapshot.avg_response_time_hours,
        },
      });
    } catch (error) {
      this.logger.warn(`periodic update of ${room.name} failed: ${(error as Error).message}`);
    } finally {
      room.ticking = false;
    }
  }

  private series(organizationId: number, subscription: NormalizedSubscription) {
    const range = windowRange(subscription, this.clock.now());
    return Promise.all(
      subscription.metrics.map(async (metric) => {
        const result = await this.timeSeries.cached(
          {
            organizationId,
            metric,
            ...range,
            granularity: subscription.granularity,
            timezone: subscription.timezone,
            filters: subscription.filters,
          },
          false,
        );
        return JSON.parse(result.body) as {
          metric_type: string;
          data_points: { timestamp: string; value: number | null; count: number }[];
          average_value: number | null;
          total_count: number;
        };
      }),
    );
  }
}
