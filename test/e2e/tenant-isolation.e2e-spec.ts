import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Api, qs } from '../support/http.js';
import { expectError } from '../support/errors.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { buildTicket } from '../support/factories.js';

/**
 * API.md §1 "Tenancy": the organization comes from the token only, and another
 * organization's resources are answered exactly as if they did not exist.
 */

/** An error body without its per-request id, to compare two answers. */
const withoutRequestId = (body: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(body).filter(([key]) => key !== 'request_id'));

const SERIES = '/api/v1/analytics/time-series/ticket_count';
const RANGE = { start_date: '2025-02-01T00:00:00Z', end_date: '2025-02-08T00:00:00Z' };
const inRange = (day: number, hour = 12) => new Date(Date.UTC(2025, 1, day, hour)).toISOString();

interface Org {
  readonly id: number;
  readonly api: Api;
}

describe('tenant isolation', () => {
  let server: TestApp;
  let db: pg.Pool;

  beforeAll(async () => {
    server = await startApp();
    db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
  });
  afterAll(async () => {
    await db.end();
    await server.close();
  });

  const newOrg = (): Org => {
    const id = newOrganizationId();
    return { id, api: new Api(server.url, tokenFor(id, 'admin')) };
  };

  async function create(org: Org, overrides: Record<string, unknown> = {}) {
    const res = await org.api.post('/api/v1/tickets', buildTicket(overrides));
    expect(res.status, res.text).toBe(201);
    return res.body;
  }

  async function storedRow(id: string) {
    const { rows } = await db.query('SELECT * FROM tickets WHERE id = $1', [id]);
    return rows;
  }

  it("GET of A's ticket by B is 404, the same answer as for a ticket that does not exist", async () => {
    const [a, b] = [newOrg(), newOrg()];
    const ticket = await create(a);
    await create(b);

    const foreign = await b.api.get(`/api/v1/tickets/${ticket.id}`);
    const unknown = await b.api.get(`/api/v1/tickets/${randomUUID()}`);
    expectError(foreign, 404);
    expectError(unknown, 404);
    expect(withoutRequestId(foreign.body)).toEqual(withoutRequestId(unknown.body));
    expect(foreign.headers.get('content-type')).toBe(unknown.headers.get('content-type'));

    // A viewer of B is answered the same way.
    const viewer = await b.api.as(tokenFor(b.id, 'viewer')).get(`/api/v1/tickets/${ticket.id}`);
    expect(withoutRequestId(expectError(viewer, 404))).toEqual(withoutRequestId(unknown.body));

    expect((await a.api.get(`/api/v1/tickets/${ticket.id}`)).status).toBe(200);
  });

  it("PATCH of A's ticket by B is 404, as for an unknown id, and changes nothing", async () => {
    const [a, b] = [newOrg(), newOrg()];
    const ticket = await create(a, { priority: 'low', assignee_id: 'alice' });
    const before = await storedRow(ticket.id);

    const foreign = await b.api.patch(`/api/v1/tickets/${ticket.id}`, { priority: 'urgent', assignee_id: null });
    const unknown = await b.api.patch(`/api/v1/tickets/${randomUUID()}`, { priority: 'urgent', assignee_id: null });
    expectError(foreign, 404);
    expectError(unknown, 404);
    expect(withoutRequestId(foreign.body)).toEqual(withoutRequestId(unknown.body));

    // Also a PATCH that would be invalid on A's ticket does not reveal it.
    const invalidForeign = await b.api.patch(`/api/v1/tickets/${ticket.id}`, {
      resolved_at: new Date().toISOString(),
    });
    const invalidUnknown = await b.api.patch(`/api/v1/tickets/${randomUUID()}`, {
      resolved_at: new Date().toISOString(),
    });
    expect(invalidForeign.status).toBe(invalidUnknown.status);
    expect(withoutRequestId(invalidForeign.body)).toEqual(withoutRequestId(invalidUnknown.body));

    expect(await storedRow(ticket.id)).toEqual(before);
    expect((await a.api.get(`/api/v1/tickets/${ticket.id}`)).body).toEqual(ticket);
  });

  it("B's list never contains A's tickets, with or without filters or A's cursor", async () => {
    const [a, b] = [newOrg(), newOrg()];
    const aIds = new Set<string>();
    for (const priority of ['low', 'high', 'urgent', 'high']) aIds.add((await create(a, { priority })).id);
    const bTicket = await create(b, { priority: 'high' });

    const list = await b.api.get(`/api/v1/tickets${qs({ limit: 500 })}`);
    expect(list.status, list.text).toBe(200);
    expect(list.body.items.map((t: { id: string }) => t.id)).toEqual([bTicket.id]);
    expect(list.body.next_cursor).toBeNull();

    const filtered = await b.api.get(
      `/api/v1/tickets${qs({ priority: ['high', 'urgent'], assignee_id: 'unassigned' })}`,
    );
    expect(filtered.body.items.map((t: { id: string }) => t.id)).toEqual([bTicket.id]);

    // A cursor taken from A's first page gives B only B's own tickets.
    const aPage = await a.api.get(`/api/v1/tickets${qs({ limit: 1 })}`);
    expect(aPage.body.next_cursor).toEqual(expect.any(String));
    const withCursor = await b.api.get(`/api/v1/tickets${qs({ cursor: aPage.body.next_cursor, limit: 500 })}`);
    expect(withCursor.status, withCursor.text).toBe(200);
    for (const t of withCursor.body.items) expect(aIds.has(t.id)).toBe(false);

    const aList = await a.api.get(`/api/v1/tickets${qs({ limit: 500 })}`);
    expect(new Set(aList.body.items.map((t: { id: string }) => t.id))).toEqual(aIds);
  });

  it("B's time-series totals do not include A's tickets", async () => {
    const [a, b] = [newOrg(), newOrg()];
    await a.api.post('/api/v1/tickets/bulk', {
      tickets: [2, 3, 3, 5].map((day) => ({ created_at: inRange(day) })),
    });
    await b.api.post('/api/v1/tickets/bulk', { tickets: [3, 6].map((day) => ({ created_at: inRange(day) })) });
    await create(b, { created_at: inRange(20) }); // outside the range

    const expected = (days: number[]) => Array.from({ length: 7 }, (_, i) => days.filter((d) => d === i + 1).length);

    const bSeries = await b.api.get(`${SERIES}${qs(RANGE)}`);
    expect(bSeries.status, bSeries.text).toBe(200);
    expect(bSeries.body.total_count).toBe(2);
    expect(bSeries.body.data_points.map((p: { count: number }) => p.count)).toEqual(expected([3, 6]));

    const aSeries = await a.api.get(`${SERIES}${qs(RANGE)}`);
    expect(aSeries.body.total_count).toBe(4);
    expect(aSeries.body.data_points.map((p: { count: number }) => p.count)).toEqual(expected([2, 3, 3, 5]));

    // A freshly computed answer agrees (the cached copies are per organization).
    const bFresh = await b.api.get(`${SERIES}${qs({ ...RANGE, use_cache: false })}`);
    expect(bFresh.body.total_count).toBe(2);
  });

  it("an identical request by B is never served A's cached result or A's ETag", async () => {
    const [a, b] = [newOrg(), newOrg()];
    await create(a, { created_at: inRange(4) });
    await create(a, { created_at: inRange(4) });
    const query = `${SERIES}${qs({ ...RANGE, granularity: 'daily' })}`;

    expect((await a.api.get(query)).headers.get('x-cache')).toBe('MISS');
    const aHit = await a.api.get(query);
    expect(aHit.headers.get('x-cache')).toBe('HIT');
    expect(aHit.body.total_count).toBe(2);

    const bFirst = await b.api.get(query);
    expect(bFirst.status, bFirst.text).toBe(200);
    expect(bFirst.headers.get('x-cache')).toBe('MISS');
    expect(bFirst.body.total_count).toBe(0);

    const etag = aHit.headers.get('etag')!;
    expect(etag).toBeTruthy();
    const conditional = await b.api.get(query, { 'if-none-match': etag });
    expect(conditional.status).toBe(200);
    expect(conditional.body.total_count).toBe(0);
  });

  it('bulk by B with an external_id that exists in A creates a new ticket in B and leaves A alone', async () => {
    const [a, b] = [newOrg(), newOrg()];
    const aTicket = await create(a, { external_id: 'shared-1', priority: 'low', assignee_id: 'alice' });
    const before = await storedRow(aTicket.id);

    const res = await b.api.post('/api/v1/tickets/bulk', {
      tickets: [{ external_id: 'shared-1', priority: 'urgent' }],
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ inserted: 1, updated: 0 });

    expect(await storedRow(aTicket.id)).toEqual(before);
    expect((await a.api.get(`/api/v1/tickets/${aTicket.id}`)).body).toEqual(aTicket);

    const bItems = (await b.api.get('/api/v1/tickets')).body.items;
    expect(bItems).toHaveLength(1);
    expect(bItems[0]).toMatchObject({ external_id: 'shared-1', priority: 'urgent', assignee_id: null });
    expect(bItems[0].id).not.toBe(aTicket.id);

    const { rows } = await db.query(
      'SELECT organization_id::text AS org FROM tickets WHERE external_id = $1 AND organization_id = ANY($2::bigint[])',
      ['shared-1', [a.id, b.id]],
    );
    const byText = (x: string, y: string) => x.localeCompare(y);
    expect(rows.map((r: { org: string }) => r.org).sort(byText)).toEqual([String(a.id), String(b.id)].sort(byText));

    // A second bulk by B updates B's ticket, still not A's.
    const again = await b.api.post('/api/v1/tickets/bulk', {
      tickets: [{ external_id: 'shared-1', priority: 'high' }],
    });
    expect(again.body).toEqual({ inserted: 0, updated: 1 });
    expect(await storedRow(aTicket.id)).toEqual(before);
  });

  it("external_id uniqueness is per organization: B's create and PATCH never conflict with A's", async () => {
    const [a, b] = [newOrg(), newOrg()];
    const aTicket = await create(a, { external_id: 'shared-2' });
    await create(a, { external_id: 'shared-3' });

    const created = await b.api.post('/api/v1/tickets', buildTicket({ external_id: 'shared-2' }));
    expect(created.status, created.text).toBe(201);
    expect(created.body.id).not.toBe(aTicket.id);
    expect(created.text).not.toContain(aTicket.id);

    const patched = await b.api.patch(`/api/v1/tickets/${created.body.id}`, { external_id: 'shared-3' });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.external_id).toBe('shared-3');

    // Within B the rule still holds, and the 409 names B's ticket.
    const duplicate = await b.api.post('/api/v1/tickets', buildTicket({ external_id: 'shared-3' }));
    expect(expectError(duplicate, 409, 'external_id').existing_id).toBe(created.body.id);
  });

  it("DELETE /analytics/cache by B does not touch A's cache", async () => {
    const [a, b] = [newOrg(), newOrg()];
    await create(a, { created_at: inRange(2) });
    await create(b, { created_at: inRange(2) });
    const query = `${SERIES}${qs(RANGE)}`;

    expect((await a.api.get(query)).headers.get('x-cache')).toBe('MISS');
    expect((await a.api.get(query)).headers.get('x-cache')).toBe('HIT');
    expect((await b.api.get(query)).headers.get('x-cache')).toBe('MISS');

    for (const pattern of [undefined, 'all', 'time-series', 'ticket_count']) {
      const res = await b.api.delete(`/api/v1/analytics/cache${qs({ pattern })}`);
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ message: 'Cache invalidated successfully', organization_id: b.id });
      const aNext = await a.api.get(query);
      expect(aNext.headers.get('x-cache'), `after B's DELETE pattern=${pattern}`).toBe('HIT');
      expect(aNext.body.total_count).toBe(1);
    }
    // B's own cache was dropped.
    expect((await b.api.get(query)).headers.get('x-cache')).toBe('MISS');

    // Control: A's own DELETE does drop A's entry, so the HITs above were meaningful.
    expect((await a.api.delete('/api/v1/analytics/cache')).status).toBe(200);
    expect((await a.api.get(query)).headers.get('x-cache')).toBe('MISS');
  });

  it("cache stats are per organization: B's do not count A's hits and misses", async () => {
    const [a, b] = [newOrg(), newOrg()];
    const query = `${SERIES}${qs(RANGE)}`;
    await a.api.get(query);
    await a.api.get(query);
    await a.api.get(query);

    const bStats = await b.api.get('/api/v1/analytics/cache/stats');
    expect(bStats.status, bStats.text).toBe(200);
    expect(bStats.body).toMatchObject({ organization_id: b.id, hits: 0, misses: 0, entries: 0 });

    const aStats = await a.api.get('/api/v1/analytics/cache/stats');
    expect(aStats.body).toMatchObject({ organization_id: a.id, hits: 2, misses: 1 });
  });

  it('an organization named in the body or query is refused, never used', async () => {
    const [a, b] = [newOrg(), newOrg()];
    const res = await b.api.post('/api/v1/tickets', buildTicket({ organization_id: a.id }));
    expectError(res, 400, 'organization_id');
    const listed = await b.api.get(`/api/v1/tickets${qs({ organization_id: String(a.id) })}`);
    expectError(listed, 400, 'organization_id');
    const { rows } = await db.query(
      'SELECT count(*)::int AS n FROM tickets WHERE organization_id = ANY($1::bigint[])',
      [[a.id, b.id]],
    );
    expect(rows[0].n).toBe(0);
  });
});
