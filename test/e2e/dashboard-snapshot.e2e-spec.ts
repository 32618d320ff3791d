import { Api } from '../support/http.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { buildTicket } from '../support/factories.js';

/**
 * One dashboard is one state of the data (API.md §4.3): its figures come
 * from several queries, and while tickets are written they must all read the
 * same committed state, never a mix of the states before and after a write.
 *
 * Every ticket of the organization is created in the range, answered and
 * scored, and every resolution happens in the range, so in any one state:
 * the backlog is the open tickets, the sentiment bands and the responses add
 * up to the total, and the resolutions to the resolved tickets. The writes
 * (each one bulk call, so one commit) change the total, the open and the
 * resolved tickets in every combination, so a dashboard whose queries see
 * different states breaks at least one of these equalities.
 */

const PATH = '/api/v1/analytics/dashboard?period=30d&use_cache=false';
const INITIAL_OPEN = 30;
const DASHBOARDS = 300;
const READERS = 3;
const WRITERS = 4;

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((n, c) => n + c, 0);
const countOf = (points: readonly { count: number }[]) => points.reduce((n, p) => n + p.count, 0);

/** The equalities that hold in any single state of this organization; an empty list when all hold. */
function violations(d: any): string[] {
  const checks: [string, number, number][] = [
    ['open_tickets + resolved_tickets == total_tickets', d.open_tickets + d.resolved_tickets, d.total_tickets],
    ['sum(priority_breakdown) == total_tickets', sum(d.priority_breakdown), d.total_tickets],
    ['current_backlog == open_tickets', d.current_backlog, d.open_tickets],
    ['sum(sentiment_breakdown) == total_tickets', sum(d.sentiment_breakdown), d.total_tickets],
    ['responses in range == total_tickets', countOf(d.trend_data.response_time), d.total_tickets],
    ['resolutions in range == resolved_tickets', countOf(d.trend_data.resolution_time), d.resolved_tickets],
  ];
  return checks.filter(([, a, b]) => a !== b).map(([name, a, b]) => `${name}: ${a} vs ${b}`);
}

describe('GET /analytics/dashboard during writes', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  it('answers every request from one consistent snapshot', { timeout: 120_000 }, async () => {
    const organizationId = newOrganizationId();
    const agent = new Api(server.url, tokenFor(organizationId, 'agent'));
    const viewer = new Api(server.url, tokenFor(organizationId, 'viewer'));
    const base = Date.now() - 3 * 3_600_000;
    let serial = 0;
    /** A new open ticket, created, answered and scored in the past hours. */
    const opened = () => {
      serial += 1;
      const created = base + serial * 10;
      return buildTicket({
        external_id: `snap-${serial}`,
        priority: (['low', 'medium', 'high', 'urgent'] as const)[serial % 4],
        created_at: new Date(created).toISOString(),
        first_response_at: new Date(created + 60_000).toISOString(),
        sentiment_score: ((serial % 21) - 10) / 10,
      });
    };
    const open: { external_id: string; created: number }[] = [];
    const track = (ticket: Record<string, unknown>) =>
      open.push({ external_id: ticket.external_id as string, created: Date.parse(ticket.created_at as string) });
    // Resolved before the request's range ends, whenever the write commits.
    const resolveOldest = () => {
      const { external_id, created } = open.shift()!;
      return { external_id, status: 'resolved', resolved_at: new Date(created + 120_000).toISOString() };
    };

    const seed = Array.from({ length: INITIAL_OPEN }, opened);
    seed.forEach(track);
    const seeded = await agent.post('/api/v1/tickets/bulk', { tickets: seed });
    expect(seeded.status, seeded.text).toBe(200);

    let reading = true;
    const writes = { done: 0, failed: [] as string[] };
    const writer = async (id: number) => {
      for (let round = 0; reading; round++) {
        // Create one, resolve one, or both at once; never resolve the last few open tickets.
        const kind = (round + id) % 3;
        const tickets: Record<string, unknown>[] = [];
        if (kind !== 1 || open.length < 5) {
          const ticket = opened();
          tickets.push(ticket);
          track(ticket);
        }
        if (kind !== 0 && open.length >= 5) tickets.unshift(resolveOldest());
        const res = await agent.post('/api/v1/tickets/bulk', { tickets });
        if (res.status === 200) writes.done += 1;
        else writes.failed.push(`${res.status} ${res.text}`);
      }
    };

    const torn: string[] = [];
    let answered = 0;
    const reader = async () => {
      while (answered < DASHBOARDS) {
        answered += 1;
        const res = await viewer.get(PATH);
        expect(res.status, res.text).toBe(200);
        const problems = violations(res.body);
        if (problems.length > 0) torn.push(problems.join('; '));
      }
    };

    const writers = Array.from({ length: WRITERS }, (_, id) => writer(id));
    try {
      await Promise.all(Array.from({ length: READERS }, reader));
    } finally {
      reading = false;
      await Promise.all(writers);
    }
    expect(writes.failed).toEqual([]);
    // Writes really ran alongside the reads, or the test proves nothing.
    expect(writes.done).toBeGreaterThan(50);
    expect(torn, `${torn.length} of ${answered} dashboards mixed two states`).toEqual([]);
  });
});
