import { createHmac, randomUUID } from 'node:crypto';
import { Api, qs, type HttpResult } from '../support/http.js';
import { expectError } from '../support/errors.js';
import { JWT_SECRET, newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { clearOfMinuteEnd } from '../support/cache-checks.js';
import { buildTicket } from '../support/factories.js';
import { counterValue } from '../support/metrics.js';
import type { Ticket } from '../support/analytics-truth.js';
import { API_ENDPOINTS } from '../support/endpoints.js';
import { TestSocket } from '../support/socket.js';

/**
 * The security suite of API.md §1 (tenancy, auth, roles), §1 "Granularity"
 * (the bucket limit) and §5 (the socket), driven by one table of endpoints so
 * that every endpoint is seen to get every check. The table must list every
 * operation of the OpenAPI document: a new endpoint without a row fails here.
 */

type Role = 'viewer' | 'agent' | 'admin';
const ROLES: readonly Role[] = ['viewer', 'agent', 'admin'];
/** API.md §1: viewer < agent < admin, each may do what the ones before it may. */
const rank = (role: Role) => ROLES.indexOf(role);

const HOUR = 3_600_000;
const byText = (x: string, y: string) => x.localeCompare(y);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const iso = (ms: number) => new Date(ms).toISOString();

interface Req {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
}

/** An organization holding one ticket, as the endpoints' valid requests need. */
interface Own {
  readonly id: number;
  readonly ticketId: string;
}

interface Endpoint {
  /** `method path` exactly as the OpenAPI document lists the operation. */
  readonly key: string;
  /** The lowest role API.md allows (§2 tickets, §1 "Roles", §4.7 cache management). */
  readonly role: Role;
  /** The status of a valid request by an allowed role. */
  readonly success: number;
  /** A request that is valid for the caller's own organization: only the token can make it fail. */
  readonly request: (own: Own) => Req;
  /**
   * For endpoints with side effects: something that must read the same
   * before and after a refused request (`prepare` runs first, once).
   */
  readonly guard?: {
    readonly prepare?: (admin: Api) => Promise<void>;
    readonly probe: (admin: Api, own: Own) => Promise<unknown>;
  };
}

const SERIES = (metric: string) => `/api/v1/analytics/time-series/${metric}`;
/** A week in March 2025, in UTC: [start, end). */
const WINDOW = { start: Date.UTC(2025, 2, 3), end: Date.UTC(2025, 2, 10) };
const RANGE = { start_date: iso(WINDOW.start), end_date: iso(WINDOW.end) };

const ticketList = async (admin: Api) => {
  const res = await admin.get(`/api/v1/tickets${qs({ limit: 500 })}`);
  expect(res.status, res.text).toBe(200);
  return res.body;
};
const ticketsUnchanged = { probe: ticketList };

/** Every endpoint of API.md §2 and §4 (all under /api/v1, all needing a token). */
const ENDPOINTS: readonly Endpoint[] = [
  {
    key: 'post /api/v1/tickets',
    role: 'agent',
    success: 201,
    request: () => ({ method: 'POST', path: '/api/v1/tickets', body: buildTicket() }),
    guard: ticketsUnchanged,
  },
  {
    key: 'post /api/v1/tickets/bulk',
    role: 'agent',
    success: 200,
    request: () => ({ method: 'POST', path: '/api/v1/tickets/bulk', body: { tickets: [buildTicket()] } }),
    guard: ticketsUnchanged,
  },
  {
    key: 'patch /api/v1/tickets/{id}',
    role: 'agent',
    success: 200,
    request: (own) => ({ method: 'PATCH', path: `/api/v1/tickets/${own.ticketId}`, body: { priority: 'urgent' } }),
    guard: ticketsUnchanged,
  },
  {
    key: 'get /api/v1/tickets/{id}',
    role: 'viewer',
    success: 200,
    request: (own) => ({ method: 'GET', path: `/api/v1/tickets/${own.ticketId}` }),
  },
  {
    key: 'get /api/v1/tickets',
    role: 'viewer',
    success: 200,
    request: () => ({ method: 'GET', path: `/api/v1/tickets${qs({ limit: 10 })}` }),
  },
  {
    key: 'get /api/v1/analytics/time-series/{metric_type}',
    role: 'viewer',
    success: 200,
    request: () => ({ method: 'GET', path: `${SERIES('ticket_count')}${qs(RANGE)}` }),
  },
  {
    key: 'post /api/v1/analytics/aggregations',
    role: 'viewer',
    success: 200,
    request: () => ({
      method: 'POST',
      path: '/api/v1/analytics/aggregations',
      body: { metric_types: ['ticket_count'], ...RANGE, group_by: ['status'] },
    }),
  },
  {
    key: 'get /api/v1/analytics/dashboard',
    role: 'viewer',
    success: 200,
    request: () => ({ method: 'GET', path: '/api/v1/analytics/dashboard' }),
  },
  {
    key: 'get /api/v1/analytics/performance',
    role: 'viewer',
    success: 200,
    request: () => ({ method: 'GET', path: '/api/v1/analytics/performance' }),
  },
  {
    key: 'get /api/v1/analytics/distribution/{field}',
    role: 'viewer',
    success: 200,
    request: () => ({ method: 'GET', path: `/api/v1/analytics/distribution/status${qs(RANGE)}` }),
  },
  {
    // §4.6 names no role: an export reads analytics, which a viewer may (§1 "Roles").
    key: 'post /api/v1/analytics/export',
    role: 'viewer',
    success: 200,
    request: () => ({
      method: 'POST',
      path: '/api/v1/analytics/export',
      body: { metric_types: ['ticket_count'], format: 'csv', ...RANGE },
    }),
  },
  {
    key: 'delete /api/v1/analytics/cache',
    role: 'admin',
    success: 200,
    request: () => ({ method: 'DELETE', path: '/api/v1/analytics/cache' }),
    guard: {
      // A cached entry stays a HIT while no DELETE went through.
      prepare: async (admin) => {
        expect((await admin.get(`${SERIES('ticket_count')}${qs(RANGE)}`)).status).toBe(200);
      },
      probe: async (admin) => (await admin.get(`${SERIES('ticket_count')}${qs(RANGE)}`)).headers.get('x-cache'),
    },
  },
  {
    key: 'post /api/v1/analytics/refresh-cache',
    role: 'admin',
    success: 202,
    request: () => ({ method: 'POST', path: '/api/v1/analytics/refresh-cache' }),
  },
  {
    // §4.7 "Cache management (admin)" covers the stats too.
    key: 'get /api/v1/analytics/cache/stats',
    role: 'admin',
    success: 200,
    request: () => ({ method: 'GET', path: '/api/v1/analytics/cache/stats' }),
  },
];

/** Operations API.md §1 and §6 leave open to anyone, with a request that must succeed without a token. */
const PUBLIC: Readonly<Record<string, string>> = {
  'get /health': '/health',
  'get /metrics': '/metrics',
  'get /wallboard': '/wallboard',
};

/** An error body without its per-request id, to compare two answers. */
const withoutRequestId = (errorBody: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(errorBody).filter(([key]) => key !== 'request_id'));

const send = (api: Api, req: Req, headers: Record<string, string> = {}) =>
  api.request(req.method, req.path, req.body, headers);

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A JWT built by hand, so every defect is exactly the one named. */
function forge(payload: unknown, { alg = 'HS256', secret = JWT_SECRET }: { alg?: string; secret?: string } = {}) {
  const input = `${b64({ alg, typ: 'JWT' })}.${b64(payload)}`;
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  const signature = hash ? createHmac(hash, secret).update(input).digest('base64url') : '';
  return `${input}.${signature}`;
}

/** Valid claims for `org` as admin: each bad token below changes one thing about them. */
const claims = (org: number, changes: Record<string, unknown> = {}) => {
  const base: Record<string, unknown> = { sub: 'security-suite', org_id: org, role: 'admin', exp: nowSeconds() + 3600 };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
};

/** API.md §1: each of these tokens is 401 on HTTP and refused on the socket. */
function badTokens(org: number): [string, string][] {
  const valid = forge(claims(org));
  const [header, , signature] = valid.split('.');
  return [
    ['alg none, no signature', forge(claims(org), { alg: 'none' })],
    ['alg none, signature of the real secret kept', `${forge(claims(org), { alg: 'none' })}${signature}`],
    ['alg "None"', forge(claims(org), { alg: 'None' })],
    ['HS512 with the right secret (not HS256)', forge(claims(org), { alg: 'HS512' })],
    ['signed with another secret', forge(claims(org), { secret: 'another-secret-0123456789' })],
    ['signed with an empty secret', forge(claims(org), { secret: '' })],
    ["payload swapped for another organization's, signature kept", `${header}.${b64(claims(org + 1))}.${signature}`],
    ['signature stripped', `${header}.${b64(claims(org))}.`],
    ['expired an hour ago', forge(claims(org, { exp: nowSeconds() - 3600 }))],
    ['expired a minute ago', forge(claims(org, { exp: nowSeconds() - 60 }))],
    ['without exp', forge(claims(org, { exp: undefined }))],
    ['exp as a string', forge(claims(org, { exp: String(nowSeconds() + 3600) }))],
    ['org_id 0', forge(claims(org, { org_id: 0 }))],
    ['org_id negative', forge(claims(org, { org_id: -org }))],
    ['org_id fractional', forge(claims(org, { org_id: org + 0.5 }))],
    ['org_id as a string', forge(claims(org, { org_id: String(org) }))],
    ['org_id null', forge(claims(org, { org_id: null }))],
    ['org_id true', forge(claims(org, { org_id: true }))],
    ['org_id missing', forge(claims(org, { org_id: undefined }))],
    ['org_id an array', forge(claims(org, { org_id: [org] }))],
    ['role "superadmin"', forge(claims(org, { role: 'superadmin' }))],
    ['role "Admin" (case)', forge(claims(org, { role: 'Admin' }))],
    ['role empty', forge(claims(org, { role: '' }))],
    ['role an array', forge(claims(org, { role: ['admin'] }))],
    ['role missing', forge(claims(org, { role: undefined }))],
    [
      'payload not JSON',
      `${header}.${b64('not json')}.${createHmac('sha256', JWT_SECRET)
        .update(`${header}.${b64('not json')}`)
        .digest('base64url')}`,
    ],
    ['not a JWT at all', 'not-a-jwt'],
    ['two segments', `${header}.${b64(claims(org))}`],
  ];
}

/** Authorization headers that carry no usable bearer token; `null` sends none. */
function badHeaders(org: number): [string, string | null][] {
  const valid = forge(claims(org));
  return [
    ['no Authorization header', null],
    ['empty Authorization header', ''],
    ['"Bearer" without a token', 'Bearer'],
    ['"Bearer " and spaces', 'Bearer    '],
    ['a valid token without the Bearer scheme', valid],
    ['a valid token under the Basic scheme', `Basic ${valid}`],
    ['Basic credentials', `Basic ${Buffer.from('admin:admin').toString('base64')}`],
    ['two tokens after Bearer', `Bearer ${valid} ${valid}`],
    ['"Bearer" glued to the token', `Bearer${valid}`],
  ];
}

// ---------------------------------------------------------------------------
// Coverage, authentication and roles
// ---------------------------------------------------------------------------

describe('security: endpoints, tokens and roles (API.md §1)', () => {
  let server: TestApp;
  let anonymous: Api;
  /** The organization the bad tokens aim at, with one ticket. */
  const target = newOrganizationId();
  let own: Own;

  const newOwn = async (): Promise<{ own: Own; admin: Api }> => {
    const id = newOrganizationId();
    const admin = anonymous.as(tokenFor(id, 'admin'));
    const created = await admin.post('/api/v1/tickets', buildTicket({ created_at: iso(WINDOW.start + 30 * HOUR) }));
    expect(created.status, created.text).toBe(201);
    return { own: { id, ticketId: created.body.id }, admin };
  };

  beforeAll(async () => {
    server = await startApp();
    anonymous = new Api(server.url);
    const admin = anonymous.as(tokenFor(target, 'admin'));
    const created = await admin.post('/api/v1/tickets', buildTicket({ created_at: iso(WINDOW.start + 30 * HOUR) }));
    expect(created.status, created.text).toBe(201);
    own = { id: target, ticketId: created.body.id };
  });
  afterAll(() => server.close());

  describe('the table covers the OpenAPI document', () => {
    let operations: Map<string, any>;
    beforeAll(async () => {
      const res = await fetch(`${server.url}/docs-json`);
      expect(res.status).toBe(200);
      const doc = (await res.json()) as { paths: Record<string, Record<string, any>> };
      const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
      operations = new Map(
        Object.entries(doc.paths).flatMap(([path, item]) =>
          Object.entries(item)
            .filter(([method]) => methods.includes(method))
            .map(([method, operation]) => [`${method} ${path}`, operation] as const),
        ),
      );
    });

    it('has a security row for every operation of /docs-json, and no row for an operation it lacks', () => {
      const rows = [...ENDPOINTS.map((e) => e.key), ...Object.keys(PUBLIC)].sort();
      expect(new Set(rows).size).toBe(rows.length);
      expect([...operations.keys()].sort()).toEqual(rows);
    });

    it('lists exactly the fourteen endpoints of API.md §2 and §4', () => {
      // Written out from API.md, independently of the table: the table may not quietly drop one.
      expect(ENDPOINTS.map((e) => e.key).sort()).toEqual([...API_ENDPOINTS].sort());
    });

    it.each(ENDPOINTS.map((e) => [e.key]))('%s is documented as needing the bearer token', (key) => {
      const security = operations.get(key)?.security as Record<string, unknown>[] | undefined;
      expect(security, key).toBeDefined();
      expect(security!.length).toBeGreaterThan(0);
      expect(
        security!.some((requirement) => Object.keys(requirement).length === 0),
        'no anonymous alternative',
      ).toBe(false);
    });

    it.each(Object.entries(PUBLIC))('%s answers without a token', async (_, path) => {
      const res = await anonymous.get(path);
      expect(res.status, res.text).toBe(200);
    });
  });

  describe('every protected endpoint with a valid token (control)', () => {
    it.each(ENDPOINTS.map((e) => [e.key, e] as const))(
      '%s succeeds with a forged but valid HS256 token',
      async (_, e) => {
        const { own: fresh } = await newOwn();
        // forge() signs exactly as the contract asks, so the bad tokens fail for their one defect.
        const res = await send(anonymous.as(forge(claims(fresh.id))), e.request(fresh));
        expect(res.status, res.text).toBe(e.success);
      },
    );
  });

  describe('every protected endpoint × every bad token → 401', () => {
    let unauthorizedCode: string;
    beforeAll(async () => {
      unauthorizedCode = expectError(await anonymous.get('/api/v1/tickets'), 401).code;
    });

    const check = async (e: Endpoint, headers: Record<string, string>) => {
      const admin = anonymous.as(tokenFor(own.id, 'admin'));
      await e.guard?.prepare?.(admin);
      const before = await e.guard?.probe(admin, own);
      const res = await send(anonymous, e.request(own), headers);
      const body = expectError(res, 401);
      expect(body.code, 'one stable code for every 401').toBe(unauthorizedCode);
      expect(res.text).not.toContain(own.ticketId);
      if (e.guard) expect(await e.guard.probe(admin, own), 'a refused request changes nothing').toEqual(before);
    };

    const tokenRows = ENDPOINTS.flatMap((e) =>
      badTokens(target).map(([label, token]) => [e.key, label, e, token] as const),
    );
    it.each(tokenRows)('%s with a token %s', async (_, __, e, token) => {
      await check(e, { authorization: `Bearer ${token}` });
    });

    const headerRows = ENDPOINTS.flatMap((e) =>
      badHeaders(target).map(([label, header]) => [e.key, label, e, header] as const),
    );
    it.each(headerRows)('%s with %s', async (_, __, e, header) => {
      await check(e, header === null ? {} : { authorization: header });
    });
  });

  describe('every protected endpoint answers 401 before it looks at the input', () => {
    // Input the endpoint would refuse with 400 if the caller were authenticated.
    const inputs: [string, string][] = [
      ['an undeclared query parameter', 'token=x'],
      ['a query value holding NUL', 'foo=%00'],
    ];
    const callers: [string, Record<string, string>][] = [
      ['no token', {}],
      ['a bad token', { authorization: 'Bearer not-a-jwt' }],
    ];
    const rows = ENDPOINTS.flatMap((e) =>
      inputs.flatMap(([input, extra]) =>
        callers.map(([caller, headers]) => [e.key, input, caller, e, extra, headers] as const),
      ),
    );

    it.each(rows)('%s with %s and %s', async (_, __, ___, e, extra, headers) => {
      const req = e.request(own);
      const path = `${req.path}${req.path.includes('?') ? '&' : '?'}${extra}`;
      // An unknown body property too, where a body can be sent at all.
      const body = req.method === 'GET' ? undefined : { ...(req.body as object | undefined), undeclared: 'x' };
      expectError(await send(anonymous, { ...req, path, body }, headers), 401);
    });
  });

  describe('the socket handshake with every bad token → connect_error "unauthorized"', () => {
    const sockets: TestSocket[] = [];
    afterEach(() => sockets.splice(0).forEach((s) => s.close()));

    const rows = [['no token', undefined], ['an empty token', ''], ...badTokens(target)] as [
      string,
      string | undefined,
    ][];
    const cases = rows.flatMap(([label, token]) =>
      (token === undefined ? [false] : [false, true]).map(
        (viaQuery) => [label, viaQuery ? 'query' : 'auth', token, viaQuery] as const,
      ),
    );

    it.each(cases)('refuses %s (in the %s)', async (_, __, token, viaQuery) => {
      const socket = new TestSocket(server.url, token, { viaQuery });
      sockets.push(socket);
      await expect(socket.connected()).rejects.toThrow('unauthorized');
      expect(socket.socket.connected).toBe(false);
      expect(socket.events.map((e) => e.name)).not.toContain('connected');
    });

    it.each(['auth', 'query'])('accepts a forged but valid token in the %s (control)', async (where) => {
      const socket = new TestSocket(server.url, forge(claims(target, { role: 'viewer' })), {
        viaQuery: where === 'query',
      });
      sockets.push(socket);
      await socket.connected();
      expect((await socket.next('connected')).organization_id).toBe(target);
    });
  });

  describe('role matrix', () => {
    let forbiddenCode: string;
    beforeAll(async () => {
      forbiddenCode = expectError(
        await anonymous.as(tokenFor(own.id, 'viewer')).post('/api/v1/tickets', buildTicket()),
        403,
      ).code;
    });

    const rows = ENDPOINTS.flatMap((e) =>
      ROLES.map((role) => [e.key, role, rank(role) >= rank(e.role) ? `${e.success}` : '403', e] as const),
    );
    it.each(rows)('%s as %s → %s', async (_, role, expected, e) => {
      const { own: fresh, admin } = await newOwn();
      await e.guard?.prepare?.(admin);
      const before = await e.guard?.probe(admin, fresh);
      const res = await send(anonymous.as(tokenFor(fresh.id, role)), e.request(fresh));
      if (expected === '403') {
        expect(expectError(res, 403).code, 'one stable code for every 403').toBe(forbiddenCode);
        if (e.guard) expect(await e.guard.probe(admin, fresh), 'a refused request changes nothing').toEqual(before);
      } else {
        expect(res.status, res.text).toBe(e.success);
      }
    });

    it.each(ROLES)('the socket accepts a %s and lets it subscribe', async (role) => {
      const org = newOrganizationId();
      const socket = new TestSocket(server.url, tokenFor(org, role));
      try {
        await socket.connected();
        const ack = await socket.emit('subscribe', { metrics: ['ticket_count'], window: '1h' });
        expect(ack.ok).toBe(true);
        expect((await socket.next('subscription_data')).organization_id).toBe(org);
      } finally {
        socket.close();
      }
    });
  });
});

// ---------------------------------------------------------------------------
// Tenant isolation on every endpoint
// ---------------------------------------------------------------------------

/** A ticket of the fixture (the shared ground-truth shape; nothing here is reopened). */
type Fixture = Omit<Ticket, 'reopened_from'>;

const at = (day: number, hour: number) => Date.UTC(2025, 2, day, hour);

/** Organization B: what every answer to B must be made of. */
const B_TICKETS: readonly Fixture[] = [
  {
    external_id: 'b-1',
    status: 'open',
    priority: 'low',
    channel: 'email',
    category: 'billing',
    assignee_id: 'b-agent-1',
    sentiment_score: 0.5,
    created_at: at(4, 10),
    first_response_at: at(4, 11),
    resolved_at: null,
  },
  {
    external_id: 'b-2',
    status: 'resolved',
    priority: 'high',
    channel: 'chat',
    category: 'billing',
    assignee_id: 'b-agent-2',
    sentiment_score: -0.5,
    created_at: at(5, 10),
    first_response_at: at(5, 13),
    resolved_at: at(5, 16),
  },
  {
    external_id: 'b-3',
    status: 'pending',
    priority: 'medium',
    channel: 'email',
    category: 'technical',
    assignee_id: null,
    sentiment_score: null,
    created_at: at(6, 10),
    first_response_at: null,
    resolved_at: null,
  },
];

/**
 * Organization A: the same week, slow and unhappy, with values B never has
 * ("secret" appears in no answer to B), plus an old open ticket in A's backlog.
 */
const A_TICKETS: readonly Fixture[] = [3, 4, 4, 5, 6, 8].map((day, i) => ({
  external_id: `a-secret-ext-${i}`,
  status: i % 2 === 0 ? 'resolved' : 'open',
  priority: 'urgent',
  channel: 'asecretchannel',
  category: 'asecretcategory',
  assignee_id: 'a-secret-agent',
  sentiment_score: -0.9,
  created_at: at(day, 9),
  first_response_at: at(day, 19),
  resolved_at: i % 2 === 0 ? at(day, 23) : null,
}));
const A_OLD_BACKLOG: Fixture = {
  ...A_TICKETS[1],
  external_id: 'a-secret-ext-old',
  created_at: Date.UTC(2024, 11, 1),
  first_response_at: null,
};

const body = (t: Fixture) =>
  buildTicket({
    ...t,
    created_at: iso(t.created_at),
    first_response_at: t.first_response_at === null ? null : iso(t.first_response_at),
    resolved_at: t.resolved_at === null ? null : iso(t.resolved_at),
  });

const countBy = (tickets: readonly Fixture[], key: keyof Fixture) => {
  const counts: Record<string, number> = {};
  for (const t of tickets) {
    const value = String(t[key] ?? 'unassigned');
    counts[value] = (counts[value] ?? 0) + 1;
  }
  return counts;
};
/** A breakdown without its zero entries: whether a service lists empty values is not the point here. */
const nonZero = (counts: Record<string, number>) =>
  Object.fromEntries(Object.entries(counts).filter(([, n]) => n !== 0));
const mean = (values: number[]) => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);
/** PostgreSQL's percentile_cont: linear interpolation between the closest ranks. */
const percentile = (values: number[], fraction: number) => {
  const sorted = [...values].sort((x, y) => x - y);
  const position = fraction * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
};
const inWindow = (instant: number | null) => instant !== null && instant >= WINDOW.start && instant < WINDOW.end;
const OPEN = ['open', 'in_progress', 'pending'];
const SLA: Record<string, number> = { urgent: 1, high: 4, medium: 8, low: 24 };

