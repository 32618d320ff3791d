import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { metricsChangedBy, type MetricType } from '../metrics/metric-registry.js';
import { TICKETS_COMMITTED, TicketsCommittedEvent } from '../tickets/events/tickets-committed.event.js';
import { metricScopes } from './cache-scopes.js';
import { CacheInvalidator } from './cache-invalidator.service.js';

/**
 * Turns committed ticket writes into generation bumps of the metrics they
 * change. The tickets service awaits this listener before it answers, which
 * is what makes reads after a write see the write.
 */
@Injectable()
export class InvalidationListener {
  constructor(private readonly invalidator: CacheInvalidator) {}

  @OnEvent(TICKETS_COMMITTED)
  async onTicketsCommitted(event: TicketsCommittedEvent): Promise<void> {
    const changed = new Set<MetricType>();
    for (const { before, after } of event.changes) {
      for (const metric of metricsChangedBy(before, after)) changed.add(metric);
    }
    await this.invalidator.invalidate(event.organizationId, metricScopes([...changed]));
  }
}
