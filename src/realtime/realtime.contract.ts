import type { SlaQueue } from '../analytics/sla-queue.js';
import type { DimensionName } from '../metrics/dimensions.js';
import type { DataPoint } from '../metrics/series.js';
import type { MetricType, TicketEventName } from '../metrics/metric-registry.js';
import type { NormalizedSubscription } from './subscription.js';

/** The socket contract of API.md §5, checked by the compiler on both ends of the gateway. */
export interface ServerToClientEvents {
  connected: (payload: { organization_id: number; timestamp: string; message: string }) => void;
  subscription_data: (payload: {
    organization_id: number;
    timestamp: string;
    subscription: NormalizedSubscription;
    metrics: Partial<
      Record<MetricType, { data_points: DataPoint[]; average_value: number | null; total_count: number }>
    >;
  }) => void;
  periodic_update: (payload: {
    organization_id: number;
    timestamp: string;
    metrics: Partial<Record<MetricType, { value: number | null; count: number; timestamp: string } | null>>;
    dashboard_snapshot: {
      total_tickets: number;
      open_tickets: number;
      resolved_tickets: number;
      avg_response_time_hours: number | null;
      /** The organization's queue now, whatever the subscription's filters (API.md §4.3). */
      queue: { as_of: string } & SlaQueue;
    };
  }) => void;
  metric_update: (payload: MetricUpdate) => void;
  pong: (payload: { timestamp: string }) => void;
  exception: (payload: { status: 'error'; message: string }) => void;
}

export type Ack<T> = (reply: T) => void;
export type SubscribeReply = { ok: true; subscription: NormalizedSubscription } | { ok: false; error: string };

export interface ClientToServerEvents {
  subscribe: (payload: unknown, ack?: Ack<SubscribeReply>) => void;
  unsubscribe: (payload?: unknown, ack?: Ack<{ ok: true }>) => void;
  ping: (payload?: unknown, ack?: Ack<{ timestamp: string }>) => void;
}

/** Between instances over socket.io: nothing (writes travel on their own channels: WriteChannels). */
export type InterServerEvents = Record<never, never>;

export interface SocketData {
  organizationId: number;
  /** The token's subject: socket messages are rate limited per organization and subject. */
  subject: string;
  /** The token's `exp` in milliseconds since the epoch: the socket is closed then. */
  expiresAt: number;
  /** The subscription room the socket is in, if any. */
  room?: string;
  /** Counts subscribes and unsubscribes: a subscribe overtaken by a later one leaves no trace. */
  subscribeSeq: number;
}

export interface MetricUpdate {
  organization_id: number;
  metric_type: MetricType;
  value: number;
  count: number;
  event: TicketEventName;
  ticket_id: string;
  timestamp: string;
}

/** What a write contributed to each metric, as it travels between instances. */
export interface CommittedWrite {
  organizationId: number;
  contributions: Contributions;
}

/**
 * One contribution per ticket, metric and event, held in columns (entry i of
 * every array), the tickets' own values once per ticket: a bulk write has
 * tens of thousands, and building, encoding and decoding an object for each
 * was a sixth of the CPU of a bulk write.
 */
export interface Contributions {
  /** Per ticket: its id. */
  ticketId: string[];
  /** Per ticket: its values of each dimension, to match subscriptions' filters. */
  dimensions: Record<DimensionName, (string | null)[]>;
  /** Per contribution: its ticket's index in the arrays above. */
  ticket: number[];
  metric: MetricType[];
  event: TicketEventName[];
  value: number[];
  /** The metric's timestamp of the ticket, in milliseconds since the epoch. */
  at: number[];
}
