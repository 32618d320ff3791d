import { DIMENSION_NAMES, OPEN_STATUSES, type Status } from './dimensions.js';

export const METRIC_TYPES = ['ticket_count', 'response_time', 'resolution_time', 'sentiment_score'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

export type TimestampColumn = 'created_at' | 'first_response_at' | 'resolved_at';
export type TicketEventName = 'ticket.created' | 'ticket.updated' | 'ticket.first_response' | 'ticket.resolved';

/** The fields of a ticket that metrics read, as the registry sees them in memory. */
export interface MetricTicket {
  readonly status: string;
  readonly priority: string;
  readonly channel: string;
  readonly category: string;
  readonly assignee_id: string | null;
  readonly sentiment_score: number | null;
  readonly created_at: Date;
  readonly first_response_at: Date | null;
  readonly resolved_at: Date | null;
}
export type TicketColumn = keyof MetricTicket;

/**
 * One metric, defined once. Every endpoint, the socket and cache invalidation
 * derive their behaviour from these fields; adding a metric is one entry.
 */
export interface MetricDefinition {
  readonly name: MetricType;
  readonly unit: 'tickets' | 'hours' | 'score';
  /** A count of tickets, or the mean of a per-ticket value. */
  readonly aggregate: 'count' | 'mean';
  /** The timestamp that places a ticket in a bucket and in a range. */
  readonly timestamp: TimestampColumn;
  /** SQL of one ticket's value over the alias `t` (mean metrics only). */
  readonly valueSql: string | null;
  /**
   * The same value as an exact `numeric` in `exactUnit`s of the value (mean
   * metrics only): rollups add and subtract these, so a sum never drifts
   * however many writes it has seen, and `valueSql = exactSql / exactUnit`.
   */
  readonly exactSql: string | null;
  readonly exactUnit: number;
  /** SQL condition, beyond the timestamp range, for a ticket to count. */
  readonly countsSql: string | null;
  /** The ticket's value in memory, or null when it does not count. */
  readonly valueOf: (ticket: MetricTicket) => number | null;
  /** Columns besides the dimensions whose change can alter this metric. */
  readonly reads: readonly TicketColumn[];
  /** The domain event whose ticket this metric announces in `metric_update`. */
  readonly announcedBy: TicketEventName;
}

const HOURS = 3_600_000;
const hoursBetween = (from: Date, to: Date | null) => (to === null ? null : (to.getTime() - from.getTime()) / HOURS);

export const METRICS: Readonly<Record<MetricType, MetricDefinition>> = {
  ticket_count: {
    name: 'ticket_count',
    unit: 'tickets',
    aggregate: 'count',
    timestamp: 'created_at',
    valueSql: null,
    exactSql: null,
    exactUnit: 1,
    countsSql: null,
    valueOf: () => 1,
    reads: ['created_at'],
    announcedBy: 'ticket.created',
  },
  response_time: {
    name: 'response_time',
    unit: 'hours',
    aggregate: 'mean',
    timestamp: 'first_response_at',
    valueSql: 'extract(epoch from (t.first_response_at - t.created_at))::float8 / 3600',
    exactSql: 'extract(epoch from (t.first_response_at - t.created_at))',
    exactUnit: 3600,
    countsSql: null,
    valueOf: (t) => hoursBetween(t.created_at, t.first_response_at),
    reads: ['created_at', 'first_response_at'],
    announcedBy: 'ticket.first_response',
  },
  resolution_time: {
    name: 'resolution_time',
    unit: 'hours',
    aggregate: 'mean',
    timestamp: 'resolved_at',
    valueSql: 'extract(epoch from (t.resolved_at - t.created_at))::float8 / 3600',
    exactSql: 'extract(epoch from (t.resolved_at - t.created_at))',
    exactUnit: 3600,
    countsSql: null,
    valueOf: (t) => hoursBetween(t.created_at, t.resolved_at),
    reads: ['created_at', 'resolved_at'],
    announcedBy: 'ticket.resolved',
  },
  sentiment_score: {
    name: 'sentiment_score',
    unit: 'score',
    aggregate: 'mean',
    timestamp: 'created_at',
    valueSql: 't.sentiment_score',
    exactSql: 't.sentiment_score::numeric',
    exactUnit: 1,
    countsSql: 't.sentiment_score IS NOT NULL',
    valueOf: (t) => t.sentiment_score,
    reads: ['created_at', 'sentiment_score'],
    announcedBy: 'ticket.created',
  },
};

export function isMetricType(name: string): name is MetricType {
  return (METRIC_TYPES as readonly string[]).includes(name);
}

/**
 * The metrics whose results a write can change: those the ticket counts in
 * (before or after) where the write touched a column the metric reads or a
 * dimension a filter or breakdown may use. `before` is null for a new ticket.
 */
export function metricsChangedBy(before: MetricTicket | null, after: MetricTicket): MetricType[] {
  // A new ticket changes every metric it counts in (the common case of a bulk: no set of columns).
  if (before === null) return METRIC_TYPES.filter((type) => METRICS[type].valueOf(after) !== null);
  const changed = new Set<TicketColumn>(
    (Object.keys(after) as TicketColumn[]).filter((column) => !sameValue(before[column], after[column])),
  );
  const dimensionChanged = DIMENSION_NAMES.some((d) => changed.has(d));
  return METRIC_TYPES.filter((type) => {
    const metric = METRICS[type];
    const counts = metric.valueOf(before) !== null || metric.valueOf(after) !== null;
    return counts && (dimensionChanged || metric.reads.some((c) => changed.has(c)));
  });
}

const isOpen = (t: MetricTicket) => OPEN_STATUSES.includes(t.status as Status);
const isUnanswered = (t: MetricTicket) => isOpen(t) && t.first_response_at === null;

/**
 * Whether a write changes what the organization's tickets are *now*,
 * whatever their timestamps: the backlog (which tickets are open) or the
 * queue (which are unanswered, and their priorities and ages). `before` is
 * null for a new ticket.
 */
export function currentStateChangedBy(before: MetricTicket | null, after: MetricTicket): boolean {
  if (before === null) return isOpen(after);
  if (isOpen(before) !== isOpen(after) || isUnanswered(before) !== isUnanswered(after)) return true;
  return isUnanswered(after) && (before.priority !== after.priority || !sameValue(before.created_at, after.created_at));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return a === b;
}
