import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { Clock } from '../common/clock.js';
import { formatTimestamp } from '../common/time.js';
import { DIMENSION_NAMES } from '../metrics/dimensions.js';
import { METRIC_TYPES, METRICS, type MetricType, type TicketEventName } from '../metrics/metric-registry.js';
import { TICKETS_PUBLISHED, TicketsCommittedEvent } from '../tickets/events/tickets-committed.event.js';
import type { CommittedWrite, Contributions, MetricUpdate } from './realtime.contract.js';
import { RealtimeService } from './realtime.service.js';
import { SocketNamespace } from './socket-namespace.js';
import { matchesFilters, windowRange } from './subscription.js';
import { WriteChannels } from './write-channels.js';

const COALESCE_MS = 250;

/**
 * `metric_update` from committed writes. The instance that committed a write
 * tells the instances that hold rooms of its organization (WriteChannels);
 * each of them then tells its own subscribers whose metric, filters and
 * window the write touches. One write is one message per room, metric and
 * event (a bulk of 3 new tickets: value 3, count 3). The first message of a
 * room, metric and event goes out at once; what follows within 250 ms is
 * summed into one message sent when those 250 ms are over.
 */
@Injectable()
export class MetricUpdatesService implements OnModuleDestroy {
  private closed = false;
  private readonly windows = new Map<string, { room: string; pending: MetricUpdate | null; timer: NodeJS.Timeout }>();

  constructor(
    private readonly realtime: RealtimeService,
    private readonly sockets: SocketNamespace,
    private readonly writes: WriteChannels,
    private readonly clock: Clock,
  ) {
    writes.onWrite((write) => this.deliver(write));
  }

  onModuleDestroy(): void {
    this.closed = true;
    for (const { timer } of this.windows.values()) clearTimeout(timer);
  }

  /** Read-only, for tests: the rooms, metrics and events whose 250 ms window is open. */
  inspect(): { windows: number } {
    return { windows: this.windows.size };
  }

  /** After the write has been answered (tickets.published): its response never waits for sockets. */
  @OnEvent(TICKETS_PUBLISHED)
  onTicketsPublished(event: TicketsCommittedEvent): void {
    if (this.closed) return;
    const write: CommittedWrite = { organizationId: event.organizationId, contributions: contributionsOf(event) };
    if (write.contributions.metric.length === 0) return;
    this.writes.publish(write);
    this.deliver(write);
  }

  /** A write committed here or on another instance, for this instance's subscribers. */
  deliver({ organizationId, contributions: c }: CommittedWrite): void {
    const now = this.clock.now();
    const updates = new Map<string, { room: string; update: MetricUpdate }>();
    for (const room of this.realtime.roomsOf(organizationId)) {
      const { start, end } = windowRange(room.subscription, now);
      const [from, to] = [start.getTime(), end.getTime()];
      for (let i = 0; i < c.metric.length; i++) {
        if (!room.subscription.metrics.includes(c.metric[i]) || c.at[i] < from || c.at[i] >= to) continue;
        const ticket = c.ticket[i];
        if (!matchesFilters(room.subscription.filters, (name) => c.dimensions[name][ticket])) continue;
        const key = `${room.name}|${c.metric[i]}|${c.event[i]}`;
        const entry = updates.get(key);
        if (entry) add(entry.update, c.value[i], 1, c.ticketId[ticket]);
        else {
          updates.set(key, {
            room: room.name,
            update: {
              organization_id: organizationId,
              metric_type: c.metric[i],
              value: c.value[i],
              count: 1,
              event: c.event[i],
              ticket_id: c.ticketId[ticket],
              timestamp: formatTimestamp(now),
            },
          });
        }
      }
    }
    for (const [key, { room, update }] of updates) this.send(key, room, update);
  }

  private send(key: string, room: string, update: MetricUpdate): void {
    const window = this.windows.get(key);
    if (window) {
      if (window.pending) add(window.pending, update.value, update.count, update.ticket_id);
      else window.pending = update;
      return;
    }
    this.emit(room, update);
    this.windows.set(key, { room, pending: null, timer: setTimeout(() => this.close(key), COALESCE_MS) });
  }

  /** The end of a window: what it gathered goes out, and a new window starts after it. */
  private close(key: string): void {
    const window = this.windows.get(key);
    this.windows.delete(key);
    if (window?.pending)
      this.send(key, window.room, { ...window.pending, timestamp: formatTimestamp(this.clock.now()) });
  }

  private emit(room: string, update: MetricUpdate): void {
    this.sockets.emitLocal(room, 'metric_update', update);
  }
}

function add(update: MetricUpdate, value: number, count: number, ticketId: string): void {
  update.value += value;
  update.count += count;
  update.ticket_id = ticketId;
}

/** The metrics whose `metric_update` each domain event announces (the registry says which). */
const ANNOUNCED: Partial<Record<TicketEventName, MetricType[]>> = {};
for (const type of METRIC_TYPES) (ANNOUNCED[METRICS[type].announcedBy] ??= []).push(type);

/** What each change of the write contributes to the metrics that announce its events, in columns. */
function contributionsOf(event: TicketsCommittedEvent): Contributions {
  const columns: Contributions = {
    ticketId: [],
    dimensions: Object.fromEntries(DIMENSION_NAMES.map((d) => [d, []])) as unknown as Contributions['dimensions'],
    ticket: [],
    metric: [],
    event: [],
    value: [],
    at: [],
  };
  for (const { after, events } of event.changes) {
    let ticket = -1;
    for (const name of events) {
      for (const type of ANNOUNCED[name] ?? []) {
        const metric = METRICS[type];
        const value = metric.valueOf(after);
        const at = after[metric.timestamp];
        if (value === null || at === null) continue;
        if (ticket < 0) {
          ticket = columns.ticketId.push(after.id) - 1;
          for (const d of DIMENSION_NAMES) columns.dimensions[d].push(after[d]);
        }
        columns.ticket.push(ticket);
        columns.metric.push(type);
        columns.event.push(name);
        columns.value.push(value);
        columns.at.push(at.getTime());
      }
    }
  }
  return columns;
}
