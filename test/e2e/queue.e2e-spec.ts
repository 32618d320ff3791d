import { Redis } from 'ioredis';
import { Api, qs } from '../support/http.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { onTicketMix } from '../support/database.js';
import { CITUS } from '../support/citus.js';
import { clearOfMinuteEnd } from '../support/cache-checks.js';
import { buildTicket } from '../support/factories.js';
import { HOUR, WINDOW_QUERY } from '../support/analytics-truth.js';
import { DEFAULT_TARGETS, expectedQueueOf, type Targets } from '../support/queue-truth.js';
import { TestSocket } from '../support/socket.js';
import { CacheKeys } from '../../src/cache/cache-keys.js';
import { queueCutoffs } from '../../src/analytics/sla-queue.js';
import { compileQueue } from '../../src/metrics/queue.compiler.js';

/**
 * The dashboard's queue (API.md §4.3, §5) against an independent computation,
 * and its caching (§1): range-independent (writes to old open tickets make
 * it recompute) and clock-dependent (never served once a ticket has crossed
 * a threshold, with no write in between).
 */

const DASHBOARD = '/api/v1/analytics/dashboard';
const PRIORITIES = ['urgent', 'high', 'medium', 'low'] as const;
const STATUSES = ['open', 'in_progress', 'pending'] as const;
const iso = (instant: number) => new Date(instant).toISOString();
const sleepUntil = (instant: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, instant - Date.now())));

/**
 * The plan that reads the tickets. On PostgreSQL, the whole plan. On Citus,
 * the coordinator's plan must route the query to one shard (`Task Count: 1`);
 * the plan that shard's node runs is the one under its Task, and names the
 * shard's table and indexes (`tickets_102016`, `tickets_org_unanswered_idx_102016`):
 * returned with those names as the table's.
 */
function shardPlan(plan: string): string {
  if (!CITUS) return plan;
  expect(plan).toMatch(/^Custom Scan \(Citus Adaptive\)/);
  expect(plan).toMatch(/^\s*Task Count: 1$/m);
  const task = plan.indexOf('->  Task');
  expect(task).toBeGreaterThan(0);
  return plan.slice(task).replaceAll(/\b(tickets?\w*?)_\d+\b/g, '$1');
}

interface Waiting {
  external_id: string;
  status: string;
  priority: string;
  created_at: number;
  first_response_at: number | null;
}

/**
 * Per priority, unanswered tickets at shares of their target on both sides
 * of 75% and 100% (at least 36 s from either for the 1 h urgent target), and
 * tickets the queue never counts: answered, resolved or closed unanswered.
 */
function queueFixture(prefix: string, now: number, targets: Targets = DEFAULT_TARGETS): Waiting[] {
  const tickets: Waiting[] = [];
  const add = (priority: string, share: number, fields: Partial<Waiting> = {}) =>
    tickets.push({
      external_id: `${prefix}-${tickets.length}`,
      status: STATUSES[tickets.length % 3],
      priority,
      created_at: Math.round(now - share * targets[priority as keyof Targets] * HOUR),
      first_response_at: null,
      ...fields,
    });
  for (const priority of PRIORITIES) {
    for (const share of [0.1, 0.5, 0.74, 0.76, 0.9, 0.99, 1.01, 1.5, 30]) add(priority, share);
    const created = now - 2 * targets[priority] * HOUR;
    add(priority, 2, { first_response_at: created + 1000 });
    add(priority, 2, { status: 'resolved' });
    add(priority, 2, { status: 'closed' });
  }
  return tickets;
}

const bodyOf = (t: Waiting) =>
  buildTicket({
    external_id: t.external_id,
    status: t.status,
    priority: t.priority,
    created_at: iso(t.created_at),
    ...(t.first_response_at === null ? {} : { first_response_at: iso(t.first_response_at) }),
  });

async function seed(api: Api, tickets: readonly Waiting[]) {
  const res = await api.post('/api/v1/tickets/bulk', { tickets: tickets.map(bodyOf) });
  expect(res.status, res.text).toBe(200);
}

