import { metricsChangedBy, type MetricTicket } from './metric-registry.js';

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
