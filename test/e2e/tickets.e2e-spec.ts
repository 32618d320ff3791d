import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Api, qs } from '../support/http.js';
import { expectError } from '../support/errors.js';
import { newOrganizationId, startApp, testDatabaseUrl, tokenFor, type TestApp } from '../support/app.js';
import { buildTicket } from '../support/factories.js';

/** The behaviour of API.md §2: defaults, status rules, PATCH, list order and paging, bulk upserts. */

interface Ticket {
  id: string;
  external_id: string | null;
  status: string;
  priority: string;
  channel: string;
  category: string;
  assignee_id: string | null;
  sentiment_score: number | null;
  created_at: string;
  first_response_at: string | null;
  resolved_at: string | null;
  updated_at: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const TIMESTAMP_FIELDS = ['created_at', 'first_response_at', 'resolved_at', 'updated_at'] as const;
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const ms = (timestamp: string | null) => (timestamp === null ? null : Date.parse(timestamp));

function expectUtcTimestamps(ticket: Ticket) {
  for (const field of TIMESTAMP_FIELDS) {
    const value = ticket[field];
    if (value !== null) expect(value, field).toMatch(ISO_UTC);
  }
}

/** `actual` lies within [before, after] (with a second of slack for the two clocks). */
function expectBetween(actual: string | null, before: number, after: number) {
  expect(actual).not.toBeNull();
  expect(ms(actual)!).toBeGreaterThanOrEqual(before - 1000);
  expect(ms(actual)!).toBeLessThanOrEqual(after + 1000);
}

describe('tickets (API.md §2)', () => {
  let server: TestApp;
  let db: pg.Pool;

  beforeAll(async () => {
    server = await startApp();
    db = new pg.Pool({ connectionString: testDatabaseUrl(), max: 2 });
  });
  afterAll(async () => {
    await db.end();
    await server.close();
  });

  const agentApi = (org = newOrganizationId()) => new Api(server.url, tokenFor(org, 'agent'));

  async function create(api: Api, overrides: Record<string, unknown> = {}): Promise<Ticket> {
    const res = await api.post<Ticket>('/api/v1/tickets', buildTicket(overrides));
    expect(res.status, res.text).toBe(201);
    return res.body;
  }

  async function listAll(api: Api, params: Record<string, string | readonly string[]> = {}): Promise<Ticket[]> {
    const res = await api.get(`/api/v1/tickets${qs({ ...params, limit: 500 })}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.next_cursor).toBeNull();
    return res.body.items;
  }

  describe('create', () => {
    it('returns 201 with the defaults for an empty body', async () => {
      const api = agentApi();
      const before = Date.now();
      const res = await api.post<Ticket>('/api/v1/tickets', {});
      const after = Date.now();
      expect(res.status, res.text).toBe(201);
      const ticket = res.body;
      expect(ticket).toMatchObject({
        external_id: null,
        status: 'open',
        priority: 'medium',
        channel: 'web',
        category: 'general',
        assignee_id: null,
        sentiment_score: null,
        first_response_at: null,
        resolved_at: null,
      });
      expect(ticket.id).toMatch(UUID);
      expectBetween(ticket.created_at, before, after);
      expectBetween(ticket.updated_at, before, after);
      expectUtcTimestamps(ticket);
    });

    it('returns every given field as sent', async () => {
      const api = agentApi();
      const created = Date.UTC(2025, 2, 1, 9, 15, 30, 123);
      const body = {
        external_id: 'ZD-42',
        status: 'pending',
        priority: 'urgent',
        channel: 'zendesk',
        category: 'billing',
        assignee_id: 'agent-7',
        sentiment_score: -0.375,
        created_at: iso(created),
        first_response_at: iso(created + 90 * 60_000),
      };
      const ticket = await create(api, body);
      expect(ticket).toMatchObject({ ...body, resolved_at: null });
      expect(ms(ticket.created_at)).toBe(created);
      expect(ms(ticket.first_response_at)).toBe(created + 90 * 60_000);
      expectUtcTimestamps(ticket);
    });

    it('reads a created_at without an offset as UTC, and a bare date as UTC midnight', async () => {
      const api = agentApi();
      const local = await create(api, { created_at: '2025-03-01T10:00:00' });
      expect(ms(local.created_at)).toBe(Date.UTC(2025, 2, 1, 10));
      expect(local.created_at).toMatch(ISO_UTC);
      const date = await create(api, { created_at: '2025-03-01' });
      expect(ms(date.created_at)).toBe(Date.UTC(2025, 2, 1));
      const offset = await create(api, { created_at: '2025-03-01T10:00:00+02:00' });
      expect(ms(offset.created_at)).toBe(Date.UTC(2025, 2, 1, 8));
      expect(offset.created_at).toMatch(ISO_UTC);
    });

    it('keeps a sentiment_score exactly (double precision)', async () => {
      const score = 0.1 + 0.2;
      const ticket = await create(agentApi(), { sentiment_score: score });
      expect(ticket.sentiment_score).toBe(score);
    });
  });

  describe('concurrent creates', () => {
    it('of one external_id: one 201, every other answer a 409 naming the winner', async () => {
      const api = agentApi();
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => api.post('/api/v1/tickets', buildTicket({ external_id: 'same' }))),
      );
      const winners = answers.filter((r) => r.status === 201);
      expect(winners).toHaveLength(1);
      for (const loser of answers.filter((r) => r.status !== 201)) {
        expect(expectError(loser, 409, 'external_id').existing_id).toBe(winners[0].body.id);
      }
    });
  });

  describe('status rules', () => {
    it('resolving without resolved_at sets it to now (on create and on PATCH)', async () => {
      const api = agentApi();
      let before = Date.now();
      const resolved = await create(api, { status: 'resolved' });
      expectBetween(resolved.resolved_at, before, Date.now());

      const open = await create(api);
      before = Date.now();
      const res = await api.patch<Ticket>(`/api/v1/tickets/${open.id}`, { status: 'resolved' });
      expect(res.status, res.text).toBe(200);
      expectBetween(res.body.resolved_at, before, Date.now());
      expectUtcTimestamps(res.body);

      const closed = await create(api);
      before = Date.now();
      const closing = await api.patch<Ticket>(`/api/v1/tickets/${closed.id}`, { status: 'closed' });
      expectBetween(closing.body.resolved_at, before, Date.now());
    });

    it('keeps a given resolved_at', async () => {
      const api = agentApi();
      const created = Date.now() - 10 * HOUR;
      const resolvedAt = created + 3 * HOUR;
      const ticket = await create(api, { status: 'resolved', created_at: iso(created), resolved_at: iso(resolvedAt) });
      expect(ms(ticket.resolved_at)).toBe(resolvedAt);

      const other = await create(api, { created_at: iso(created) });
      const res = await api.patch<Ticket>(`/api/v1/tickets/${other.id}`, {
        status: 'closed',
        resolved_at: iso(resolvedAt),
      });
      expect(res.status, res.text).toBe(200);
      expect(ms(res.body.resolved_at)).toBe(resolvedAt);
    });

    it('resolved → closed keeps the original resolved_at', async () => {
      const api = agentApi();
      const created = Date.now() - 10 * HOUR;
      const resolvedAt = created + 2 * HOUR;
      const ticket = await create(api, { status: 'resolved', created_at: iso(created), resolved_at: iso(resolvedAt) });
      const res = await api.patch<Ticket>(`/api/v1/tickets/${ticket.id}`, { status: 'closed' });
      expect(res.status, res.text).toBe(200);
      expect(res.body.status).toBe('closed');
      expect(ms(res.body.resolved_at)).toBe(resolvedAt);

      // Also when the resolve time was set by the service.
      const auto = await create(api, { status: 'resolved' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const closed = await api.patch<Ticket>(`/api/v1/tickets/${auto.id}`, { status: 'closed' });
      expect(closed.body.resolved_at).toBe(auto.resolved_at);
    });

    it.each(['open', 'in_progress', 'pending'])('moving back to %s clears resolved_at', async (status) => {
      const api = agentApi();
      const ticket = await create(api, { status: 'closed' });
      expect(ticket.resolved_at).not.toBeNull();
      const res = await api.patch<Ticket>(`/api/v1/tickets/${ticket.id}`, { status });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ status, resolved_at: null });
      expect((await api.get<Ticket>(`/api/v1/tickets/${ticket.id}`)).body.resolved_at).toBeNull();
    });

    it('reopening then resolving again sets a new resolved_at', async () => {
      const api = agentApi();
      const created = Date.now() - 10 * HOUR;
      const ticket = await create(api, {
        status: 'resolved',
        created_at: iso(created),
        resolved_at: iso(created + HOUR),
      });
      await api.patch(`/api/v1/tickets/${ticket.id}`, { status: 'open' });
      const before = Date.now();
      const res = await api.patch<Ticket>(`/api/v1/tickets/${ticket.id}`, { status: 'resolved' });
      expectBetween(res.body.resolved_at, before, Date.now());
    });

    it.each(['open', 'in_progress', 'pending'])('a resolved_at on a %s ticket is 400', async (status) => {
      const api = agentApi();
      const ticket = await create(api, { status });
      const res = await api.patch(`/api/v1/tickets/${ticket.id}`, { resolved_at: iso(Date.now() - 60_000) });
      expectError(res, 400, 'resolved_at');
      expect((await api.get<Ticket>(`/api/v1/tickets/${ticket.id}`)).body).toEqual(ticket);
    });

    it('a resolved_at together with a move to an open status is 400', async () => {
      const api = agentApi();
      const ticket = await create(api, { status: 'resolved' });
      const res = await api.patch(`/api/v1/tickets/${ticket.id}`, {
        status: 'pending',
        resolved_at: iso(Date.now() - 60_000),
      });
      expectError(res, 400, 'resolved_at');
    });

    it('PATCH checks first_response_at and resolved_at against the stored created_at', async () => {
      const api = agentApi();
      const created = Date.now() - 5 * HOUR;
      const ticket = await create(api, { created_at: iso(created) });
      expectError(
        await api.patch(`/api/v1/tickets/${ticket.id}`, { first_response_at: iso(created - 60_000) }),
        400,
        'first_response_at',
      );
      expectError(
        await api.patch(`/api/v1/tickets/${ticket.id}`, { status: 'resolved', resolved_at: iso(created - 60_000) }),
        400,
        'resolved_at',
      );
      const answered = await api.patch<Ticket>(`/api/v1/tickets/${ticket.id}`, { first_response_at: iso(created) });
      expect(answered.status, answered.text).toBe(200);
      // Moving created_at after the stored first response breaks the rule too.
      expectError(
        await api.patch(`/api/v1/tickets/${ticket.id}`, { created_at: iso(created + HOUR) }),
        400,
        'first_response_at',
      );
    });
  });

  describe('PATCH and GET by id', () => {
    it('replaces only the given fields', async () => {
      const api = agentApi();
      const ticket = await create(api, {
        external_id: 'p-1',
        assignee_id: 'alice',
        sentiment_score: 0.5,
        channel: 'chat',
        category: 'technical',
        first_response_at: iso(Date.now() - 30 * 60_000),
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const res = await api.patch<Ticket>(`/api/v1/tickets/${ticket.id}`, { priority: 'high' });
      expect(res.status, res.text).toBe(200);
      const { updated_at, ...rest } = res.body;
      const { updated_at: previous, ...expected } = ticket;
      expect(rest).toEqual({ ...expected, priority: 'high' });
      expect(ms(updated_at)!).toBeGreaterThan(ms(previous)!);
      expect((await api.get<Ticket>(`/api/v1/tickets/${ticket.id}`)).body).toEqual(res.body);
    });

    it('an empty PATCH changes nothing but answers the ticket', async () => {
      const api = agentApi();
      const ticket = await create(api, { assignee_id: 'bob' });
      const res = await api.patch<Ticket>(`/api/v1/tickets/${ticket.id}`, {});
      expect(res.status, res.text).toBe(200);
      const { updated_at: _a, ...after } = res.body;
      const { updated_at: _b, ...before } = ticket;
      expect(after).toEqual(before);
    });

    it('null clears assignee_id, sentiment_score, first_response_at and external_id', async () => {
      const api = agentApi();
      const ticket = await create(api, {
        external_id: 'clear-me',
        assignee_id: 'alice',
        sentiment_score: -0.2,
        first_response_at: iso(Date.now() - 30 * 60_000),
      });
      const res = await api.patch<Ticket>(`/api/v1/tickets/${ticket.id}`, {
        external_id: null,
        assignee_id: null,
        sentiment_score: null,
        first_response_at: null,
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({
        external_id: null,
        assignee_id: null,
        sentiment_score: null,
        first_response_at: null,
        status: ticket.status,
        priority: ticket.priority,
        created_at: ticket.created_at,
      });
      expect((await api.get<Ticket>(`/api/v1/tickets/${ticket.id}`)).body).toEqual(res.body);
      // The freed external_id can be used again.
      expect((await api.post('/api/v1/tickets', buildTicket({ external_id: 'clear-me' }))).status).toBe(201);
    });

    it('null is refused for the non-nullable fields', async () => {
      const api = agentApi();
      const ticket = await create(api);
      for (const field of ['status', 'priority', 'channel', 'category', 'created_at']) {
        expectError(await api.patch(`/api/v1/tickets/${ticket.id}`, { [field]: null }), 400, field);
      }
    });

    it('PATCH refuses unknown properties and invalid values', async () => {
      const api = agentApi();
      const ticket = await create(api);
      expectError(await api.patch(`/api/v1/tickets/${ticket.id}`, { foo: 1 }), 400, 'foo');
      expectError(await api.patch(`/api/v1/tickets/${ticket.id}`, { id: randomUUID() }), 400, 'id');
      expectError(await api.patch(`/api/v1/tickets/${ticket.id}`, { status: 'done' }), 400, 'status');
      expectError(await api.patch(`/api/v1/tickets/${ticket.id}`, { assignee_id: 'unassigned' }), 400, 'assignee_id');
    });

    it('PATCH and GET of an unknown id or a non-UUID id are 404', async () => {
      const api = agentApi();
      await create(api);
      const unknown = randomUUID();
      expectError(await api.patch(`/api/v1/tickets/${unknown}`, { priority: 'high' }), 404);
      expectError(await api.get(`/api/v1/tickets/${unknown}`), 404);
      expectError(await api.patch('/api/v1/tickets/not-a-uuid', { priority: 'high' }), 404);
      expectError(await api.get('/api/v1/tickets/not-a-uuid'), 404);
      expectError(await api.get('/api/v1/tickets/12345'), 404);
    });

    it('GET by id returns the ticket as created, also to a viewer', async () => {
      const org = newOrganizationId();
      const api = agentApi(org);
      const ticket = await create(api, { external_id: 'g-1', assignee_id: 'carol', sentiment_score: 0.9 });
      const agent = await api.get<Ticket>(`/api/v1/tickets/${ticket.id}`);
      expect(agent.status).toBe(200);
      expect(agent.body).toEqual(ticket);
      const viewer = await api.as(tokenFor(org, 'viewer')).get<Ticket>(`/api/v1/tickets/${ticket.id}`);
      expect(viewer.status).toBe(200);
      expect(viewer.body).toEqual(ticket);
    });

    it('PATCH changing external_id to one another ticket has is 409 with existing_id', async () => {
      const api = agentApi();
      const holder = await create(api, { external_id: 'taken' });
      const ticket = await create(api, { external_id: 'mine', priority: 'low' });
      const res = await api.patch(`/api/v1/tickets/${ticket.id}`, { external_id: 'taken', priority: 'urgent' });
      const body = expectError(res, 409, 'external_id');
      expect(body.existing_id).toBe(holder.id);
      // Nothing of the refused PATCH was applied.
      expect((await api.get<Ticket>(`/api/v1/tickets/${ticket.id}`)).body).toEqual(ticket);
      // Setting a ticket's own external_id again is no conflict.
      const same = await api.patch<Ticket>(`/api/v1/tickets/${ticket.id}`, { external_id: 'mine' });
      expect(same.status, same.text).toBe(200);
    });
  });

  describe('list', () => {
    it('is newest created_at first, ties broken by id', async () => {
      const api = agentApi();
      const base = Date.UTC(2025, 4, 10, 12);
      const tie = iso(base + HOUR);
      const tickets = [
        await create(api, { created_at: iso(base) }),
        await create(api, { created_at: tie }),
        await create(api, { created_at: iso(base + 2 * HOUR) }),
        await create(api, { created_at: tie }),
        await create(api, { created_at: iso(base - HOUR) }),
        await create(api, { created_at: tie }),
        await create(api, { created_at: tie }),
      ];
      const items = await listAll(api);
      expect(items).toHaveLength(tickets.length);
      const times = items.map((t) => ms(t.created_at)!);
      expect(times).toEqual([...times].sort((a, b) => b - a));

      const tied = items.filter((t) => t.created_at === tickets[1].created_at).map((t) => t.id);
      expect(tied).toHaveLength(4);
      const ascending = [...tied].sort();
      // The contract fixes the tie-breaker (id), not its direction.
      expect([ascending, [...ascending].reverse()]).toContainEqual(tied);
      expect(new Set(items.map((t) => t.id))).toEqual(new Set(tickets.map((t) => t.id)));
    });

    it('limit and next_cursor visit every ticket exactly once and end with next_cursor null', async () => {
      const org = newOrganizationId();
      const api = agentApi(org);
      const base = Date.UTC(2025, 5, 1);
      // 11 tickets: a run of 5 sharing one created_at straddles page boundaries.
      const stamps = [0, 1, 1, 1, 1, 1, 2, 3, 3, 4, 5].map((h) => iso(base + h * HOUR));
      const res = await api.post('/api/v1/tickets/bulk', { tickets: stamps.map((created_at) => ({ created_at })) });
      expect(res.status, res.text).toBe(200);
      const expected = await listAll(api);
      expect(expected).toHaveLength(11);

      for (const limit of [1, 2, 3, 5, 11]) {
        const seen: Ticket[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 20; page++) {
          const body = (await api.get(`/api/v1/tickets${qs({ limit, cursor })}`)).body;
          expect(body.items.length).toBeLessThanOrEqual(limit);
          seen.push(...body.items);
          if (body.next_cursor === null) break;
          expect(typeof body.next_cursor).toBe('string');
          cursor = body.next_cursor;
        }
        expect(
          seen.map((t) => t.id),
          `limit ${limit}`,
        ).toEqual(expected.map((t) => t.id));
      }
    });

    it('defaults to 50 items', async () => {
      const api = agentApi();
      const res = await api.post('/api/v1/tickets/bulk', { tickets: Array.from({ length: 51 }, () => ({})) });
      expect(res.status, res.text).toBe(200);
      const first = await api.get('/api/v1/tickets');
      expect(first.body.items).toHaveLength(50);
      expect(first.body.next_cursor).toEqual(expect.any(String));
      const second = await api.get(`/api/v1/tickets${qs({ cursor: first.body.next_cursor })}`);
      expect(second.body.items).toHaveLength(1);
      expect(second.body.next_cursor).toBeNull();
    });

    it('an empty organization lists nothing', async () => {
      const res = await agentApi().get('/api/v1/tickets');
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({ items: [], next_cursor: null });
    });

    it('filters by repeated status, priority, channel and assignee_id (unassigned = no assignee)', async () => {
      const api = agentApi();
      const fixture = [
        { status: 'open', priority: 'low', channel: 'email', assignee_id: 'alice' },
        { status: 'pending', priority: 'high', channel: 'chat' },
        { status: 'in_progress', priority: 'high', channel: 'email', assignee_id: 'bob' },
        { status: 'resolved', priority: 'urgent', channel: 'chat' },
        { status: 'closed', priority: 'low', channel: 'phone', assignee_id: 'alice' },
        { status: 'open', priority: 'medium', channel: 'chat' },
      ];
      const created: Ticket[] = [];
      for (const fields of fixture) created.push(await create(api, fields));

      const ids = (predicate: (t: Ticket) => boolean) =>
        created
          .filter(predicate)
          .map((t) => t.id)
          .sort();
      const listed = async (params: Record<string, string | readonly string[]>) =>
        (await listAll(api, params)).map((t) => t.id).sort();

      expect(await listed({ status: ['open', 'pending'] })).toEqual(
        ids((t) => t.status === 'open' || t.status === 'pending'),
      );
      expect(await listed({ assignee_id: 'unassigned' })).toEqual(ids((t) => t.assignee_id === null));
      expect(await listed({ assignee_id: ['unassigned', 'bob'] })).toEqual(
        ids((t) => t.assignee_id === null || t.assignee_id === 'bob'),
      );
      expect(await listed({ assignee_id: 'alice' })).toEqual(ids((t) => t.assignee_id === 'alice'));
      expect(await listed({ priority: 'high', channel: ['chat', 'phone'] })).toEqual(
        ids((t) => t.priority === 'high' && (t.channel === 'chat' || t.channel === 'phone')),
      );
      expect(await listed({ category: 'billing' })).toEqual([]);
    });

    it('pages through a filtered list', async () => {
      const api = agentApi();
      const res = await api.post('/api/v1/tickets/bulk', {
        tickets: Array.from({ length: 9 }, (_, i) => ({ priority: i % 3 === 0 ? 'urgent' : 'low' })),
      });
      expect(res.status, res.text).toBe(200);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const body = (await api.get(`/api/v1/tickets${qs({ priority: 'urgent', limit: 2, cursor })}`)).body;
        for (const t of body.items as Ticket[]) expect(t.priority).toBe('urgent');
        seen.push(...body.items.map((t: Ticket) => t.id));
        if (body.next_cursor === null) break;
        cursor = body.next_cursor;
      }
      expect(seen).toHaveLength(3);
      expect(new Set(seen).size).toBe(3);
    });
  });

  describe('bulk', () => {
    it('inserts new external_ids, updates existing ones keeping unspecified fields', async () => {
      const org = newOrganizationId();
      const api = agentApi(org);
      const created = Date.now() - 6 * HOUR;
      const a = await create(api, {
        external_id: 'a',
        priority: 'high',
        category: 'billing',
        assignee_id: 'bob',
        sentiment_score: 0.4,
        created_at: iso(created),
      });
      const b = await create(api, { external_id: 'b', status: 'pending', assignee_id: 'carol' });

      const res = await api.post('/api/v1/tickets/bulk', {
        tickets: [
          { external_id: 'a', status: 'in_progress', first_response_at: iso(created + HOUR) },
          { external_id: 'c', priority: 'urgent' },
          { external_id: 'b', assignee_id: null, priority: 'low' },
          {},
          { channel: 'phone' },
        ],
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({ inserted: 3, updated: 2 });

      const afterA = (await api.get<Ticket>(`/api/v1/tickets/${a.id}`)).body;
      expect(afterA).toMatchObject({
        id: a.id,
        external_id: 'a',
        status: 'in_progress',
        priority: 'high',
        category: 'billing',
        channel: a.channel,
        assignee_id: 'bob',
        sentiment_score: 0.4,
        created_at: a.created_at,
        resolved_at: null,
      });
      expect(ms(afterA.first_response_at)).toBe(created + HOUR);

      const afterB = (await api.get<Ticket>(`/api/v1/tickets/${b.id}`)).body;
      expect(afterB).toMatchObject({ status: 'pending', priority: 'low', assignee_id: null, created_at: b.created_at });

      const all = await listAll(api);
      expect(all).toHaveLength(5);
      const c = all.find((t) => t.external_id === 'c')!;
      expect(c).toMatchObject({ priority: 'urgent', status: 'open', channel: 'web', category: 'general' });
      expect(c.id).toMatch(UUID);
      expect(all.filter((t) => t.external_id === null)).toHaveLength(2);
      expect(all.find((t) => t.channel === 'phone')).toBeDefined();
      for (const t of all) expectUtcTimestamps(t);
    });

    it('stores text as sent, whatever characters it holds', async () => {
      const api = agentApi();
      const texts = ['NULL', 'null', '"quoted"', 'back\\slash\\', '{a,b}', ' spaced ', 'comma,', 'ünï😀', "it's"];
      const tickets = texts.map((text, i) => ({ external_id: text, assignee_id: `${text}-${i}` }));
      expect((await api.post('/api/v1/tickets/bulk', { tickets })).body).toEqual({
        inserted: texts.length,
        updated: 0,
      });
      const stored = await listAll(api);
      expect(new Map(stored.map((t) => [t.external_id, t.assignee_id]))).toEqual(
        new Map(tickets.map((t) => [t.external_id, t.assignee_id])),
      );
      // The same texts name the same tickets: a second bulk updates them all.
      expect((await api.post('/api/v1/tickets/bulk', { tickets })).body).toEqual({
        inserted: 0,
        updated: texts.length,
      });
    });

    it('items without external_id always insert', async () => {
      const org = newOrganizationId();
      const api = agentApi(org);
      const tickets = [{ priority: 'low' }, { priority: 'low' }, {}];
      expect((await api.post('/api/v1/tickets/bulk', { tickets })).body).toEqual({ inserted: 3, updated: 0 });
      expect((await api.post('/api/v1/tickets/bulk', { tickets })).body).toEqual({ inserted: 3, updated: 0 });
      const { rows } = await db.query('SELECT count(*)::int AS n FROM tickets WHERE organization_id = $1', [org]);
      expect(rows[0].n).toBe(6);
      expect(await listAll(api)).toHaveLength(6);
    });

    it('applies the status rules to updates (resolve sets resolved_at, reopen clears it)', async () => {
      const api = agentApi();
      const ticket = await create(api, { external_id: 'st' });
      const before = Date.now();
      expect(
        (await api.post('/api/v1/tickets/bulk', { tickets: [{ external_id: 'st', status: 'resolved' }] })).body,
      ).toEqual({ inserted: 0, updated: 1 });
      const resolved = (await api.get<Ticket>(`/api/v1/tickets/${ticket.id}`)).body;
      expectBetween(resolved.resolved_at, before, Date.now());

      await api.post('/api/v1/tickets/bulk', { tickets: [{ external_id: 'st', status: 'closed' }] });
      expect((await api.get<Ticket>(`/api/v1/tickets/${ticket.id}`)).body.resolved_at).toBe(resolved.resolved_at);

      await api.post('/api/v1/tickets/bulk', { tickets: [{ external_id: 'st', status: 'open' }] });
      expect((await api.get<Ticket>(`/api/v1/tickets/${ticket.id}`)).body.resolved_at).toBeNull();
    });

    it('accepts 10,000 items in one request and stores them all; resending them updates all', async () => {
      const org = newOrganizationId();
      const api = agentApi(org);
      const base = Date.UTC(2025, 0, 1);
      const priorities = ['low', 'medium', 'high', 'urgent'];
      const tickets = Array.from({ length: 10_000 }, (_, i) => ({
        external_id: `bulk-${i}`,
        priority: priorities[i % 4],
        channel: i % 2 === 0 ? 'email' : 'chat',
        created_at: iso(base + i * 60_000),
      }));
      const res = await api.post('/api/v1/tickets/bulk', { tickets });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({ inserted: 10_000, updated: 0 });

      const { rows } = await db.query(
        `SELECT count(*)::int AS n, count(DISTINCT external_id)::int AS distinct_ids,
                count(*) FILTER (WHERE priority = 'urgent')::int AS urgent
         FROM tickets WHERE organization_id = $1`,
        [org],
      );
      expect(rows[0]).toEqual({ n: 10_000, distinct_ids: 10_000, urgent: 2_500 });

      const newest = (await api.get(`/api/v1/tickets${qs({ limit: 1 })}`)).body.items[0];
      expect(newest).toMatchObject({ external_id: 'bulk-9999', priority: 'urgent', channel: 'chat' });
      expect(ms(newest.created_at)).toBe(base + 9_999 * 60_000);

      const again = await api.post('/api/v1/tickets/bulk', {
        tickets: tickets.map(({ external_id }) => ({ external_id, category: 'imported' })),
      });
      expect(again.status, again.text).toBe(200);
      expect(again.body).toEqual({ inserted: 0, updated: 10_000 });
      const { rows: after } = await db.query(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE category = 'imported')::int AS imported,
                count(*) FILTER (WHERE priority = 'urgent')::int AS urgent
         FROM tickets WHERE organization_id = $1`,
        [org],
      );
      expect(after[0]).toEqual({ n: 10_000, imported: 10_000, urgent: 2_500 });
    });

    it('concurrent bulks sharing external_ids both succeed and leave one ticket per external_id', async () => {
      const org = newOrganizationId();
      const api = agentApi(org);
      const batch = (priority: string) =>
        Array.from({ length: 200 }, (_, i) => ({ external_id: `race-${i}`, priority }));
      const [first, second] = await Promise.all([
        api.post('/api/v1/tickets/bulk', { tickets: batch('low') }),
        api.post('/api/v1/tickets/bulk', { tickets: batch('high') }),
      ]);
      expect(first.status, first.text).toBe(200);
      expect(second.status, second.text).toBe(200);
      expect(first.body.inserted + second.body.inserted).toBe(200);
      expect(first.body.updated + second.body.updated).toBe(200);
      const { rows } = await db.query(
        'SELECT count(*)::int AS n, count(DISTINCT external_id)::int AS d FROM tickets WHERE organization_id = $1',
        [org],
      );
      expect(rows[0]).toEqual({ n: 200, d: 200 });
    });

    it('a viewer may read but not write', async () => {
      const org = newOrganizationId();
      const viewer = new Api(server.url, tokenFor(org, 'viewer'));
      expectError(await viewer.post('/api/v1/tickets/bulk', { tickets: [{}] }), 403);
      expect((await viewer.get('/api/v1/tickets')).body.items).toEqual([]);
    });
  });
});
