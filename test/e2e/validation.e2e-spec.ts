import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { Api, qs, type HttpResult } from '../support/http.js';
import { expectError } from '../support/errors.js';
import { JWT_SECRET, newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { buildTicket } from '../support/factories.js';

/**
 * Every 400/401/403/409 rule of API.md §1 (conventions) and §2 (tickets).
 * Each error goes through expectError, which checks the contract's error
 * shape and that the message names the offending parameter.
 */

const HOUR = 3_600_000;
const SERIES = '/api/v1/analytics/time-series/ticket_count';
const RANGE = { start_date: '2025-01-01T00:00:00Z', end_date: '2025-01-02T00:00:00Z' };
const iso = (ms: number) => new Date(ms).toISOString();

function unsignedToken(payload: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}

describe('validation and auth (API.md §1–§2)', () => {
  let server: TestApp;
  let anonymous: Api;
  let db: pg.Pool;

  beforeAll(async () => {
    server = await startApp();
    anonymous = new Api(server.url);
    db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
  });
  afterAll(async () => {
    await db.end();
    await server.close();
  });

  const apiFor = (role: 'viewer' | 'agent' | 'admin' = 'admin', org = newOrganizationId()) =>
    anonymous.as(tokenFor(org, role));

  async function ticketRows(org: number): Promise<number> {
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM tickets WHERE organization_id = $1', [
      org,
    ]);
    return Number(rows[0].n);
  }

  describe('time-series query parameters', () => {
    let api: Api;
    beforeAll(() => {
      api = apiFor('viewer');
    });

    it('accepts a well-formed request (control)', async () => {
      const res = await api.get(`${SERIES}${qs({ ...RANGE, granularity: 'hourly', status: ['open', 'pending'] })}`);
      expect(res.status, res.text).toBe(200);
      expect(res.body.data_points).toHaveLength(24);
    });

    it('rejects an unknown metric_type', async () => {
      expectError(await api.get(`/api/v1/analytics/time-series/ticket_counts${qs(RANGE)}`), 400, 'metric_type');
    });

    it.each(['minutely', 'Daily', ''])('rejects granularity=%j', async (granularity) => {
      expectError(await api.get(`${SERIES}${qs({ ...RANGE, granularity })}`), 400, 'granularity');
    });

    it.each([
      ['status', 'bogus'],
      ['status', ['open', 'bogus']],
      ['priority', 'bogus'],
      ['priority', 'HIGH'],
    ])('rejects the enum filter %s=%j', async (name, value) => {
      expectError(await api.get(`${SERIES}${qs({ ...RANGE, [name]: value })}`), 400, name);
    });

    it.each([
      ['channel', 'Bad Slug!'],
      ['channel', ''],
      ['category', 'a'.repeat(65)],
      ['category', ['billing', 'Billing']],
    ])('rejects the slug filter %s=%j', async (name, value) => {
      expectError(await api.get(`${SERIES}${qs({ ...RANGE, [name]: value })}`), 400, name);
    });

    it('accepts a slug of exactly 64 characters (control)', async () => {
      const res = await api.get(`${SERIES}${qs({ ...RANGE, category: 'a'.repeat(64) })}`);
      expect(res.status, res.text).toBe(200);
    });

    it('rejects a reversed range', async () => {
      const res = await api.get(
        `${SERIES}${qs({ start_date: '2025-01-02T00:00:00Z', end_date: '2025-01-01T00:00:00Z' })}`,
      );
      expectError(res, 400, 'start_date');
    });

    it('rejects an empty range (start_date equal to end_date, also written differently)', async () => {
      expectError(
        await api.get(`${SERIES}${qs({ start_date: '2025-01-01T00:00:00Z', end_date: '2025-01-01T00:00:00Z' })}`),
        400,
        'start_date',
      );
      expectError(
        await api.get(`${SERIES}${qs({ start_date: '2025-01-01', end_date: '2025-01-01T01:00:00+01:00' })}`),
        400,
        'start_date',
      );
    });

    it('rejects period together with start_date and end_date', async () => {
      expectError(await api.get(`${SERIES}${qs({ ...RANGE, period: '7d' })}`), 400, 'period');
    });

    it('rejects period together with only one of start_date/end_date', async () => {
      expectError(await api.get(`${SERIES}${qs({ period: '7d', start_date: RANGE.start_date })}`), 400, 'period');
      expectError(await api.get(`${SERIES}${qs({ period: '7d', end_date: RANGE.end_date })}`), 400, 'period');
    });

    it('rejects only start_date', async () => {
      expectError(await api.get(`${SERIES}${qs({ start_date: RANGE.start_date })}`), 400, 'end_date');
    });

    it('rejects only end_date', async () => {
      expectError(await api.get(`${SERIES}${qs({ end_date: RANGE.end_date })}`), 400, 'start_date');
    });

    it('rejects a request with no range at all', async () => {
      expectError(await api.get(SERIES), 400, /period|start_date/);
    });

    it.each(['1y', '24H', '7', '1h', '30days'])('rejects period=%j', async (period) => {
      expectError(await api.get(`${SERIES}${qs({ period })}`), 400, 'period');
    });

    it.each(['24h', '7d', '30d', '90d'])('accepts period=%s (control)', async (period) => {
      const res = await api.get(`${SERIES}${qs({ period })}`);
      expect(res.status, res.text).toBe(200);
    });

    it.each([
      ['start_date', 'not-a-date'],
      ['start_date', '2025-13-45'],
      ['end_date', '2025-02-30T00:00:00Z'],
      ['end_date', '01/02/2025'],
    ])('rejects the unparseable %s=%j', async (name, value) => {
      expectError(await api.get(`${SERIES}${qs({ ...RANGE, [name]: value })}`), 400, name);
    });

    it.each([
      ['start_date', '2025-01-01T00:00:00+25:00'],
      ['start_date', '2025-01-01T00:00:00+99:99'],
      ['end_date', '2025-01-03T00:00:00+24:00'],
      ['end_date', '2025-01-02T00:00:00-05:60'],
    ])('rejects an impossible offset in %s=%j', async (name, value) => {
      expectError(await api.get(`${SERIES}${qs({ ...RANGE, [name]: value })}`), 400, name);
    });

    it('accepts the widest offsets, ±18:00 (control)', async () => {
      const range = { start_date: '2025-01-01T00:00:00+18:00', end_date: '2025-01-02T00:00:00-18:00' };
      const res = await api.get(`${SERIES}${qs(range)}`);
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ start_date: '2024-12-31T06:00:00Z', end_date: '2025-01-02T18:00:00Z' });
    });

    it.each(['Mars/Phobos', '+02:00', 'UTC+2', 'Europe/Nowhere'])('rejects timezone=%j', async (timezone) => {
      expectError(await api.get(`${SERIES}${qs({ ...RANGE, timezone })}`), 400, 'timezone');
    });

    it('accepts an IANA zone (control)', async () => {
      const res = await api.get(`${SERIES}${qs({ ...RANGE, timezone: 'Europe/Berlin' })}`);
      expect(res.status, res.text).toBe(200);
    });

    it('rejects an unknown query parameter', async () => {
      expectError(await api.get(`${SERIES}${qs({ ...RANGE, foo: '1' })}`), 400, 'foo');
    });

    it('rejects an organization_id in the query (the organization only comes from the token)', async () => {
      expectError(await api.get(`${SERIES}${qs({ ...RANGE, organization_id: '1' })}`), 400, 'organization_id');
    });

    it.each([
      ['granularity', ['daily', 'hourly']],
      ['period', ['7d', '30d']],
      ['timezone', ['UTC', 'UTC']],
      ['use_cache', ['true', 'false']],
    ])('rejects the single-valued %s given twice', async (name, value) => {
      const range = name === 'period' ? {} : RANGE;
      expectError(await api.get(`${SERIES}${qs({ ...range, [name]: value })}`), 400, name);
    });

    it('rejects start_date given twice', async () => {
      const res = await api.get(`${SERIES}${qs({ ...RANGE, start_date: [RANGE.start_date, RANGE.start_date] })}`);
      expectError(res, 400, 'start_date');
    });

    it.each(['maybe', 'yes', ''])('rejects use_cache=%j', async (useCache) => {
      expectError(await api.get(`${SERIES}${qs({ ...RANGE, use_cache: useCache })}`), 400, 'use_cache');
    });

    it('refuses hourly over two years with BUCKET_LIMIT_EXCEEDED', async () => {
      const res = await api.get(
        `${SERIES}${qs({ start_date: '2023-01-01T00:00:00Z', end_date: '2025-01-01T00:00:00Z', granularity: 'hourly' })}`,
      );
      const body = expectError(res, 400, 'granularity');
      expect(body.code).toBe('BUCKET_LIMIT_EXCEEDED');
    });

    it('allows exactly 10,000 hourly buckets and refuses 10,001', async () => {
      const start = Date.UTC(2024, 0, 1);
      const allowed = await api.get(
        `${SERIES}${qs({ start_date: iso(start), end_date: iso(start + 10_000 * HOUR), granularity: 'hourly' })}`,
      );
      expect(allowed.status, allowed.text).toBe(200);
      expect(allowed.body.data_points).toHaveLength(10_000);

      const refused = await api.get(
        `${SERIES}${qs({ start_date: iso(start), end_date: iso(start + 10_001 * HOUR), granularity: 'hourly' })}`,
      );
      expect(expectError(refused, 400).code).toBe('BUCKET_LIMIT_EXCEEDED');
    });

    it('counts partially covered buckets: 10,000 hours starting mid-hour overlap 10,001 buckets', async () => {
      const start = Date.UTC(2024, 0, 1, 0, 30);
      const res = await api.get(
        `${SERIES}${qs({ start_date: iso(start), end_date: iso(start + 10_000 * HOUR), granularity: 'hourly' })}`,
      );
      expect(expectError(res, 400).code).toBe('BUCKET_LIMIT_EXCEEDED');
    });
  });

  describe('unknown query parameters on every endpoint', () => {
    const foo = qs({ foo: '1' });
    const cases: [string, (api: Api, id: string) => Promise<HttpResult>][] = [
      ['GET /tickets/:id', (api, id) => api.get(`/api/v1/tickets/${id}${foo}`)],
      ['PATCH /tickets/:id', (api, id) => api.patch(`/api/v1/tickets/${id}${foo}`, { priority: 'high' })],
      ['POST /tickets', (api) => api.post(`/api/v1/tickets${foo}`, buildTicket())],
      ['POST /tickets/bulk', (api) => api.post(`/api/v1/tickets/bulk${foo}`, { tickets: [buildTicket()] })],
      ['GET /tickets', (api) => api.get(`/api/v1/tickets${foo}`)],
      ['DELETE /analytics/cache', (api) => api.delete(`/api/v1/analytics/cache${foo}`)],
      ['POST /analytics/refresh-cache', (api) => api.post(`/api/v1/analytics/refresh-cache${foo}`)],
      ['GET /analytics/cache/stats', (api) => api.get(`/api/v1/analytics/cache/stats${foo}`)],
    ];

    it.each(cases)('%s?foo=1 is refused and writes nothing', async (_name, send) => {
      const org = newOrganizationId();
      const api = apiFor('admin', org);
      const ticket = await api.post('/api/v1/tickets', buildTicket({ priority: 'low' }));
      expect(ticket.status).toBe(201);
      expectError(await send(api, ticket.body.id), 400, 'foo');
      expect(await ticketRows(org)).toBe(1);
      expect((await api.get(`/api/v1/tickets/${ticket.body.id}`)).body.priority).toBe('low');
    });

    it('an unknown route is a JSON 404 in the error shape', async () => {
      expectError(await apiFor('viewer').get('/api/v1/nothing-here'), 404);
    });
  });

  describe('a body on the endpoints that take none', () => {
    const cachedSeries = `${SERIES}${qs(RANGE)}`;

    it.each([
      ['an unknown property', { foo: 1 }, 'property foo should not exist'],
      ['organization_id', { organization_id: 1, pattern: 'all' }, 'property organization_id should not exist'],
      ['a JSON array', [1], 'takes no body'],
      ['a JSON scalar', 5, 'takes no body'],
    ])('DELETE /analytics/cache with %s is refused and invalidates nothing', async (_, body, message) => {
      const api = apiFor('admin');
      expect((await api.get(cachedSeries)).status).toBe(200);
      expect((await api.get(cachedSeries)).headers.get('x-cache')).toBe('HIT');
      expectError(await api.request('DELETE', '/api/v1/analytics/cache', body), 400, message);
      expect((await api.get(cachedSeries)).headers.get('x-cache')).toBe('HIT');
    });

    it.each([
      ['an unknown property', { foo: 1 }, 'property foo should not exist'],
      ['a JSON array', [], 'takes no body'],
    ])('POST /analytics/refresh-cache with %s is refused', async (_, body, message) => {
      expectError(await apiFor('admin').post('/api/v1/analytics/refresh-cache', body), 400, message);
    });

    it('accepts no body or an empty object (control)', async () => {
      const api = apiFor('admin');
      expect((await api.delete('/api/v1/analytics/cache')).status).toBe(200);
      expect((await api.request('DELETE', '/api/v1/analytics/cache', {})).status).toBe(200);
      expect((await api.post('/api/v1/analytics/refresh-cache')).status).toBe(202);
      expect((await api.post('/api/v1/analytics/refresh-cache', {})).status).toBe(202);
    });
  });

  describe('names of properties every object has (constructor, __proto__, toString...)', () => {
    const NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

    it.each(NAMES)('GET /wallboard/%s is a 404', async (name) => {
      expectError(await anonymous.get(`/wallboard/${name}`), 404);
    });

    it.each(NAMES)('refuses %s as a query parameter, with a query DTO and without', async (name) => {
      const api = apiFor('admin');
      expectError(await api.get(`${SERIES}${qs({ ...RANGE, [name]: 'x' })}`), 400, name);
      expectError(await api.get(`/api/v1/tickets${qs({ [name]: 'x' })}`), 400, name);
      expectError(await api.get(`/api/v1/analytics/cache/stats${qs({ [name]: 'x' })}`), 400, name);
    });

    it.each(NAMES.filter((name) => name !== '__proto__'))('refuses %s as a body property', async (name) => {
      const api = apiFor('admin');
      const body = { metric_types: ['ticket_count'], ...RANGE };
      const path = '/api/v1/analytics/aggregations';
      expectError(await api.post(path, { ...body, [name]: 1 }), 400, name);
      expectError(await api.post(path, { ...body, filters: { [name]: ['x'] } }), 400, `filters.${name}`);
      expectError(await api.post('/api/v1/tickets', buildTicket({ [name]: 'x' })), 400, name);
    });

    it('counts a category or assignee named __proto__ or constructor like any other', async () => {
      const api = apiFor('agent');
      const names = ['__proto__', 'constructor', 'tostring'];
      for (const name of names) {
        const res = await api.post(
          '/api/v1/tickets',
          buildTicket({ category: name, assignee_id: name, created_at: '2025-01-01T12:00:00Z' }),
        );
        expect(res.status, res.text).toBe(201);
      }
      const expected = Object.fromEntries(names.map((name) => [name, 1]));
      for (const field of ['category', 'assignee_id']) {
        const res = await api.get(`/api/v1/analytics/distribution/${field}${qs(RANGE)}`);
        expect(res.status, res.text).toBe(200);
        expect(res.body).toMatchObject({ distribution: expected, total: 3 });
      }
      const dashboard = await api.get(`/api/v1/analytics/dashboard${qs(RANGE)}`);
      expect(dashboard.body.category_breakdown).toEqual(expected);
      const aggregations = await api.post('/api/v1/analytics/aggregations', {
        metric_types: ['ticket_count'],
        ...RANGE,
        group_by: ['category'],
      });
      expect(aggregations.body.results[0].breakdown.category).toEqual(expected);
    });
  });

  describe('ticket create body', () => {
    let api: Api;
    let org: number;
    beforeAll(() => {
      org = newOrganizationId();
      api = apiFor('agent', org);
    });

    it.each([
      ['status', { status: 'bogus' }],
      ['status', { status: 'OPEN' }],
      ['priority', { priority: 'bogus' }],
      ['channel', { channel: 'Bad Slug!' }],
      ['channel', { channel: '' }],
      ['category', { category: 'a'.repeat(65) }],
      ['external_id', { external_id: 'x'.repeat(129) }],
      ['external_id', { external_id: 42 }],
      ['assignee_id', { assignee_id: 'unassigned' }],
      ['assignee_id', { assignee_id: '' }],
      ['assignee_id', { assignee_id: 'a'.repeat(129) }],
      ['sentiment_score', { sentiment_score: 1.5 }],
      ['sentiment_score', { sentiment_score: -1.01 }],
      ['sentiment_score', { sentiment_score: 'x' }],
      ['sentiment_score', { sentiment_score: '0.5' }],
      ['sentiment_score', { sentiment_score: true }],
      ['assignee_id', { assignee_id: 5 }],
      ['created_at', { created_at: 'yesterday' }],
      ['created_at', { created_at: null }],
      ['first_response_at', { first_response_at: 'soon' }],
      ['created_at', { created_at: '2025-01-01T00:00:00+24:00' }],
      ['first_response_at', { created_at: '2025-01-01T00:00:00Z', first_response_at: '2025-01-02T00:00:00+05:60' }],
    ])('rejects an invalid %s: %j', async (field, overrides) => {
      expectError(await api.post('/api/v1/tickets', buildTicket(overrides)), 400, field);
    });

    it('rejects created_at more than 5 minutes in the future', async () => {
      const res = await api.post('/api/v1/tickets', buildTicket({ created_at: iso(Date.now() + 6 * 60_000) }));
      expectError(res, 400, 'created_at');
    });

    it('rejects first_response_at before created_at', async () => {
      const created = Date.now() - 2 * HOUR;
      const res = await api.post(
        '/api/v1/tickets',
        buildTicket({ created_at: iso(created), first_response_at: iso(created - 1000) }),
      );
      expectError(res, 400, 'first_response_at');
    });

    it('rejects resolved_at before created_at', async () => {
      const created = Date.now() - 2 * HOUR;
      const res = await api.post(
        '/api/v1/tickets',
        buildTicket({ status: 'resolved', created_at: iso(created), resolved_at: iso(created - 1000) }),
      );
      expectError(res, 400, 'resolved_at');
    });

    it.each(['open', 'in_progress', 'pending'])('rejects resolved_at with status %s', async (status) => {
      const res = await api.post('/api/v1/tickets', buildTicket({ status, resolved_at: iso(Date.now() - 60_000) }));
      expectError(res, 400, 'resolved_at');
    });

    it('rejects an unknown body property', async () => {
      expectError(await api.post('/api/v1/tickets', buildTicket({ foo: 1 })), 400, 'foo');
    });

    it('rejects organization_id in the body (the organization only comes from the token)', async () => {
      expectError(
        await api.post('/api/v1/tickets', buildTicket({ organization_id: newOrganizationId() })),
        400,
        'organization_id',
      );
    });

    it.each(['id', 'updated_at'])('rejects the service-owned field %s in the body', async (field) => {
      const value = field === 'id' ? randomUUID() : new Date().toISOString();
      expectError(await api.post('/api/v1/tickets', buildTicket({ [field]: value })), 400, field);
    });

    it('rejects a body that is not JSON', async () => {
      const res = await api.post('/api/v1/tickets', '{"status": "open",', { 'content-type': 'application/json' });
      expectError(res, 400, /body|JSON/i);
    });

    it('refuses an oversized body with a JSON error, not a crash', async () => {
      const res = await api.post('/api/v1/tickets/bulk', { tickets: [{ external_id: 'x'.repeat(17 * 1024 * 1024) }] });
      expect([400, 413]).toContain(res.status);
      expectError(res, res.status);
    });

    it('rejects a JSON array body', async () => {
      expectError(await api.post('/api/v1/tickets', [buildTicket()]), 400);
    });

    it('rejects a JSON scalar body', async () => {
      expectError(await api.post('/api/v1/tickets', '"open"', { 'content-type': 'application/json' }), 400);
    });

    it('wrote nothing for any of the refused creates', async () => {
      expect(await ticketRows(org)).toBe(0);
    });

    it('accepts the boundary values (control)', async () => {
      const res = await api.post(
        '/api/v1/tickets',
        buildTicket({
          external_id: 'x'.repeat(128),
          assignee_id: 'a'.repeat(128),
          channel: 'a'.repeat(64),
          sentiment_score: -1,
          created_at: iso(Date.now() + 4 * 60_000),
        }),
      );
      expect(res.status, res.text).toBe(201);
      const other = await api.post('/api/v1/tickets', buildTicket({ sentiment_score: 1 }));
      expect(other.status, other.text).toBe(201);
    });
  });

  describe('409 on a duplicate external_id', () => {
    it('names the existing ticket id in existing_id', async () => {
      const api = apiFor('agent');
      const first = await api.post('/api/v1/tickets', buildTicket({ external_id: 'ZD-1001' }));
      expect(first.status, first.text).toBe(201);
      const again = await api.post('/api/v1/tickets', buildTicket({ external_id: 'ZD-1001', priority: 'urgent' }));
      const body = expectError(again, 409, 'external_id');
      expect(body.existing_id).toBe(first.body.id);
      const stored = await api.get(`/api/v1/tickets/${first.body.id}`);
      expect(stored.body.priority).toBe(first.body.priority);
    });
  });

  describe('bulk body', () => {
    it('rejects 0 items', async () => {
      const org = newOrganizationId();
      expectError(await apiFor('agent', org).post('/api/v1/tickets/bulk', { tickets: [] }), 400, 'tickets');
    });

    it.each([
      ['missing', {}],
      ['null', { tickets: null }],
      ['an object', { tickets: buildTicket() }],
      ['a string', { tickets: 'many' }],
    ])('rejects a tickets field that is %s', async (_name, body) => {
      const org = newOrganizationId();
      expectError(await apiFor('agent', org).post('/api/v1/tickets/bulk', body), 400, 'tickets');
      expect(await ticketRows(org)).toBe(0);
    });

    it('rejects an unknown top-level property', async () => {
      expectError(await apiFor('agent').post('/api/v1/tickets/bulk', { tickets: [{}], foo: 1 }), 400, 'foo');
    });

    it('rejects 10,001 items and writes nothing', async () => {
      const org = newOrganizationId();
      const tickets = Array.from({ length: 10_001 }, () => ({}));
      expectError(await apiFor('agent', org).post('/api/v1/tickets/bulk', { tickets }), 400, 'tickets');
      expect(await ticketRows(org)).toBe(0);
    });

    it('rejects a batch with one invalid item, naming its index, and writes nothing', async () => {
      const org = newOrganizationId();
      const api = apiFor('agent', org);
      const existing = await api.post('/api/v1/tickets', buildTicket({ external_id: 'keep', priority: 'low' }));
      expect(existing.status, existing.text).toBe(201);

      const tickets = [
        buildTicket({ external_id: 'keep', priority: 'urgent' }),
        buildTicket({ external_id: 'new-1' }),
        buildTicket(),
        buildTicket({ status: 'bogus' }),
        buildTicket({ external_id: 'new-2' }),
      ];
      expectError(await api.post('/api/v1/tickets/bulk', { tickets }), 400, 'tickets.3');

      expect(await ticketRows(org)).toBe(1);
      const list = await api.get(`/api/v1/tickets${qs({ limit: 500 })}`);
      expect(list.body.items.map((t: { id: string }) => t.id)).toEqual([existing.body.id]);
      expect((await api.get(`/api/v1/tickets/${existing.body.id}`)).body.priority).toBe('low');
    });

    it('names the index of an item that breaks a ticket rule (resolved_at while open) and writes nothing', async () => {
      const org = newOrganizationId();
      const api = apiFor('agent', org);
      const tickets = [
        buildTicket(),
        buildTicket(),
        buildTicket({ status: 'open', resolved_at: iso(Date.now() - 60_000) }),
        buildTicket(),
      ];
      expectError(await api.post('/api/v1/tickets/bulk', { tickets }), 400, 'tickets.2', 'resolved_at');
      expect(await ticketRows(org)).toBe(0);
      expect((await api.get('/api/v1/tickets')).body.items).toEqual([]);
    });

    it('names the index of an update that breaks a rule against the stored ticket and writes nothing', async () => {
      const org = newOrganizationId();
      const api = apiFor('agent', org);
      const created = Date.now() - 5 * HOUR;
      const stored = await api.post('/api/v1/tickets', buildTicket({ external_id: 'old', created_at: iso(created) }));
      expect(stored.status, stored.text).toBe(201);
      const tickets = [
        buildTicket({ external_id: 'fresh' }),
        { external_id: 'old', first_response_at: iso(created - 60_000) },
      ];
      expectError(await api.post('/api/v1/tickets/bulk', { tickets }), 400, 'tickets.1', 'first_response_at');
      expect(await ticketRows(org)).toBe(1);
      expect((await api.get(`/api/v1/tickets/${stored.body.id}`)).body).toEqual(stored.body);
    });

    it('names the index of an item that is not an object and writes nothing', async () => {
      const org = newOrganizationId();
      const api = apiFor('agent', org);
      expectError(await api.post('/api/v1/tickets/bulk', { tickets: [buildTicket(), 'x'] }), 400, 'tickets.1');
      expect(await ticketRows(org)).toBe(0);
    });

    it('names the index of an item with an unknown property and writes nothing', async () => {
      const org = newOrganizationId();
      const api = apiFor('agent', org);
      const tickets = [buildTicket(), buildTicket({ foo: 1 })];
      expectError(await api.post('/api/v1/tickets/bulk', { tickets }), 400, 'tickets.1', 'foo');
      expect(await ticketRows(org)).toBe(0);
    });

    it('refuses a batch of 10,000 whose last item is invalid, naming tickets.9999, and writes nothing', async () => {
      const org = newOrganizationId();
      const api = apiFor('agent', org);
      const tickets: Record<string, unknown>[] = Array.from({ length: 10_000 }, (_, i) => ({ external_id: `n-${i}` }));
      tickets[9_999] = { external_id: 'n-9999', sentiment_score: 2 };
      expectError(await api.post('/api/v1/tickets/bulk', { tickets }), 400, 'tickets.9999', 'sentiment_score');
      expect(await ticketRows(org)).toBe(0);
    });

    it('refuses a batch of 10,000 whose rules break midway and at the end, naming both, and keeps what was stored', async () => {
      const org = newOrganizationId();
      const api = apiFor('agent', org);
      const created = Date.now() - 5 * HOUR;
      const stored = await api.post('/api/v1/tickets', buildTicket({ external_id: 'old', created_at: iso(created) }));
      expect(stored.status, stored.text).toBe(201);
      // A valid update and thousands of valid inserts come before the first item that breaks a rule.
      const tickets: Record<string, unknown>[] = Array.from({ length: 10_000 }, (_, i) => ({ external_id: `m-${i}` }));
      tickets[1] = { external_id: 'old', priority: stored.body.priority === 'urgent' ? 'low' : 'urgent' };
      tickets[6_500] = { external_id: 'm-6500', created_at: iso(created), first_response_at: iso(created - 60_000) };
      tickets[9_998] = { external_id: 'm-9998', status: 'open', resolved_at: iso(created) };
      const body = expectError(
        await api.post('/api/v1/tickets/bulk', { tickets }),
        400,
        'tickets.6500.first_response_at',
        'tickets.9998.resolved_at',
      );
      expect(body.message).toHaveLength(2);
      expect(await ticketRows(org)).toBe(1);
      expect((await api.get(`/api/v1/tickets/${stored.body.id}`)).body).toEqual(stored.body);
    });

    it('rejects two items sharing an external_id, naming both indexes, and writes nothing', async () => {
      const org = newOrganizationId();
      const api = apiFor('agent', org);
      const tickets = [
        buildTicket({ external_id: 'a' }),
        buildTicket({ external_id: 'dup' }),
        buildTicket({ external_id: 'b' }),
        buildTicket(),
        buildTicket({ external_id: 'dup', priority: 'high' }),
      ];
      expectError(await api.post('/api/v1/tickets/bulk', { tickets }), 400, 'tickets.1', 'tickets.4');
      expect(await ticketRows(org)).toBe(0);
      expect((await api.get('/api/v1/tickets')).body.items).toEqual([]);
    });
  });

  describe('ticket list query', () => {
    let api: Api;
    beforeAll(() => {
      api = apiFor('viewer');
    });

    it.each(['garbage', 'eyJub3QiOiJhIGN1cnNvciJ9', Buffer.from('[1,2]').toString('base64url')])(
      'rejects cursor=%j',
      async (cursor) => {
        expectError(await api.get(`/api/v1/tickets${qs({ cursor })}`), 400, 'cursor');
      },
    );

    it.each(['0', '501', '-1', '2.5', 'ten'])('rejects limit=%s', async (limit) => {
      expectError(await api.get(`/api/v1/tickets${qs({ limit })}`), 400, 'limit');
    });

    it.each([
      ['limit', ['1', '2']],
      ['cursor', ['a', 'b']],
    ])('rejects the single-valued %s given twice', async (name, value) => {
      expectError(await api.get(`/api/v1/tickets${qs({ [name]: value })}`), 400, name);
    });

    it.each(['1', '500'])('accepts limit=%s (control)', async (limit) => {
      const res = await api.get(`/api/v1/tickets${qs({ limit })}`);
      expect(res.status, res.text).toBe(200);
    });

    it('rejects bad filters and unknown parameters', async () => {
      expectError(await api.get(`/api/v1/tickets${qs({ status: 'bogus' })}`), 400, 'status');
      expectError(await api.get(`/api/v1/tickets${qs({ priority: 'bogus' })}`), 400, 'priority');
      expectError(await api.get(`/api/v1/tickets${qs({ channel: 'Bad Slug!' })}`), 400, 'channel');
      expectError(await api.get(`/api/v1/tickets${qs({ foo: '1' })}`), 400, 'foo');
    });
  });

  describe('authentication (401)', () => {
    const org = newOrganizationId();
    const now = () => Math.floor(Date.now() / 1000);
    const claims = (extra: Record<string, unknown> = {}) => ({
      sub: 'user-1',
      org_id: org,
      role: 'admin',
      exp: now() + 3600,
      ...extra,
    });
    const sign = (payload: Record<string, unknown>) => jwt.sign(payload, JWT_SECRET, { algorithm: 'HS256' });

    const cases: [string, () => Record<string, string>][] = [
      ['no Authorization header', () => ({})],
      ['an empty bearer', () => ({ authorization: 'Bearer ' })],
      ['a malformed token', () => ({ authorization: 'Bearer not.a.jwt' })],
      ['a non-bearer scheme', () => ({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` })],
      [
        'a token signed with another secret',
        () => ({ authorization: `Bearer ${tokenFor(org, 'admin', 'x'.repeat(32))}` }),
      ],
      ['an expired token', () => ({ authorization: `Bearer ${sign(claims({ exp: now() - 60 }))}` })],
      [
        'a token without exp',
        () => {
          const { exp: _, ...rest } = claims();
          return { authorization: `Bearer ${sign(rest)}` };
        },
      ],
      ['an unsigned token (alg none)', () => ({ authorization: `Bearer ${unsignedToken(claims())}` })],
      [
        'an HS512 token (the algorithm is HS256)',
        () => ({ authorization: `Bearer ${jwt.sign(claims(), JWT_SECRET, { algorithm: 'HS512' })}` }),
      ],
      ['org_id "1" (a string)', () => ({ authorization: `Bearer ${sign(claims({ org_id: '1' }))}` })],
      ['org_id 0', () => ({ authorization: `Bearer ${sign(claims({ org_id: 0 }))}` })],
      ['org_id -3', () => ({ authorization: `Bearer ${sign(claims({ org_id: -3 }))}` })],
      ['org_id 1.5', () => ({ authorization: `Bearer ${sign(claims({ org_id: 1.5 }))}` })],
      [
        'no org_id',
        () => {
          const { org_id: _, ...rest } = claims();
          return { authorization: `Bearer ${sign(rest)}` };
        },
      ],
      ['role "owner"', () => ({ authorization: `Bearer ${sign(claims({ role: 'owner' }))}` })],
      ['role "Admin"', () => ({ authorization: `Bearer ${sign(claims({ role: 'Admin' }))}` })],
    ];

    it.each(cases)('refuses %s', async (_name, headers) => {
      const res = await anonymous.get(`/api/v1/tickets`, headers());
      expectError(res, 401, /token|authori[sz]/i);
      const series = await anonymous.get(`${SERIES}${qs(RANGE)}`, headers());
      expectError(series, 401);
    });

    it('accepts a hand-signed token with every required claim (control)', async () => {
      const res = await anonymous.get('/api/v1/tickets', { authorization: `Bearer ${sign(claims())}` });
      expect(res.status, res.text).toBe(200);
    });

    it('answers 401 before validating the request', async () => {
      expectError(await anonymous.get(`${SERIES}${qs({ foo: '1' })}`), 401);
      expectError(await anonymous.post('/api/v1/tickets', { status: 'bogus' }), 401);
    });

    it('serves GET /health without a token', async () => {
      expect((await anonymous.get('/health')).status).toBe(200);
    });
  });

  describe('roles (403)', () => {
    it('refuses ticket writes to a viewer', async () => {
      const org = newOrganizationId();
      const viewer = apiFor('viewer', org);
      expectError(await viewer.post('/api/v1/tickets', buildTicket()), 403, /role|agent/);
      expectError(await viewer.post('/api/v1/tickets/bulk', { tickets: [buildTicket()] }), 403);
      const created = await apiFor('agent', org).post('/api/v1/tickets', buildTicket());
      expect(created.status).toBe(201);
      expectError(await viewer.patch(`/api/v1/tickets/${created.body.id}`, { priority: 'high' }), 403);
      expect(await ticketRows(org)).toBe(1);
    });

    it('refuses cache management to an agent', async () => {
      const agent = apiFor('agent');
      expectError(await agent.delete('/api/v1/analytics/cache'), 403, /role|admin/);
      expectError(await agent.post('/api/v1/analytics/refresh-cache'), 403);
      expectError(await agent.get('/api/v1/analytics/cache/stats'), 403);
    });

    it('lets a viewer read analytics and tickets', async () => {
      const viewer = apiFor('viewer');
      expect((await viewer.get(`${SERIES}${qs(RANGE)}`)).status).toBe(200);
      expect((await viewer.get('/api/v1/tickets')).status).toBe(200);
    });

    it('lets an agent write tickets and an admin manage the cache', async () => {
      expect((await apiFor('agent').post('/api/v1/tickets', buildTicket())).status).toBe(201);
      const res = await apiFor('admin').delete('/api/v1/analytics/cache');
      expect(res.status, res.text).toBe(200);
    });

    it('rejects an unknown cache pattern', async () => {
      expectError(await apiFor('admin').delete(`/api/v1/analytics/cache${qs({ pattern: 'bogus' })}`), 400, 'pattern');
    });
  });
});