/** §3 and §4: B's numbers over WINDOW, from B's fixture alone. */
const B = (() => {
  const created = B_TICKETS.filter((t) => inWindow(t.created_at));
  const responses = B_TICKETS.filter((t) => inWindow(t.first_response_at));
  const resolutions = B_TICKETS.filter((t) => inWindow(t.resolved_at));
  const responseHours = responses.map((t) => (t.first_response_at! - t.created_at) / HOUR);
  const resolutionHours = resolutions.map((t) => (t.resolved_at! - t.created_at) / HOUR);
  const scores = created.filter((t) => t.sentiment_score !== null).map((t) => t.sentiment_score!);
  return {
    ticketCount: created.length,
    responseHours,
    resolutionHours,
    scores,
    byMetric: {
      ticket_count: { total: created.length, average: created.length / 7 },
      response_time: { total: responseHours.length, average: mean(responseHours) },
      resolution_time: { total: resolutionHours.length, average: mean(resolutionHours) },
      sentiment_score: { total: scores.length, average: mean(scores) },
    } as Record<string, { total: number; average: number | null }>,
    distribution: (field: keyof Fixture) => countBy(created, field),
    open: created.filter((t) => OPEN.includes(t.status)).length,
    backlog: B_TICKETS.filter((t) => OPEN.includes(t.status)).length,
    sla:
      responses.filter((t) => (t.first_response_at! - t.created_at) / HOUR <= SLA[t.priority]).length /
      responses.length,
  };
})();

