import { applyTicketInput, type TicketState } from './ticket-rules.js';

const now = new Date('2025-06-01T12:00:00.000Z');
const existing: TicketState = {
  external_id: 'x-1',
  status: 'resolved',
  priority: 'high',
  channel: 'email',
  category: 'billing',
  assignee_id: 'agent-7',
  sentiment_score: 0.2,
  created_at: new Date('2025-05-01T00:00:00Z'),
  first_response_at: new Date('2025-05-01T02:00:00Z'),
  resolved_at: new Date('2025-05-02T00:00:00Z'),
};

describe('applyTicketInput', () => {
  it('fills the defaults of a new ticket', () => {
    expect(applyTicketInput(null, {}, now)).toEqual({
      errors: [],
      state: {
        external_id: null,
        status: 'open',
        priority: 'medium',
        channel: 'web',
        category: 'general',
        assignee_id: null,
        sentiment_score: null,
        created_at: now,
        first_response_at: null,
        resolved_at: null,
      },
    });
  });

  it('resolving without a time resolves now; closing keeps the original time', () => {
    const open = { ...existing, status: 'open' as const, resolved_at: null };
    expect(applyTicketInput(open, { status: 'resolved' }, now).state?.resolved_at).toEqual(now);
    expect(applyTicketInput(existing, { status: 'closed' }, now).state?.resolved_at).toEqual(existing.resolved_at);
  });

  it('moving back to an open status clears resolved_at', () => {
    for (const status of ['open', 'in_progress', 'pending'] as const) {
      expect(applyTicketInput(existing, { status }, now).state?.resolved_at).toBeNull();
    }
  });

  it('refuses resolved_at on a ticket that is not resolved or closed', () => {
    expect(applyTicketInput(null, { resolved_at: '2025-06-01T11:00:00Z' }, now).errors).toEqual([
      'resolved_at is only allowed when status is resolved or closed (status is open)',
    ]);
    expect(
      applyTicketInput(existing, { status: 'pending', resolved_at: '2025-05-03T00:00:00Z' }, now).errors,
    ).toHaveLength(1);
  });

  it('refuses a null resolved_at on a resolved ticket', () => {
    expect(applyTicketInput(existing, { resolved_at: null }, now).errors).toEqual([
      'resolved_at cannot be null while status is resolved',
    ]);
  });

  it('keeps fields not given and clears nullable fields set to null', () => {
    const { state } = applyTicketInput(existing, { assignee_id: null, priority: 'low' }, now);
    expect(state).toEqual({ ...existing, assignee_id: null, priority: 'low' });
  });

  it('checks timestamps against created_at and the clock', () => {
    expect(applyTicketInput(null, { created_at: '2025-06-01T12:06:00Z' }, now).errors).toEqual([
      'created_at must not be more than 5 minutes in the future',
    ]);
    expect(applyTicketInput(null, { created_at: '2025-06-01T12:04:00Z' }, now).errors).toEqual([]);
    expect(applyTicketInput(existing, { first_response_at: '2025-04-30T00:00:00Z' }, now).errors).toEqual([
      'first_response_at must not be before created_at',
    ]);
    expect(applyTicketInput(existing, { created_at: '2025-05-03T00:00:00Z' }, now).errors).toEqual([
      'first_response_at must not be before created_at',
      'resolved_at must not be before created_at',
    ]);
  });

  it('resolves a ticket created slightly in the future no earlier than its creation', () => {
    const { state } = applyTicketInput(null, { status: 'closed', created_at: '2025-06-01T12:03:00Z' }, now);
    expect(state?.resolved_at).toEqual(new Date('2025-06-01T12:03:00Z'));
  });
});
