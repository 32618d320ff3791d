import { HOUR, OPEN_STATUSES, type Ticket } from './analytics-truth.js';

export type Targets = Record<'urgent' | 'high' | 'medium' | 'low', number>;
/** SLA_FIRST_RESPONSE_HOURS's default (API.md §4.4). */
export const DEFAULT_TARGETS: Targets = { urgent: 1, high: 4, medium: 8, low: 24 };

type QueueTicket = Pick<Ticket, 'status' | 'priority' | 'created_at' | 'first_response_at'>;

/**
 * The queue of API.md §4.3 straight from its definition: the unanswered
 * tickets (open, in progress or pending, no first response), counted at
 * `countedAt`, each breaching when older than its priority's target, at risk
 * when not breaching but older than 75% of it; the oldest one's age at
 * `asOf` (the answer's own `as_of`).
 */
export function expectedQueue(
  tickets: readonly QueueTicket[],
  countedAt: number,
  asOf: number,
  targets: Targets = DEFAULT_TARGETS,
) {
  const waiting = tickets.filter((t) => OPEN_STATUSES.includes(t.status) && t.first_response_at === null);
  const figures = (group: readonly QueueTicket[]) => {
    const ages = group.map((t) => ({
      age: countedAt - t.created_at,
      target: targets[t.priority as keyof Targets] * HOUR,
    }));
    return {
      unanswered: group.length,
      breaching: ages.filter(({ age, target }) => age > target).length,
      at_risk: ages.filter(({ age, target }) => age <= target && age > 0.75 * target).length,
      oldest_unanswered_hours: group.length === 0 ? null : (asOf - Math.min(...group.map((t) => t.created_at))) / HOUR,
    };
  };
  return {
    as_of: expect.any(String),
    ...figures(waiting),
    by_priority: {
      urgent: figures(waiting.filter((t) => t.priority === 'urgent')),
      high: figures(waiting.filter((t) => t.priority === 'high')),
      medium: figures(waiting.filter((t) => t.priority === 'medium')),
      low: figures(waiting.filter((t) => t.priority === 'low')),
    },
  };
}

const startOfMinute = (instant: number) => Math.floor(instant / 60_000) * 60_000;

/** A queue's `as_of`, checked to be the start of a minute in which the request that answered it ran. */
export function asOfWithin(queue: { as_of: string }, sentAt: number, answeredAt: number): number {
  expect(queue.as_of).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00(Z|[+-]\d\d:\d\d)$/);
  const asOf = Date.parse(queue.as_of);
  expect(asOf).toBeGreaterThanOrEqual(startOfMinute(sentAt));
  expect(asOf).toBeLessThanOrEqual(startOfMinute(answeredAt));
  return asOf;
}

/**
 * The queue a request answered between `sentAt` and `answeredAt`, from the
 * fixture; its tickets must not cross a threshold in between (or the counts
 * would depend on when exactly the request was counted).
 */
export function expectedQueueOf(
  tickets: readonly QueueTicket[],
  queue: { as_of: string },
  sentAt: number,
  answeredAt: number,
  targets: Targets = DEFAULT_TARGETS,
) {
  const asOf = asOfWithin(queue, sentAt, answeredAt);
  const early = expectedQueue(tickets, sentAt, asOf, targets);
  expect(expectedQueue(tickets, answeredAt, asOf, targets), 'no ticket crosses a threshold during the request').toEqual(
    early,
  );
  return early;
}