describe('the dashboard queue', () => {
  let server: TestApp;
  let redis: Redis;
  let keys: CacheKeys;

  beforeAll(async () => {
    server = await startApp();
    redis = new Redis(process.env.REDIS_URL!);
    keys = new CacheKeys(server.config.redisKeyPrefix);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.close();
  });

  it('counts unanswered, at-risk and breaching tickets by priority, for the organization only, whatever the range', async () => {
    const [x, y] = [newOrganizationId(), newOrganizationId()];
    const apiX = new Api(server.url, tokenFor(x, 'agent'));
    const apiY = new Api(server.url, tokenFor(y, 'agent'));
    const ticketsX = queueFixture('qx', Date.now());
    const ticketsY = queueFixture('qy', Date.now()).filter((_, i) => i % 2 === 0);
    await seed(apiX, ticketsX);
    await seed(apiY, ticketsY);

    for (const [api, tickets] of [
      [apiX, ticketsX],
      [apiY, ticketsY],
    ] as const) {
      for (const params of [WINDOW_QUERY, { period: '24h' }, {}]) {
        const sentAt = Date.now();
        const res = await api.get(`${DASHBOARD}${qs({ ...params, use_cache: false })}`);
        expect(res.status, res.text).toBe(200);
        expect(res.body.queue).toEqual(expectedQueueOf(tickets, res.body.queue, sentAt, Date.now()));
      }
    }

    // The fixture is not vacuous: every priority has tickets in every class.
    const { body } = await apiX.get(`${DASHBOARD}${qs(WINDOW_QUERY)}`);
    for (const priority of PRIORITIES) {
      expect(body.queue.by_priority[priority]).toMatchObject({ unanswered: 9, breaching: 3, at_risk: 3 });
    }
    expect(body.queue).toMatchObject({ unanswered: 36, breaching: 12, at_risk: 12 });
  });

  it('reports all four priorities, with null ages, when nothing waits', async () => {
    const api = new Api(server.url, tokenFor(newOrganizationId(), 'viewer'));
    const { body } = await api.get(`${DASHBOARD}${qs(WINDOW_QUERY)}`);
    const none = { unanswered: 0, breaching: 0, at_risk: 0, oldest_unanswered_hours: null };
    expect(body.queue).toEqual({
      as_of: expect.any(String),
      ...none,
      by_priority: { urgent: none, high: none, medium: none, low: none },
    });
  });

  it(
    'is read from the status and priority rollup and the partial index of unanswered tickets, not a scan',
    { timeout: 120_000 },
    async () => {
      // On a database of its own, with a mix like production's (most tickets
      // answered, many open ones answered too), planned from fresh statistics
      // and visibility map: the shared test database's mix is whatever the
      // other suites leave (nearly all unanswered).
      // 100,000 tickets of 47 organizations: 70% resolved, 20% open and answered, 10% unanswered.
      await onTicketMix('pulse_test_queue_plan', { count: 100_000, organizations: 47, resolved: 7 }, async (db) => {
        const { text, values } = compileQueue(7, queueCutoffs(new Date(), DEFAULT_TARGETS));
        const { rows } = await db.query(`EXPLAIN ${text}`, values);
        const plan = shardPlan(rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
        expect(plan).toMatch(/Index Only Scan using tickets_org_unanswered_idx on tickets/);
        expect(plan).toMatch(/Index (Only )?Scan using ticket_rollups_pkey on ticket_rollups/);
        expect(plan).not.toMatch(/Seq Scan/);
        // And it answers from there what the rows say.
        const { rows: queue } = await db.query(text, values);
        const unanswered = Array.from({ length: 100_000 }, (_, k) => k + 1).filter(
          (i) => 1 + (i % 47) === 7 && i % 10 === 9,
        );
        expect(queue.reduce((n: number, row: { unanswered: number }) => n + row.unanswered, 0)).toBe(unanswered.length);
      });
    },
  );

  it('makes a cached dashboard recompute when an open ticket outside its range changes', async () => {
    const organizationId = newOrganizationId();
    const api = new Api(server.url, tokenFor(organizationId, 'agent'));
    const old = Date.UTC(2024, 0, 10);
    const created = await api.post('/api/v1/tickets', buildTicket({ priority: 'low', created_at: iso(old) }));
    const other = await api.post('/api/v1/tickets', buildTicket({ priority: 'low', created_at: iso(old + HOUR) }));
    const path = `${DASHBOARD}${qs(WINDOW_QUERY)}`;
    await clearOfMinuteEnd();
    const current = () => redis.get(keys.generation(organizationId, 'current')).then(Number);

    const before = await api.get(path);
    expect((await api.get(path)).headers.get('x-cache')).toBe('HIT');
    expect(before.body.queue.by_priority.low).toMatchObject({ unanswered: 2, breaching: 2 });
    expect(before.body.current_backlog).toBe(2);

    // Answered: leaves the queue, stays in the backlog.
    const bumps = await current();
    const answered = await api.patch(`/api/v1/tickets/${created.body.id}`, { first_response_at: iso(old + 60_000) });
    expect(answered.status, answered.text).toBe(200);
    expect(await current()).toBe(bumps + 1);
    const after = await api.get(path);
    expect(after.headers.get('x-cache')).not.toBe('HIT');
    expect(after.body.queue.by_priority.low).toMatchObject({ unanswered: 1, breaching: 1 });
    expect(after.body.current_backlog).toBe(2);

    // A new priority moves it in the queue.
    expect((await api.get(path)).headers.get('x-cache')).toBe('HIT');
    await api.patch(`/api/v1/tickets/${other.body.id}`, { priority: 'urgent' });
    expect(await current()).toBe(bumps + 2);
    const moved = await api.get(path);
    expect(moved.headers.get('x-cache')).not.toBe('HIT');
    expect(moved.body.queue.by_priority.low.unanswered).toBe(0);
    expect(moved.body.queue.by_priority.urgent).toMatchObject({ unanswered: 1, breaching: 1 });

    // What neither the backlog nor the queue reads leaves the current generation alone.
    await api.patch(`/api/v1/tickets/${created.body.id}`, { category: 'billing' });
    expect(await current()).toBe(bumps + 2);
  });

  it('carries the queue in periodic_update, for the organization whatever the filters', async () => {
    const organizationId = newOrganizationId();
    const api = new Api(server.url, tokenFor(organizationId, 'agent'));
    const tickets = queueFixture('qs', Date.now());
    await seed(api, tickets);
    const socket = new TestSocket(server.url, tokenFor(organizationId, 'viewer'));
    try {
      await socket.connected();
      const sentAt = Date.now();
      await socket.emit('subscribe', {
        metrics: ['ticket_count'],
        interval: 1,
        window: '1h',
        filters: { priority: ['low'] },
      });
      const update = await socket.next('periodic_update');
      const queue = update.dashboard_snapshot.queue;
      expect(queue).toEqual(expectedQueueOf(tickets, queue, sentAt, Date.now()));
      expect(queue.by_priority.urgent.unanswered).toBe(9);
    } finally {
      socket.close();
    }
  });
});

describe('the dashboard queue and the clock', () => {
  // Urgent: at risk past 4.05 s, breaching past 5.4 s.
  const targets: Targets = { ...DEFAULT_TARGETS, urgent: 0.0015 };
  let server: TestApp;
  let redis: Redis;
  let keys: CacheKeys;

  beforeAll(async () => {
    server = await startApp({ SLA_FIRST_RESPONSE_HOURS: 'urgent=0.0015,high=4,medium=8,low=24' });
    redis = new Redis(process.env.REDIS_URL!);
    keys = new CacheKeys(server.config.redisKeyPrefix);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.close();
  });

  it('is never served once a ticket has crossed a threshold, though no write happened', async () => {
    const organizationId = newOrganizationId();
    const api = new Api(server.url, tokenFor(organizationId, 'agent'));
    // Its HITs stay HITs for about 8 s: clear of the end of the minute, which ends every stored dashboard.
    await clearOfMinuteEnd(10_000);
    const createdAt = Date.now();
    const tickets: Waiting[] = [
      { external_id: 'clock', status: 'open', priority: 'urgent', created_at: createdAt, first_response_at: null },
    ];
    await seed(api, tickets);
    const atRiskFrom = createdAt + 0.75 * targets.urgent * HOUR;
    const breachingFrom = createdAt + targets.urgent * HOUR;
    // An explicit range: the same cache entry whatever the minute.
    const path = `${DASHBOARD}${qs(WINDOW_QUERY)}`;

    const first = await api.get(path);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(first.body.queue.by_priority.urgent).toMatchObject({ unanswered: 1, at_risk: 0, breaching: 0 });
    const cached = await api.get(path);
    expect(cached.headers.get('x-cache')).toBe('HIT');
    expect(cached.text).toBe(first.text);

    // Stored until the ticket turns at risk, not for CACHE_TTL_SECONDS.
    const [entry] = await entryKeys(redis, keys, organizationId);
    const ttl = await redis.pttl(entry);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(atRiskFrom + 1 - Date.now() + 50);

    await sleepUntil(atRiskFrom + 300);
    const atRisk = await api.get(path);
    expect(atRisk.headers.get('x-cache')).toBe('MISS');
    expect(atRisk.body.queue.by_priority.urgent).toMatchObject({ unanswered: 1, at_risk: 1, breaching: 0 });
    expect(atRisk.body.queue).toMatchObject({ at_risk: 1, breaching: 0 });
    expect((await api.get(path)).headers.get('x-cache')).toBe('HIT');

    await sleepUntil(breachingFrom + 300);
    const breaching = await api.get(path, { 'if-none-match': atRisk.headers.get('etag')! });
    expect(breaching.status).toBe(200);
    expect(breaching.body.queue.by_priority.urgent).toMatchObject({ unanswered: 1, at_risk: 0, breaching: 1 });
    // Nothing is left to cross: stored until the next minute at the latest.
    for (const entry of await entryKeys(redis, keys, organizationId)) {
      expect(await redis.pttl(entry)).toBeLessThanOrEqual(60_000);
    }
  });
});

/** The organization's stored dashboards. */
async function entryKeys(redis: Redis, keys: CacheKeys, organizationId: number): Promise<string[]> {
  const pattern = `${keys.entry(organizationId, 'dashboard', '*', '*')}`;
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    found.push(...batch.filter((key) => !key.endsWith(':lock')));
    cursor = next;
  } while (cursor !== '0');
  expect(found.length).toBeGreaterThan(0);
  return found;
}
