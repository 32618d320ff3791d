import { currentStateChangedBy, metricsChangedBy, type MetricTicket } from './metric-registry.js';

const base: MetricTicket = {
  status: 'open',
  priority: 'medium',
  channel: 'web',
  category: 'general',
  assignee_id: null,
  sentiment_score: null,
  created_at: new Date('2025-01-01T10:00:00Z'),
  first_response_at: null,
  resolved_at: null,
};

describe('metricsChangedBy', () => {
  it('a new ticket changes the metrics it counts in', () => {
    expect(metricsChangedBy(null, base)).toEqual(['ticket_count']);
    expect(
      metricsChangedBy(null, { ...base, sentiment_score: 0.3, first_response_at: new Date('2025-01-01T11:00:00Z') }),
    ).toEqual(['ticket_count', 'response_time', 'sentiment_score']);
  });

  it('a first response changes only response_time', () => {
    expect(metricsChangedBy(base, { ...base, first_response_at: new Date('2025-01-01T12:00:00Z') })).toEqual([
      'response_time',
    ]);
  });

  it('resolving changes resolution_time and, through status, every metric the ticket counts in', () => {
    const answered = { ...base, first_response_at: new Date('2025-01-01T12:00:00Z') };
    expect(
      metricsChangedBy(answered, { ...answered, status: 'resolved', resolved_at: new Date('2025-01-02T00:00:00Z') }),
    ).toEqual(['ticket_count', 'response_time', 'resolution_time']);
  });

  it('reopening removes the ticket from resolution_time', () => {
    const resolved = { ...base, status: 'resolved', resolved_at: new Date('2025-01-02T00:00:00Z') };
    expect(metricsChangedBy(resolved, { ...resolved, status: 'open', resolved_at: null })).toEqual([
      'ticket_count',
      'resolution_time',
    ]);
  });

  it('a new score changes sentiment only; an unchanged write changes nothing', () => {
    expect(metricsChangedBy(base, { ...base, sentiment_score: -0.5 })).toEqual(['sentiment_score']);
    expect(metricsChangedBy(base, { ...base, created_at: new Date(base.created_at) })).toEqual([]);
  });

  it('moving created_at changes every metric the ticket counts in', () => {
    const scored = { ...base, sentiment_score: 0.1 };
    expect(metricsChangedBy(scored, { ...scored, created_at: new Date('2024-12-31T00:00:00Z') })).toEqual([
      'ticket_count',
      'sentiment_score',
    ]);
  });
});

describe('currentStateChangedBy', () => {
  const answered = { ...base, first_response_at: new Date('2025-01-01T11:00:00Z') };
  const resolved = { ...answered, status: 'resolved', resolved_at: new Date('2025-01-02T00:00:00Z') };

  it('a new ticket changes the current state when it is open, whenever it was created', () => {
    expect(currentStateChangedBy(null, base)).toBe(true);
    expect(currentStateChangedBy(null, { ...answered, created_at: new Date('2020-01-01T00:00:00Z') })).toBe(true);
    expect(currentStateChangedBy(null, resolved)).toBe(false);
  });

  it('entering or leaving the backlog or the queue changes it', () => {
    expect(currentStateChangedBy(answered, resolved)).toBe(true);
    expect(currentStateChangedBy(resolved, { ...resolved, status: 'pending', resolved_at: null })).toBe(true);
    expect(currentStateChangedBy(base, answered)).toBe(true);
  });

  it('a new priority or created_at of an unanswered ticket changes it; of an answered one not', () => {
    expect(currentStateChangedBy(base, { ...base, priority: 'urgent' })).toBe(true);
    expect(currentStateChangedBy(base, { ...base, created_at: new Date('2024-12-01T00:00:00Z') })).toBe(true);
    expect(currentStateChangedBy(answered, { ...answered, priority: 'urgent' })).toBe(false);
  });

  it('what neither the backlog nor the queue reads leaves it alone', () => {
    expect(currentStateChangedBy(base, { ...base, status: 'pending', category: 'billing', sentiment_score: 1 })).toBe(
      false,
    );
    expect(currentStateChangedBy(resolved, { ...resolved, status: 'closed', priority: 'low' })).toBe(false);
  });
});
