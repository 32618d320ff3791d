import type { Clock } from '../common/clock.js';
import { TicketChange, TicketsCommittedEvent } from '../tickets/events/tickets-committed.event.js';
import type { Ticket } from '../tickets/ticket.entity.js';
import type { MetricUpdate } from './realtime.contract.js';
import type { RealtimeService } from './realtime.service.js';
import type { SocketNamespace } from './socket-namespace.js';
import type { Room } from './subscription-rooms.js';
import type { WriteChannels } from './write-channels.js';
import { MetricUpdatesService } from './metric-updates.service.js';
import { normalizeSubscription } from './subscription.js';

/**
 * The 250 ms window of `metric_update` (API.md §5) on a clock the test
 * moves: what goes out at once and what waits for the window's end. The
 * end-to-end spec (test/e2e/realtime.e2e-spec.ts) checks the same messages
 * through a socket, where the machine's speed decides which writes share a
 * window; bench/realtime.mjs measures how long a write's message takes.
 */
describe('MetricUpdatesService', () => {
  const ORG = 41;
  const room: Room = {
    name: 'sub:41:room',
    organizationId: ORG,
    subscription: normalizeSubscription({ metrics: ['ticket_count'], window: '24h' }),
    sockets: new Set(['socket']),
  };
  let sent: { room: string; update: MetricUpdate }[];
  let service: MetricUpdatesService;
  let serial = 0;

  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2025, 2, 10, 12) });
    sent = [];
    const realtime = { roomsOf: (id: number) => (id === ORG ? [room] : []) } as unknown as RealtimeService;
    const sockets = {
      emitLocal: (to: string, _name: string, update: MetricUpdate) => sent.push({ room: to, update }),
    } as unknown as SocketNamespace;
    const writes = { onWrite: () => undefined, publish: () => undefined } as unknown as WriteChannels;
    const clock = { now: () => new Date() } as Clock;
    service = new MetricUpdatesService(realtime, sockets, writes, clock);
  });
  afterEach(() => {
    service.onModuleDestroy();
    vi.useRealTimers();
  });

  /** A write of `n` new tickets created a minute ago; returns their ids. */
  const write = (n = 1): string[] => {
    const now = new Date();
    const tickets = Array.from({ length: n }, (): Ticket => {
      const created = new Date(now.getTime() - 60_000);
      return {
        organization_id: ORG,
        id: `00000000-0000-4000-8000-${String(++serial).padStart(12, '0')}`,
        external_id: null,
        status: 'open',
        priority: 'high',
        channel: 'email',
        category: 'general',
        assignee_id: null,
        sentiment_score: null,
        created_at: created,
        first_response_at: null,
        resolved_at: null,
        updated_at: now,
      };
    });
    service.onTicketsPublished(
      new TicketsCommittedEvent(
        ORG,
        tickets.map((t) => new TicketChange(null, t)),
        now,
      ),
    );
    return tickets.map((t) => t.id);
  };

  it('sends the first write’s message at once, before any time passes', () => {
    const [id] = write();
    expect(sent).toEqual([
      {
        room: room.name,
        update: expect.objectContaining({ metric_type: 'ticket_count', value: 1, count: 1, ticket_id: id }),
      },
    ]);
  });

  it('sums the writes of the next 250 ms into one message sent when they are over', () => {
    write();
    vi.advanceTimersByTime(10);
    write();
    vi.advanceTimersByTime(100);
    write(2);
    vi.advanceTimersByTime(100);
    const [last] = write();
    vi.advanceTimersByTime(39);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sent).toHaveLength(2);
    expect(sent[1].update).toMatchObject({ value: 4, count: 4, ticket_id: last, event: 'ticket.created' });
    expect(sent[1].update.timestamp).toBe('2025-03-10T12:00:00.250Z');
  });

  it('opens a new window after a window that sent something: a write then waits for its end', () => {
    write();
    vi.advanceTimersByTime(50);
    write();
    vi.advanceTimersByTime(200);
    expect(sent.map((s) => s.update.count)).toEqual([1, 1]);
    const [id] = write();
    vi.advanceTimersByTime(249);
    expect(sent).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sent.map((s) => s.update.count)).toEqual([1, 1, 1]);
    expect(sent[2].update.ticket_id).toBe(id);
  });

  it('sends at once again once a quiet window has ended, and nothing at its end', () => {
    write();
    vi.advanceTimersByTime(250);
    expect(sent).toHaveLength(1);
    const [id] = write();
    expect(sent).toHaveLength(2);
    expect(sent[1].update).toMatchObject({ count: 1, ticket_id: id });
    vi.advanceTimersByTime(1_000);
    expect(sent).toHaveLength(2);
    expect(service.inspect().windows).toBe(0);
  });

  it('counts a bulk write as one message of all its tickets', () => {
    const ids = write(3);
    expect(sent).toHaveLength(1);
    expect(sent[0].update).toMatchObject({ value: 3, count: 3, ticket_id: ids[2] });
  });
});