const METRICS = ['ticket_count', 'response_time', 'resolution_time', 'sentiment_score'] as const;
const DIMENSIONS = ['status', 'priority', 'channel', 'category', 'assignee_id'] as const;

interface Org {
  readonly id: number;
  readonly admin: Api;
  readonly agent: Api;
  readonly viewer: Api;
  /** Created tickets, by external_id. */
  readonly tickets: Map<string, Record<string, any>>;
}

describe('security: tenant isolation on every endpoint (API.md §1 "Tenancy")', () => {
  let server: TestApp;
  let a: Org;
  let b: Org;

  const newOrg = (): Org => {
    const id = newOrganizationId();
    const api = new Api(server.url);
    return {
      id,
      admin: api.as(tokenFor(id, 'admin')),
      agent: api.as(tokenFor(id, 'agent')),
      viewer: api.as(tokenFor(id, 'viewer')),
      tickets: new Map(),
    };
  };

  async function seed(org: Org, tickets: readonly Fixture[]) {
    const res = await org.admin.post('/api/v1/tickets/bulk', { tickets: tickets.map(body) });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ inserted: tickets.length, updated: 0 });
    for (const t of (await ticketList(org.admin)).items) org.tickets.set(t.external_id, t);
    expect(org.tickets.size).toBe(tickets.length);
  }

  /** Nothing of A in an answer to anyone else: no id, no external_id, no value only A has, not A's organization id. */
  function expectNoTraceOfA(res: HttpResult, { values = true }: { values?: boolean } = {}) {
    for (const t of a.tickets.values()) expect(res.text).not.toContain(t.id);
    if (values) expect(res.text).not.toContain('secret');
    expect(res.text).not.toContain(String(a.id));
  }

  /** A's tickets exactly as A created them. */
  async function expectAUntouched() {
    const now = await ticketList(a.admin);
    expect(now.items).toHaveLength(a.tickets.size);
    for (const t of now.items) expect(t).toEqual(a.tickets.get(t.external_id));
  }

  const sendAs = (org: Org, req: Req) => send(org.admin, req);

  /** A reads first (so A's result is cached and A has something to leak), then B asks the same. */
  async function readAfterA(req: Req) {
    const fromA = await sendAs(a, req);
    expect(fromA.status, fromA.text).toBe(200);
    const fromB = await sendAs(b, req);
    expect(fromB.status, fromB.text).toBe(200);
    expectNoTraceOfA(fromB);
    return { fromA, fromB };
  }

  beforeAll(async () => {
    server = await startApp();
    a = newOrg();
    b = newOrg();
    await seed(a, [...A_TICKETS, A_OLD_BACKLOG]);
    await seed(b, B_TICKETS);
  });
  afterAll(() => server.close());

  const ROWS: readonly { key: string; what: string; check: () => Promise<void> }[] = [
    {
      key: 'post /api/v1/tickets',
      what: "another organization creating with A's external_id gets its own ticket, no conflict, no trace of A",
      check: async () => {
        const w = newOrg();
        for (const t of A_TICKETS.slice(0, 2)) {
          const res = await w.agent.post('/api/v1/tickets', buildTicket({ external_id: t.external_id }));
          expect(res.status, res.text).toBe(201);
          expect(res.body.id).not.toBe(a.tickets.get(t.external_id)!.id);
          expectNoTraceOfA(res, { values: false });
        }
        await expectAUntouched();
      },
    },
    {
      key: 'post /api/v1/tickets/bulk',
      what: "A's external_ids insert in B's twin, A's ids are refused, A is never written",
      check: async () => {
        const w = newOrg();
        const byExternal = await w.agent.post('/api/v1/tickets/bulk', {
          tickets: A_TICKETS.map((t) => ({ external_id: t.external_id, status: 'closed', priority: 'low' })),
        });
        expect(byExternal.status, byExternal.text).toBe(200);
        expect(byExternal.body).toEqual({ inserted: A_TICKETS.length, updated: 0 });
        expectNoTraceOfA(byExternal);

        // A ticket `id` is set by the service (§2): naming A's is refused, and all or nothing holds.
        const aTicket = a.tickets.get(A_TICKETS[1].external_id)!;
        const byId = await w.agent.post('/api/v1/tickets/bulk', {
          tickets: [buildTicket({ external_id: 'w-new' }), { id: aTicket.id, status: 'closed' }],
        });
        expect([400, 404], byId.text).toContain(byId.status);
        expectError(byId, byId.status);
        expectNoTraceOfA(byId, { values: false });
        expect((await ticketList(w.admin)).items).toHaveLength(A_TICKETS.length);
        await expectAUntouched();
      },
    },
    {
      key: 'patch /api/v1/tickets/{id}',
      what: "B's PATCH of A's ticket is 404 exactly as for an unknown id, for every role that may write, and A is untouched",
      check: async () => {
        for (const t of a.tickets.values()) {
          for (const api of [b.agent, b.admin]) {
            const foreign = await api.patch(`/api/v1/tickets/${t.id}`, { status: 'closed', assignee_id: 'b-agent-1' });
            const unknown = await api.patch(`/api/v1/tickets/${randomUUID()}`, {
              status: 'closed',
              assignee_id: 'b-agent-1',
            });
            expectError(foreign, 404);
            expectError(unknown, 404);
            expect(withoutRequestId(foreign.body)).toEqual(withoutRequestId(unknown.body));
            expectNoTraceOfA(foreign);
          }
        }
        await expectAUntouched();
      },
    },
    {
      key: 'get /api/v1/tickets/{id}',
      what: "B's GET of A's ticket is 404 exactly as for an unknown id, for every role",
      check: async () => {
        for (const t of a.tickets.values()) {
          for (const api of [b.viewer, b.agent, b.admin]) {
            const foreign = await api.get(`/api/v1/tickets/${t.id}`);
            const unknown = await api.get(`/api/v1/tickets/${randomUUID()}`);
            expectError(foreign, 404);
            expectError(unknown, 404);
            expect(withoutRequestId(foreign.body)).toEqual(withoutRequestId(unknown.body));
            expectNoTraceOfA(foreign);
          }
        }
        // Control: the same ids are A's to read.
        for (const t of a.tickets.values()) expect((await a.viewer.get(`/api/v1/tickets/${t.id}`)).status).toBe(200);
      },
    },
    {
      key: 'get /api/v1/tickets',
      what: "B's list holds B's tickets only: unfiltered, filtered on A's values, and with A's cursor",
      check: async () => {
        const all = await b.viewer.get(`/api/v1/tickets${qs({ limit: 500 })}`);
        expect(all.status, all.text).toBe(200);
        const bIds = [...b.tickets.values()].map((t) => t.id as string).sort(byText);
        expect(all.body.items.map((t: { id: string }) => t.id).sort(byText)).toEqual(bIds);
        expectNoTraceOfA(all);

        const onAValues = await b.viewer.get(
          `/api/v1/tickets${qs({ category: 'asecretcategory', channel: 'asecretchannel', priority: 'urgent' })}`,
        );
        expect(onAValues.status, onAValues.text).toBe(200);
        expect(onAValues.body).toEqual({ items: [], next_cursor: null });

        const aPage = await a.viewer.get(`/api/v1/tickets${qs({ limit: 2 })}`);
        expect(aPage.body.next_cursor).toEqual(expect.any(String));
        const withACursor = await b.viewer.get(`/api/v1/tickets${qs({ limit: 500, cursor: aPage.body.next_cursor })}`);
        if (withACursor.status === 200) {
          for (const t of withACursor.body.items) expect(bIds).toContain(t.id);
          expectNoTraceOfA(withACursor);
        } else {
          expectError(withACursor, 400, 'cursor');
        }
      },
    },
    {
      key: 'get /api/v1/analytics/time-series/{metric_type}',
      what: "B's series of every metric count B's tickets only, also right after A's identical request was cached",
      check: async () => {
        for (const metric of METRICS) {
          const queries: Record<string, string | boolean>[] = [
            RANGE,
            { ...RANGE, use_cache: false },
            { ...RANGE, granularity: 'hourly' },
          ];
          for (const query of queries) {
            const { fromA, fromB } = await readAfterA({ method: 'GET', path: `${SERIES(metric)}${qs(query)}` });
            expect(fromA.body.total_count, `A has ${metric} to leak`).toBeGreaterThan(B.byMetric[metric].total);
            expect(fromB.body.total_count, metric).toBe(B.byMetric[metric].total);
            if (B.byMetric[metric].average === null) expect(fromB.body.average_value).toBeNull();
            else if (query.granularity !== 'hourly')
              expect(fromB.body.average_value).toBeCloseTo(B.byMetric[metric].average!, 9);
          }
        }
      },
    },
    {
      key: 'post /api/v1/analytics/aggregations',
      what: "B's aggregation of every metric and dimension holds B's totals and B's values only",
      check: async () => {
        const { fromB } = await readAfterA({
          method: 'POST',
          path: '/api/v1/analytics/aggregations',
          body: { metric_types: [...METRICS], ...RANGE, group_by: [...DIMENSIONS] },
        });
        expect(fromB.body.organization_id).toBe(b.id);
        for (const metric of METRICS) {
          const result = fromB.body.results.find((r: { metric_type: string }) => r.metric_type === metric);
          expect(result.total_count, metric).toBe(B.byMetric[metric].total);
        }
        const counts = fromB.body.results.find((r: { metric_type: string }) => r.metric_type === 'ticket_count');
        for (const dimension of DIMENSIONS) {
          expect(nonZero(counts.breakdown[dimension]), dimension).toEqual(B.distribution(dimension));
        }
      },
    },
    {
      key: 'get /api/v1/analytics/dashboard',
      what: "B's dashboard counts B's tickets and B's backlog only",
      check: async () => {
        const { fromB } = await readAfterA({ method: 'GET', path: `/api/v1/analytics/dashboard${qs(RANGE)}` });
        expect(fromB.body).toMatchObject({
          total_tickets: B.ticketCount,
          open_tickets: B.open,
          resolved_tickets: B.ticketCount - B.open,
          current_backlog: B.backlog,
          sentiment_breakdown: {
            positive: B.scores.filter((s) => s > 0.2).length,
            neutral: B.scores.filter((s) => s >= -0.2 && s <= 0.2).length,
            negative: B.scores.filter((s) => s < -0.2).length,
          },
        });
        expect(fromB.body.avg_response_time_hours).toBeCloseTo(mean(B.responseHours)!, 9);
        expect(fromB.body.avg_resolution_time_hours).toBeCloseTo(mean(B.resolutionHours)!, 9);
        expect(nonZero(fromB.body.category_breakdown)).toEqual(B.distribution('category'));
        expect(nonZero(fromB.body.channel_breakdown)).toEqual(B.distribution('channel'));
        expect(nonZero(fromB.body.priority_breakdown)).toEqual(B.distribution('priority'));
        const trendTotal = fromB.body.trend_data.ticket_count.reduce(
          (n: number, p: { count: number }) => n + p.count,
          0,
        );
        expect(trendTotal).toBe(B.ticketCount);
      },
    },
    {
      key: 'get /api/v1/analytics/performance',
      what: "B's percentiles and SLA compliance are over B's tickets only",
      check: async () => {
        const { fromB } = await readAfterA({ method: 'GET', path: `/api/v1/analytics/performance${qs(RANGE)}` });
        for (const p of [50, 95, 99]) {
          expect(fromB.body[`response_time_p${p}`], `p${p}`).toBeCloseTo(percentile(B.responseHours, p / 100), 9);
          expect(fromB.body[`resolution_time_p${p}`], `p${p}`).toBeCloseTo(percentile(B.resolutionHours, p / 100), 9);
        }
        expect(fromB.body.sla_compliance_rate).toBeCloseTo(B.sla, 9);
      },
    },
    {
      key: 'get /api/v1/analytics/distribution/{field}',
      what: "B's distribution by every dimension counts B's tickets only",
      check: async () => {
        for (const field of DIMENSIONS) {
          const { fromB } = await readAfterA({
            method: 'GET',
            path: `/api/v1/analytics/distribution/${field}${qs(RANGE)}`,
          });
          expect(nonZero(fromB.body.distribution), field).toEqual(B.distribution(field));
          expect(fromB.body.total).toBe(B.ticketCount);
        }
      },
    },
    {
      key: 'post /api/v1/analytics/export',
      what: "B's csv, json and raw exports hold B's numbers and B's tickets only",
      check: async () => {
        const request = (format: string, raw = false): Req => ({
          method: 'POST',
          path: '/api/v1/analytics/export',
          body: { metric_types: [...METRICS], ...RANGE, format, include_raw_data: raw },
        });
        const csv = (await readAfterA(request('csv'))).fromB;
        const lines = csv.text.trim().split(/\r?\n/);
        expect(lines[0]).toBe('metric_type,timestamp,value,count');
        for (const metric of METRICS) {
          const total = lines
            .slice(1)
            .map((line) => line.split(','))
            .filter(([m]) => m === metric)
            .reduce((n, cells) => n + Number(cells[3]), 0);
          expect(total, metric).toBe(B.byMetric[metric].total);
        }
        expect(csv.headers.get('content-disposition')).toContain(`pulse_${b.id}_`);

        const json = (await readAfterA(request('json'))).fromB;
        const parsed = JSON.parse(json.text);
        expect(parsed.metadata.organization_id).toBe(b.id);
        for (const metric of METRICS) {
          const total = parsed.series[metric].reduce((n: number, p: { count: number }) => n + p.count, 0);
          expect(total, metric).toBe(B.byMetric[metric].total);
        }

        for (const format of ['csv', 'json']) {
          const raw = (await readAfterA(request(format, true))).fromB;
          const ids = [...b.tickets.values()].map((t) => t.id);
          for (const id of ids) expect(raw.text, format).toContain(id);
        }

        const xlsx = await sendAs(b, request('xlsx', true));
        expect(xlsx.status, xlsx.text).toBe(200);
        expect(xlsx.headers.get('content-disposition')).toContain(`pulse_${b.id}_`);
      },
    },
    {
      key: 'delete /api/v1/analytics/cache',
      what: "B's DELETE, whatever the pattern, drops none of A's cached results",
      check: async () => {
        const cachedByA = [`${SERIES('ticket_count')}${qs(RANGE)}`, `/api/v1/analytics/dashboard${qs(RANGE)}`];
        // A stored dashboard lives until the end of its minute at most.
        await clearOfMinuteEnd();
        for (const path of cachedByA) await a.viewer.get(path);
        for (const pattern of [undefined, 'all', 'time-series', 'dashboard', 'ticket_count']) {
          const res = await b.admin.delete(`/api/v1/analytics/cache${qs({ pattern })}`);
          expect(res.status, res.text).toBe(200);
          expect(res.body.organization_id).toBe(b.id);
          expectNoTraceOfA(res);
          for (const path of cachedByA) {
            expect((await a.viewer.get(path)).headers.get('x-cache'), `${path} after pattern=${pattern}`).toBe('HIT');
          }
        }
        // Control: A's own DELETE does drop them, so the HITs above mean something.
        expect((await a.admin.delete('/api/v1/analytics/cache')).status).toBe(200);
        expect((await a.viewer.get(cachedByA[0])).headers.get('x-cache')).toBe('MISS');
      },
    },
    {
      key: 'post /api/v1/analytics/refresh-cache',
      what: "B's refresh recomputes B's results only: A's stats and entries do not move",
      check: async () => {
        const cachedByA = `${SERIES('ticket_count')}${qs(RANGE)}`;
        await a.viewer.get(cachedByA);
        const aBefore = (await a.admin.get('/api/v1/analytics/cache/stats')).body;
        const bBefore = (await b.admin.get('/api/v1/analytics/cache/stats')).body;
        const res = await b.admin.post('/api/v1/analytics/refresh-cache');
        expect(res.status, res.text).toBe(202);
        expect(res.body.organization_id).toBe(b.id);
        expectNoTraceOfA(res);
        // Control: B's refresh did store results (§4.7: dashboard and performance ×3, time-series ×4).
        const deadline = Date.now() + 10_000;
        for (;;) {
          const entries = (await b.admin.get('/api/v1/analytics/cache/stats')).body.entries;
          if (entries > bBefore.entries) break;
          expect(Date.now(), `B's entries stayed at ${entries}`).toBeLessThan(deadline);
          await sleep(100);
        }
        await sleep(300);
        expect((await a.admin.get('/api/v1/analytics/cache/stats')).body).toEqual(aBefore);
        expect((await a.viewer.get(cachedByA)).headers.get('x-cache')).toBe('HIT');
      },
    },
    {
      key: 'get /api/v1/analytics/cache/stats',
      what: "another organization's stats are its own: A's hits, misses and entries never show in them",
      check: async () => {
        // A fresh organization, so no background refresh of B's can move its entries meanwhile.
        const c = newOrg();
        const own = `${SERIES('ticket_count')}${qs(RANGE)}`;
        for (let i = 0; i < 2; i++) expect((await c.viewer.get(own)).status).toBe(200);
        const before = await c.admin.get('/api/v1/analytics/cache/stats');
        expect(before.status, before.text).toBe(200);
        expect(before.body).toMatchObject({ organization_id: c.id, hits: 1, misses: 1 });
        expectNoTraceOfA(before);

        const query = `${SERIES('sentiment_score')}${qs({ ...RANGE, granularity: 'weekly' })}`;
        const aStats = (await a.admin.get('/api/v1/analytics/cache/stats')).body;
        for (let i = 0; i < 4; i++) expect((await a.viewer.get(query)).status).toBe(200);
        // Control: A's own stats did count them (one MISS, three HITs).
        const aAfter = (await a.admin.get('/api/v1/analytics/cache/stats')).body;
        expect([aAfter.hits - aStats.hits, aAfter.misses - aStats.misses]).toEqual([3, 1]);
        expect((await c.admin.get('/api/v1/analytics/cache/stats')).body).toEqual(before.body);
        expect((await b.admin.get('/api/v1/analytics/cache/stats')).body.organization_id).toBe(b.id);
      },
    },
  ];

  it('has an isolation row for every endpoint of the table', () => {
    expect(ROWS.map((r) => r.key).sort()).toEqual(ENDPOINTS.map((e) => e.key).sort());
  });

  it.each(ROWS.map((r) => [r.key, r.what, r] as const))('%s: %s', async (_, __, row) => {
    await row.check();
  });
});

