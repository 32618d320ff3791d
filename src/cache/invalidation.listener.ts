import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { currentStateChangedBy, METRICS, metricsChangedBy, type MetricType } from '../metrics/metric-registry.js';
import {
  TICKETS_COMMITTED,
  TicketsCommittedEvent,
  type TicketChange,
} from '../tickets/events/tickets-committed.event.js';
import { TICKETS_WRITING, TicketsWritingEvent } from '../tickets/events/tickets-writing.event.js';
import { spansOfMonth, type Scope } from './cache-scopes.js';
import { CacheInvalidator } from './cache-invalidator.service.js';
import { InvalidationOutbox } from './invalidation-outbox.repository.js';

/**
 * Turns ticket writes into generation bumps of the metrics they change (and
 * of `current` when they change the open or unanswered tickets), in
 * two steps: inside the write's transaction the bump is recorded in the
 * outbox (so a crash or a Redis failure after the commit cannot lose it);
 * after the commit it is applied. The tickets service awaits both before it
 * answers, which is what makes reads after a write see the write.
 */
@Injectable()
export class InvalidationListener {
  /** Records of writes in flight, by their changes (the same array in both events); gone with the write. */
  private readonly recorded = new WeakMap<readonly TicketChange[], { scopes: Scope[]; id: string }>();

  constructor(
    private readonly invalidator: CacheInvalidator,
    private readonly outbox: InvalidationOutbox,
  ) {}

  @OnEvent(TICKETS_WRITING, { suppressErrors: false })
  async onTicketsWriting(event: TicketsWritingEvent): Promise<void> {
    // The other listeners of the write send their statements first: the scopes of a large
    // batch take a while, computed while the database runs those.
    await new Promise(setImmediate);
    const scopes = scopesChangedBy(event.changes);
    if (scopes.length === 0) return;
    const id = await this.outbox.add(event.manager, event.organizationId, scopes);
    this.recorded.set(event.changes, { scopes, id });
  }

  @OnEvent(TICKETS_COMMITTED)
  async onTicketsCommitted(event: TicketsCommittedEvent): Promise<void> {
    const record = this.recorded.get(event.changes);
    if (record) await this.invalidator.applyRecorded(event.organizationId, record.scopes, record.id);
  }
}

/**
 * The scopes a batch of changes makes stale: per metric it changed, the
 * spans (month and year) of the ticket's placing timestamp before and after
 * the write; and `current` when it changed which tickets are open or
 * unanswered now, or an unanswered one's priority or age (the backlog and the
 * queue read those whatever their timestamps).
 */
export function scopesChangedBy(changes: readonly TicketChange[]): Scope[] {
  const scopes = new Set<Scope>();
  // A batch's tickets fall in few months: each metric's months are gathered as numbers, and
  // their scopes written once.
  const months = new Map<MetricType, Set<number>>();
  for (const { before, after } of changes) {
    for (const metric of metricsChangedBy(before, after)) {
      const column = METRICS[metric].timestamp;
      let seen = months.get(metric);
      if (!seen) months.set(metric, (seen = new Set()));
      for (const ticket of before === null ? [after] : [before, after]) {
        const at = ticket[column];
        if (at === null || METRICS[metric].valueOf(ticket) === null) continue;
        seen.add(at.getUTCFullYear() * 12 + at.getUTCMonth());
      }
    }
    if (currentStateChangedBy(before, after)) scopes.add('current');
  }
  for (const [metric, seen] of months)
    for (const month of seen)
      for (const span of spansOfMonth(Math.floor(month / 12), month % 12)) scopes.add(`metric:${metric}@${span}`);
  return [...scopes];
}
