import { BeforeApplicationShutdown, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { DashboardService } from '../analytics/dashboard.service.js';
import { TimeSeriesService } from '../analytics/time-series.service.js';
import { Clock } from '../common/clock.js';
import { formatTimestamp } from '../common/time.js';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from './realtime.contract.js';
import { SocketNamespace } from './socket-namespace.js';
import { SubscriptionData } from './subscription-data.js';
import { SubscriptionRooms, type Room } from './subscription-rooms.js';
import { subscriptionRoom, windowRange, type NormalizedSubscription } from './subscription.js';
import { WriteChannels } from './write-channels.js';

export type AnalyticsSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type SubscriptionPayload = Parameters<ServerToClientEvents['subscription_data']>[0];

/**
 * Subscriptions and their tickers. Sockets with one normalized subscription
 * share a room; each instance runs one ticker per room that has sockets on
 * it, computing through the cached executor (so instances share the work)
 * and sending each update once to the room's local sockets.
 *
 * A socket is in at most one room, whatever the order in which its
 * subscribes, unsubscribes and disconnect arrive or finish: every one of them
 * counts in `socket.data.subscribeSeq`, and a subscribe that a later event
 * overtook while its data was being built changes nothing any more.
 */
@Injectable()
export class RealtimeService implements BeforeApplicationShutdown, OnModuleDestroy {
  private readonly logger = new Logger('Realtime');
  private readonly rooms = new SubscriptionRooms({
    roomOpened: (room) => this.startTicker(room),
    roomClosed: (room) => this.stopTicker(room),
    organizationClosed: (organizationId) => this.writes.release(organizationId),
  });
  /** Tickers started and not stopped: one per room, or a room has leaked its ticker. */
  private tickers = 0;
  private readonly data = new SubscriptionData<SubscriptionPayload>(
    (room) => this.subscriptionData(room),
    (payload, socketIds) => this.sockets.emitToSockets(socketIds, 'subscription_data', payload),
  );

  constructor(
    private readonly timeSeries: TimeSeriesService,
    private readonly dashboard: DashboardService,
    private readonly clock: Clock,
    private readonly sockets: SocketNamespace,
    private readonly writes: WriteChannels,
  ) {}

  /**
   * On shutdown every socket of this instance is told to go (socket.io's
   * "io server disconnect" reason) before the HTTP server closes, so
   * wallboards reconnect at once, through the load balancer, to an instance
   * that stays.
   */
  beforeApplicationShutdown(): void {
    this.sockets.disconnectLocal();
  }

  /** Runs before the shutdown hook above, so no ticker fires while sockets leave. */
  onModuleDestroy(): void {
    for (const room of this.rooms.all()) this.stopTicker(room);
  }

  /**
   * Moves the socket to the subscription's room and sends it
   * `subscription_data`, unless a later subscribe, an unsubscribe or the
   * disconnect overtakes this one before its data is ready (then nothing is
   * sent for it). A failed subscribe leaves the socket in no room.
   */
  async subscribe(socket: AnalyticsSocket, subscription: NormalizedSubscription): Promise<void> {
    const seq = this.leave(socket);
    if (!socket.connected) return;
    const organizationId = socket.data.organizationId;
    const name = subscriptionRoom(organizationId, subscription);
    // The socket joins before the data is built, so no metric_update of a
    // write committed meanwhile is lost; the data may then count it too.
    void socket.join(name);
    socket.data.room = name;
    const room = this.rooms.join(name, organizationId, subscription, socket.id);
    const current = () => socket.connected && socket.data.subscribeSeq === seq;
    try {
      // Writes of other instances reach this one from here on: the first room
      // of the organization here subscribes to its channel (at most a second's
      // wait); later ones find it held. The last room to close releases it.
      await this.writes.hold(organizationId);
      if (!current()) return;
      await this.data.request(room, socket.id, current);
    } catch (error) {
      if (current()) this.leave(socket);
      throw error;
    }
  }

  /** Leaves the socket's room, if any; a subscribe still under way is dropped. */
  unsubscribe(socket: AnalyticsSocket): void {
    this.leave(socket);
  }

  /** This instance's subscription rooms of one organization (for metric_update). */
  roomsOf(organizationId: number): readonly Room[] {
    return this.rooms.ofOrganization(organizationId);
  }

  /** Read-only, for tests: the rooms with their sockets, the tickers running, the builds under way. */
  inspect(): { rooms: { name: string; sockets: string[] }[]; tickers: number; builds: number } {
    return {
      rooms: this.rooms.all().map((room) => ({ name: room.name, sockets: [...room.sockets] })),
      tickers: this.tickers,
      builds: this.data.busy,
    };
  }

  /** Leaves the room synchronously (socket.io's in-memory and Redis adapters both do) and returns the new sequence number. */
  private leave(socket: AnalyticsSocket): number {
    socket.data.subscribeSeq = (socket.data.subscribeSeq ?? 0) + 1;
    const name = socket.data.room;
    if (name) {
      socket.data.room = undefined;
      void socket.leave(name);
      this.rooms.leave(name, socket.id);
    }
    return socket.data.subscribeSeq;
  }

  private async subscriptionData(room: Room): Promise<SubscriptionPayload> {
    const series = await this.series(room.organizationId, room.subscription);
    return {
      organization_id: room.organizationId,
      timestamp: formatTimestamp(this.clock.now()),
      subscription: room.subscription,
      metrics: Object.fromEntries(
        series.map((s) => [
          s.metric_type,
          { data_points: s.data_points, average_value: s.average_value, total_count: s.total_count },
        ]),
      ),
    };
  }

  private startTicker(room: Room): void {
    room.timer = setInterval(() => void this.tick(room), room.subscription.interval * 1000);
    room.timer.unref();
    this.tickers += 1;
  }

  private stopTicker(room: Room): void {
    if (!room.timer) return;
    clearInterval(room.timer);
    room.timer = undefined;
    this.tickers -= 1;
  }

  /** One update for the whole room; a tick still running when the next is due is not doubled. */
  private async tick(room: Room): Promise<void> {
    if (room.ticking) return;
    room.ticking = true;
    try {
      const { subscription, organizationId } = room;
      const range = { ...windowRange(subscription, this.clock.now()), timezone: subscription.timezone };
      const [series, snapshot] = await Promise.all([
        this.series(organizationId, subscription),
        this.dashboard.cached(organizationId, range, false).then((r) => JSON.parse(r.body)),
      ]);
      // Volatile: a socket whose buffer is still full skips this update and catches up on the next.
      this.sockets.emitLocal(
        room.name,
        'periodic_update',
        {
          organization_id: organizationId,
          timestamp: formatTimestamp(this.clock.now()),
          metrics: Object.fromEntries(series.map((s) => [s.metric_type, s.data_points.at(-1) ?? null])),
          dashboard_snapshot: {
            total_tickets: snapshot.total_tickets,
            open_tickets: snapshot.open_tickets,
            resolved_tickets: snapshot.resolved_tickets,
            avg_response_time_hours: snapshot.avg_response_time_hours,
            queue: snapshot.queue,
          },
        },
        { volatile: true },
      );
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