// ---------------------------------------------------------------------------
// Tenant isolation on the socket
// ---------------------------------------------------------------------------

describe('security: tenant isolation on the socket (API.md §5)', () => {
  let server: TestApp;
  const sockets: TestSocket[] = [];
  beforeAll(async () => {
    server = await startApp();
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  afterAll(() => server.close());

  const open = async (org: number) => {
    const socket = new TestSocket(server.url, tokenFor(org, 'viewer'));
    sockets.push(socket);
    await socket.connected();
    return socket;
  };
  const SUBSCRIPTION = { metrics: [...METRICS], interval: 1, window: '1h', granularity: 'hourly' };

  it("a socket of B never receives A's updates, and its numbers never include A's tickets", async () => {
    const [aId, bId] = [newOrganizationId(), newOrganizationId()];
    const aApi = new Api(server.url, tokenFor(aId, 'agent'));
    const bApi = new Api(server.url, tokenFor(bId, 'agent'));
    const recent = () => iso(Date.now() - 20 * 60_000);
    const seededA = await aApi.post('/api/v1/tickets/bulk', {
      tickets: [0, 1, 2].map(() => buildTicket({ created_at: recent() })),
    });
    expect(seededA.body).toEqual({ inserted: 3, updated: 0 });
    const seededB = await bApi.post('/api/v1/tickets/bulk', {
      tickets: [0, 1].map(() => buildTicket({ created_at: recent() })),
    });
    expect(seededB.body).toEqual({ inserted: 2, updated: 0 });

    // Identical subscriptions: they may share a computation, never an organization's data.
    const [sa, sb] = [await open(aId), await open(bId)];
    expect((await sa.emit('subscribe', SUBSCRIPTION)).ok).toBe(true);
    expect((await sb.emit('subscribe', SUBSCRIPTION)).ok).toBe(true);
    expect((await sa.next('subscription_data')).metrics.ticket_count.total_count).toBe(3);
    const bData = await sb.next('subscription_data');
    expect(bData.organization_id).toBe(bId);
    expect(bData.metrics.ticket_count.total_count).toBe(2);

    // A writes every kind of event.
    const now = Date.now();
    const created = await aApi.post(
      '/api/v1/tickets',
      buildTicket({ created_at: iso(now - 60_000), first_response_at: iso(now - 30_000), sentiment_score: 0.7 }),
    );
    expect(created.status, created.text).toBe(201);
    const resolved = await aApi.patch(`/api/v1/tickets/${created.body.id}`, { status: 'resolved' });
    expect(resolved.status, resolved.text).toBe(200);
    const bulk = await aApi.post('/api/v1/tickets/bulk', {
      tickets: [0, 1].map(() => buildTicket({ created_at: iso(now - 10_000), sentiment_score: -0.4 })),
    });
    expect(bulk.status, bulk.text).toBe(200);
    const aIds = [created.body.id, ...(await aApi.get('/api/v1/tickets')).body.items.map((t: { id: string }) => t.id)];

    // Control: A's socket hears A's writes, and A's snapshot counts them, so B's silence means something.
    for (const metric of METRICS) {
      expect((await sa.next('metric_update', (u) => u.metric_type === metric)).organization_id).toBe(aId);
    }
    await sa.next('periodic_update', (u) => u.dashboard_snapshot.total_tickets === 6);
    const marker = sb.count('periodic_update');
    await sb.next('periodic_update', () => sb.count('periodic_update') >= marker + 2, 5000);

    expect(sb.events.filter((e) => e.name === 'metric_update')).toEqual([]);
    const periodic = sb.events.filter((e) => e.name === 'periodic_update').map((e) => e.payload);
    expect(periodic.length).toBeGreaterThanOrEqual(2);
    for (const update of periodic) {
      expect(update.organization_id).toBe(bId);
      expect(update.dashboard_snapshot).toMatchObject({ total_tickets: 2, open_tickets: 2, resolved_tickets: 0 });
      expect(update.metrics.sentiment_score.count).toBe(0);
      expect(update.metrics.resolution_time.count).toBe(0);
    }
    const everything = JSON.stringify(sb.events);
    for (const id of aIds) expect(everything).not.toContain(id);
    expect(everything).not.toContain(String(aId));

    // And the other way round: B's write reaches B's socket only.
    const bTicket = await bApi.post('/api/v1/tickets', buildTicket({ created_at: iso(Date.now()) }));
    const bUpdate = await sb.next('metric_update', (u) => u.ticket_id === bTicket.body.id);
    expect(bUpdate).toMatchObject({ organization_id: bId, metric_type: 'ticket_count', value: 1, count: 1 });
    await sleep(600);
    expect(JSON.stringify(sa.events)).not.toContain(bTicket.body.id);
  });

  it('a subscribe cannot name another organization', async () => {
    const [aId, bId] = [newOrganizationId(), newOrganizationId()];
    const sb = await open(bId);
    const ack = await sb.emit('subscribe', { metrics: ['ticket_count'], organization_id: aId });
    expect(ack.ok).toBe(false);
    expect(ack.error).toContain('organization_id');
    expect((await sb.next('connected')).organization_id).toBe(bId);
  });
});

// ---------------------------------------------------------------------------
// Bucket and range limits before any query
// ---------------------------------------------------------------------------

describe('security: oversized series refused before any query runs (API.md §1 "Granularity")', () => {
  let server: TestApp;
  let api: Api;

  beforeAll(async () => {
    server = await startApp();
    const org = newOrganizationId();
    api = new Api(server.url, tokenFor(org, 'admin'));
    const res = await api.post('/api/v1/tickets', buildTicket({ created_at: '2024-01-01T05:00:00Z' }));
    expect(res.status, res.text).toBe(201);
  });
  afterAll(() => server.close());

  /** Everything that counts a database query or an analytics computation on this instance. */
  const work = async () => ({
    queries: await counterValue(server.url, 'pulse_db_query_duration_seconds_count'),
    computations: await counterValue(server.url, 'pulse_analytics_computations_total'),
    computeTimings: await counterValue(server.url, 'pulse_analytics_compute_seconds_count'),
  });

  const LIMIT = 10_000;
  const day = (start: string, days: number) => iso(Date.parse(start) + days * 24 * HOUR);
  const hours = (start: string, n: number) => iso(Date.parse(start) + n * HOUR);
  const addMonths = (year: number, months: number) =>
    `${String(year + Math.floor(months / 12)).padStart(4, '0')}-${String((months % 12) + 1).padStart(2, '0')}-01T00:00:00Z`;
  const HUGE = { start_date: '1900-01-01T00:00:00Z', end_date: '9999-12-31T00:00:00Z' };

  type Range = { start_date: string; end_date: string; granularity?: string };
  /** The ranges at LIMIT + 1 buckets, and their controls at exactly LIMIT (UTC, aligned starts). */
  const SERIES_RANGES: readonly [string, Range, Range][] = [
    [
      'hourly',
      { start_date: '2024-01-01T00:00:00Z', end_date: hours('2024-01-01T00:00:00Z', LIMIT + 1), granularity: 'hourly' },
      { start_date: '2024-01-01T00:00:00Z', end_date: hours('2024-01-01T00:00:00Z', LIMIT), granularity: 'hourly' },
    ],
    [
      'hourly, a range of exactly 10,000 hours that starts mid-hour and so overlaps 10,001 buckets',
      { start_date: '2024-01-01T00:30:00Z', end_date: hours('2024-01-01T00:30:00Z', LIMIT), granularity: 'hourly' },
      { start_date: '2024-01-01T00:30:00Z', end_date: hours('2024-01-01T00:30:00Z', LIMIT - 1), granularity: 'hourly' },
    ],
    [
      'daily',
      { start_date: '2000-01-01T00:00:00Z', end_date: day('2000-01-01T00:00:00Z', LIMIT + 1), granularity: 'daily' },
      { start_date: '2000-01-01T00:00:00Z', end_date: day('2000-01-01T00:00:00Z', LIMIT), granularity: 'daily' },
    ],
    [
      'weekly',
      // 2000-01-03 is a Monday.
      {
        start_date: '2000-01-03T00:00:00Z',
        end_date: day('2000-01-03T00:00:00Z', 7 * (LIMIT + 1)),
        granularity: 'weekly',
      },
      { start_date: '2000-01-03T00:00:00Z', end_date: day('2000-01-03T00:00:00Z', 7 * LIMIT), granularity: 'weekly' },
    ],
    [
      'monthly',
      { start_date: '2000-01-01T00:00:00Z', end_date: addMonths(2000, LIMIT + 1), granularity: 'monthly' },
      { start_date: '2000-01-01T00:00:00Z', end_date: addMonths(2000, LIMIT), granularity: 'monthly' },
    ],
    [
      'quarterly',
      { start_date: '1900-01-01T00:00:00Z', end_date: addMonths(1900, 3 * (LIMIT + 1)), granularity: 'quarterly' },
      { start_date: '1900-01-01T00:00:00Z', end_date: addMonths(1900, 3 * LIMIT), granularity: 'quarterly' },
    ],
    ['hourly over 1900–9999', { ...HUGE, granularity: 'hourly' }, { ...HUGE, granularity: 'yearly' }],
    ['daily over 1900–9999 (the default granularity)', { ...HUGE }, { ...HUGE, granularity: 'yearly' }],
  ];

  /** The endpoints that return a series of the request's granularity. */
  const GRANULAR: readonly [string, (range: Range) => Req][] = [
    [
      'time-series',
      (range) => ({ method: 'GET', path: `${SERIES('response_time')}${qs({ ...range, use_cache: false })}` }),
    ],
    [
      'aggregations',
      (range) => ({
        method: 'POST',
        path: '/api/v1/analytics/aggregations',
        body: { metric_types: ['ticket_count', 'resolution_time'], ...range, group_by: ['status'], use_cache: false },
      }),
    ],
    ...['csv', 'json', 'xlsx'].map(
      (format) =>
        [
          `export ${format}`,
          (range: Range): Req => ({
            method: 'POST',
            path: '/api/v1/analytics/export',
            body: { metric_types: ['ticket_count'], ...range, format },
          }),
        ] as [string, (range: Range) => Req],
    ),
  ];

  async function expectRefusedBeforeAnyQuery(req: Req, ...named: (string | RegExp)[]) {
    const before = await work();
    const res = await send(api, req);
    expectError(res, 400, ...named);
    expect(await work(), 'no query, no computation').toEqual(before);
  }

  async function expectAnsweredWithAQuery(req: Req) {
    const before = await work();
    const res = await send(api, req);
    expect(res.status, res.text).toBe(200);
    expect((await work()).queries, 'the control did query, so the counter is the right one').toBeGreaterThan(
      before.queries,
    );
  }

  const TOO_MANY = /10[,. ]?000/;
  const NAMES_A_PARAMETER = /granularity|start_date|end_date|range/;

  describe.each(GRANULAR)('%s', (_, request) => {
    it.each(SERIES_RANGES)('refuses %s over the limit', async (__, over) => {
      await expectRefusedBeforeAnyQuery(request(over), TOO_MANY, NAMES_A_PARAMETER);
    });

    it.each(SERIES_RANGES.filter(([label]) => !label.includes('1900–9999')))(
      'answers %s at exactly the limit (control)',
      async (__, ___, atLimit) => {
        await expectAnsweredWithAQuery(request(atLimit));
      },
    );
  });

  describe('dashboard (its trend_data is a daily series over the range)', () => {
    const DASHBOARD = (range: Record<string, string>) => ({
      method: 'GET' as const,
      path: `/api/v1/analytics/dashboard${qs({ ...range, use_cache: false })}`,
    });

    it.each([
      ['10,001 days', { start_date: '2000-01-01T00:00:00Z', end_date: day('2000-01-01T00:00:00Z', LIMIT + 1) }],
      ['1900–9999', HUGE],
    ])('refuses %s', async (_, range) => {
      await expectRefusedBeforeAnyQuery(DASHBOARD(range), TOO_MANY, /start_date|end_date|range|daily/);
    });

    it('answers exactly 10,000 days (control)', async () => {
      await expectAnsweredWithAQuery(
        DASHBOARD({ start_date: '2000-01-01T00:00:00Z', end_date: day('2000-01-01T00:00:00Z', LIMIT) }),
      );
    });
  });

  describe('a range outside the years Pulse accepts (README: 1900–9999) on every analytics endpoint', () => {
    const ENDPOINT_REQUESTS: readonly [string, (range: Record<string, string>) => Req][] = [
      ['time-series', (range) => ({ method: 'GET', path: `${SERIES('ticket_count')}${qs(range)}` })],
      ['dashboard', (range) => ({ method: 'GET', path: `/api/v1/analytics/dashboard${qs(range)}` })],
      ['performance', (range) => ({ method: 'GET', path: `/api/v1/analytics/performance${qs(range)}` })],
      ['distribution', (range) => ({ method: 'GET', path: `/api/v1/analytics/distribution/status${qs(range)}` })],
      [
        'aggregations',
        (range) => ({
          method: 'POST',
          path: '/api/v1/analytics/aggregations',
          body: { metric_types: ['ticket_count'], ...range, granularity: 'yearly' },
        }),
      ],
      [
        'export',
        (range) => ({
          method: 'POST',
          path: '/api/v1/analytics/export',
          body: { metric_types: ['ticket_count'], ...range, granularity: 'yearly', format: 'csv' },
        }),
      ],
    ];
    const OUT_OF_YEARS: readonly [string, Record<string, string>][] = [
      ['start_date', { start_date: '0001-01-01T00:00:00Z', end_date: '2025-01-01T00:00:00Z' }],
      ['start_date', { start_date: '1899-12-31T00:00:00Z', end_date: '2025-01-01T00:00:00Z' }],
      ['end_date', { start_date: '2025-01-01T00:00:00Z', end_date: '+275760-09-13T00:00:00Z' }],
      ['end_date', { start_date: '2025-01-01T00:00:00Z', end_date: '10000-01-01T00:00:00Z' }],
    ];
    const cases = ENDPOINT_REQUESTS.flatMap(([name, request]) =>
      OUT_OF_YEARS.map(([named, range]) => [name, named, range, request] as const),
    );

    it.each(cases)('%s refuses a %s too far out (%j)', async (_, named, range, request) => {
      await expectRefusedBeforeAnyQuery(request(range), named);
    });
  });
});
