import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { Clock } from '../common/clock.js';
import { formatTimestamp } from '../common/time.js';
import { DIMENSION_NAMES } from '../metrics/dimensions.js';
import { METRIC_TYPES, METRICS } from '../metrics/metric-registry.js';
import { TICKETS_COMMITTED, TicketsCommittedEvent } from '../tickets/events/tickets-committed.event.js';
import type { CommittedWrite, Contribution, MetricUpdate } from './realtime.contract.js';
import { RealtimeService } from './realtime.service.js';
import { matchesFilters, windowRange } from './subscription.js';

const COALESCE_MS = 250;

/**
 * `metric_update` from committed writes. The instance that committed a write
 * tells the others (socket.io's server-side emit through the Redis adapter);
 * every instance then tells its own subscribers whose metric, filters and
 * window the write touches, summing what arrives within 250 ms per room,
 * metric and event into one message.
 */
@Injectable()
export class MetricUpdatesService implements OnModuleDestroy {
  private readonly pending = new Map<string, { room: string; update: MetricUpdate }>();
  private flushTimer?: NodeJS.Timeout;

  constructor(
    private readonly realtime: RealtimeService,
    private readonly clock: Clock,
  ) {}

  onModuleDestroy(): void {
    clearTimeout(this.flushTimer);
  }

  /** Does not wait for anything: the write's response is not held up by sockets. */
  @OnEvent(TICKETS_COMMITTED)
  onTicketsCommitted(event: TicketsCommittedEvent): void {
    const write: CommittedWrite = { organizationId: event.organizationId, contributions: contributionsOf(event) };
    if (write.contributions.length === 0) return;
    this.realtime.namespace?.serverSideEmit('tickets_committed', write);
    this.deliver(write);
  }

  /** A write committed here or on another instance, for this instance's subscribers. */
  deliver({ organizationId, contributions }: CommittedWrite): void {
    const now = this.clock.now();
    for (const room of this.realtime.rooms.ofOrganization(organizationId)) {
      const { start, end } = windowRange(room.subscription, now);
      for (const c of contributions) {
        const at = new Date(c.at);
        if (!room.subscription.metrics.includes(c.metric) || at < start || at >= end) continue;
        if (!matchesFilters(room.subscription.filters, c.dimensions)) continue;
        const key = `${room.name}|${c.metric}|${c.event}`;
        const entry = this.pending.get(key);
        if (entry) {
          entry.update.value += c.value;
          entry.update.count += 1;
          entry.update.ticket_id = c.ticketId;
        } else {
          this.pending.set(key, {
            room: room.name,
            update: {
              organization_id: organizationId,
              metric_type: c.metric,
              value: c.value,
              count: 1,
              event: c.event,
              ticket_id: c.ticketId,
              timestamp: formatTimestamp(now),
            },
          });
        }
      }
    }
    if (this.pending.size > 0 && !this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), COALESCE_MS);
  }

  private flush(): void {
    this.flushTimer = undefined;
    const namespace = this.realtime.namespace;
    for (const { room, update } of this.pending.values()) namespace?.local.to(room).emit('metric_update', update);
    this.pending.clear();
  }
}

/** What each change of the write contributes to the metrics that announce its events (the registry says which). */
function contributionsOf(event: TicketsCommittedEvent): Contribution[] {
  return event.changes.flatMap(({ after, events }) =>
    events.flatMap((name) =>
      METRIC_TYPES.flatMap((type) => {
        const metric = METRICS[type];
        const value = metric.valueOf(after);
        const at = after[metric.timestamp];
        if (metric.announcedBy !== name || value === null || at === null) return [];
        return [
          {
            metric: type,
            event: name,
            ticketId: after.id,
            value,
            at: at.toISOString(),
            dimensions: Object.fromEntries(DIMENSION_NAMES.map((d) => [d, after[d]])),
          },
        ];
      }),
    ),
  );
}
