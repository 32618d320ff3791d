import type { QueueRow } from '../metrics/queue.compiler.js';
import { queueCutoffs, slaQueue } from './sla-queue.js';

const TARGETS = { urgent: 1, high: 4, medium: 8, low: 24 };
const NOW = new Date('2025-06-01T12:00:00.000Z');
const HOUR = 3_600_000;
const at = (msBeforeNow: number) => new Date(NOW.getTime() - msBeforeNow);

describe('slaQueue', () => {
  it('cuts each priority at its target and at 75% of it, to the millisecond', () => {
    const cutoffs = queueCutoffs(NOW, { ...TARGETS, urgent: 0.002 });
    expect(cutoffs.urgent).toEqual({ breach: at(7200), risk: at(5400) });
    expect(cutoffs.low).toEqual({ breach: at(24 * HOUR), risk: at(18 * HOUR) });
  });

  it('always lists the four priorities, most urgent first, and sums them', () => {
    const rows: QueueRow[] = [
      {
        priority: 'high',
        unanswered: 3,
        breaching: 1,
        at_risk: 1,
        oldest: at(5 * HOUR),
        next_at_risk: at(HOUR),
        next_breaching: at(3.5 * HOUR),
      },
      {
        priority: 'low',
        unanswered: 2,
        breaching: 0,
        at_risk: 0,
        oldest: at(2 * HOUR),
        next_at_risk: at(2 * HOUR),
        next_breaching: at(2 * HOUR),
      },
    ];
    const { queue } = slaQueue(rows, NOW, TARGETS);
    expect(Object.keys(queue.by_priority)).toEqual(['urgent', 'high', 'medium', 'low']);
    expect(queue.by_priority.urgent).toEqual({
      unanswered: 0,
      breaching: 0,
      at_risk: 0,
      oldest_unanswered_hours: null,
    });
    expect(queue.by_priority.high).toEqual({ unanswered: 3, breaching: 1, at_risk: 1, oldest_unanswered_hours: 5 });
    expect(queue).toMatchObject({ unanswered: 5, breaching: 1, at_risk: 1, oldest_unanswered_hours: 5 });
  });

  it('changes at the first millisecond some ticket is older than 75% or 100% of its target', () => {
    const rows: QueueRow[] = [
      // high: the next at risk crosses 3 h after creation, in 30 s; the next breach (4 h) in 20 s.
      {
        priority: 'high',
        unanswered: 2,
        breaching: 0,
        at_risk: 1,
        oldest: at(4 * HOUR - 20_000),
        next_at_risk: at(3 * HOUR - 30_000),
        next_breaching: at(4 * HOUR - 20_000),
      },
      // low: 18 h after creation, in 17 h.
      {
        priority: 'low',
        unanswered: 1,
        breaching: 0,
        at_risk: 0,
        oldest: at(HOUR),
        next_at_risk: at(HOUR),
        next_breaching: at(HOUR),
      },
    ];
    expect(slaQueue(rows, NOW, TARGETS).changesAt).toBe(NOW.getTime() + 20_000 + 1);
    const riskFirst = [{ ...rows[0], next_breaching: at(4 * HOUR - 40_000) }];
    expect(slaQueue(riskFirst, NOW, TARGETS).changesAt).toBe(NOW.getTime() + 30_000 + 1);
  });

  it('measures ages at the start of the minute, and changes with the next one when nothing crosses before', () => {
    const later = new Date(NOW.getTime() + 42_500);
    const rows: QueueRow[] = [
      {
        priority: 'urgent',
        unanswered: 1,
        breaching: 1,
        at_risk: 0,
        oldest: at(2 * HOUR),
        next_at_risk: null,
        next_breaching: null,
      },
    ];
    const { queue, asOf, changesAt } = slaQueue(rows, later, TARGETS);
    expect(asOf).toEqual(NOW);
    expect(queue.oldest_unanswered_hours).toBe(2);
    expect(changesAt).toBe(NOW.getTime() + 60_000);
  });

  it('has nothing but the minute left to change once every ticket breaches, or with none waiting', () => {
    const rows: QueueRow[] = [
      {
        priority: 'urgent',
        unanswered: 1,
        breaching: 1,
        at_risk: 0,
        oldest: at(2 * HOUR),
        next_at_risk: null,
        next_breaching: null,
      },
    ];
    expect(slaQueue(rows, NOW, TARGETS).changesAt).toBe(NOW.getTime() + 60_000);
    expect(slaQueue([], NOW, TARGETS)).toEqual({
      queue: expect.objectContaining({ unanswered: 0, oldest_unanswered_hours: null }),
      asOf: NOW,
      changesAt: NOW.getTime() + 60_000,
    });
  });
});
