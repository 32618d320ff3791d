import { Api, qs } from '../support/http.js';
import { expectError } from '../support/errors.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { TestRedisServer } from '../support/redis-server.js';

/**
 * Rate limits (RATE_LIMIT_* env): every request per caller, forced
 * recomputes and exports per organization, shared through Redis so they hold
 * across instances; 429 RATE_LIMITED with Retry-After; open when Redis is down.
 */
const series = (extra: Record<string, string> = {}) =>
  `/api/v1/analytics/time-series/ticket_count${qs({ period: '7d', ...extra })}`;
const EXPORT = '/api/v1/analytics/export';
const exportBody = { metric_types: ['ticket_count'], format: 'csv', start_date: '2025-01-01', end_date: '2025-01-02' };

describe('the per-caller request limit', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startApp({ RATE_LIMIT_REQUESTS: '5', RATE_LIMIT_WINDOW_SECONDS: '60' });
  });
  afterAll(() => server.close());

  it('answers the request over the limit 429 with Retry-After, and counts callers apart', async () => {
    const organizationId = newOrganizationId();
    const api = new Api(server.url, tokenFor(organizationId, 'viewer'));
    for (let i = 0; i < 5; i += 1) {
      const ok = await api.get(series());
      expect(ok.status, ok.text).toBe(200);
      expect(ok.headers.get('x-ratelimit-limit')).toBe('5');
      expect(ok.headers.get('x-ratelimit-remaining')).toBe(String(4 - i));
    }
    const refused = await api.get(series());
    const body = expectError(refused, 429, 'rate limit exceeded', '5 requests per caller', '60 s');
    expect(body.code).toBe('RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // Another caller of another organization has its own budget.
    expect((await api.as(tokenFor(newOrganizationId(), 'viewer')).get(series())).status).toBe(200);
  });

  it('never limits /health and /metrics', async () => {
    const anonymous = new Api(server.url);
    for (let i = 0; i < 8; i += 1) {
      expect((await anonymous.get('/health')).status).toBe(200);
      expect((await anonymous.get('/metrics')).status).toBe(200);
    }
  });
});

describe('a short window', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startApp({ RATE_LIMIT_REQUESTS: '2', RATE_LIMIT_WINDOW_SECONDS: '2' });
  });
  afterAll(() => server.close());

  it('lets the caller in again once Retry-After has passed', async () => {
    const api = new Api(server.url, tokenFor(newOrganizationId(), 'viewer'));
    expect((await api.get(series())).status).toBe(200);
    expect((await api.get(series())).status).toBe(200);
    const refused = await api.get(series());
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 100));
    expect((await api.get(series())).status).toBe(200);
  });
});

describe('the forced-recompute and export limits', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startApp({ RATE_LIMIT_FORCED: '3', RATE_LIMIT_EXPORTS: '2', RATE_LIMIT_REQUESTS: '1000' });
  });
  afterAll(() => server.close());

  it('counts use_cache=false, Cache-Control: no-cache and refresh-cache together, admins included', async () => {
    const organizationId = newOrganizationId();
    const admin = new Api(server.url, tokenFor(organizationId, 'admin'));
    expect((await admin.get(series({ use_cache: 'false' }))).status).toBe(200);
    expect((await admin.get(series(), { 'cache-control': 'no-cache' })).status).toBe(200);
    expect((await admin.post('/api/v1/analytics/refresh-cache')).status).toBe(202);

    const refused = [
      await admin.get(series({ use_cache: 'false' })),
      await admin.get(series(), { 'cache-control': 'no-cache' }),
      await admin.post('/api/v1/analytics/refresh-cache'),
      // Another caller of the same organization shares the organization's budget.
      await admin.as(tokenFor(organizationId, 'viewer')).get(series({ use_cache: 'false' })),
    ];
    for (const response of refused) {
      expectError(response, 429, 'forced recomputes', 'per organization');
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }

    // Cached reads are not forced recomputes, however use_cache=true is spelled: they go on.
    for (const use_cache of ['true', '1']) expect((await admin.get(series({ use_cache }))).status).toBe(200);
    const cached = await admin.get(series());
    expect(cached.status).toBe(200);
    expect(cached.headers.get('x-cache')).toBe('HIT');
    // Another organization's forced budget is untouched.
    expect((await admin.as(tokenFor(newOrganizationId(), 'admin')).get(series({ use_cache: 'false' }))).status).toBe(
      200,
    );
  });

  it('limits exports per organization', async () => {
    const organizationId = newOrganizationId();
    const viewer = new Api(server.url, tokenFor(organizationId, 'viewer'));
    expect((await viewer.post(EXPORT, exportBody)).status).toBe(200);
    expect((await viewer.post(EXPORT, exportBody)).status).toBe(200);
    expectError(await viewer.post(EXPORT, exportBody), 429, '2 exports per organization');
    // Reads are not exports.
    expect((await viewer.get(series())).status).toBe(200);
  });
});

describe('two instances sharing one Redis', () => {
  const LIMIT = 200;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const overrides = { RATE_LIMIT_REQUESTS: String(LIMIT), RATE_LIMIT_WINDOW_SECONDS: '300' };
    [a, b] = await Promise.all([startApp(overrides), startApp(overrides)]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('let through no more than the limit in all (+1%)', async () => {
    const token = tokenFor(newOrganizationId(), 'viewer');
    const apis = [new Api(a.url, token), new Api(b.url, token)];
    const statuses = await Promise.all(
      Array.from({ length: 3 * LIMIT }, (_, i) => apis[i % 2].get(series()).then((response) => response.status)),
    );
    const allowed = statuses.filter((status) => status === 200).length;
    const refused = statuses.filter((status) => status === 429).length;
    console.log(`rate-limit two instances: ${allowed} of ${3 * LIMIT} allowed at a limit of ${LIMIT}`);
    expect(allowed + refused).toBe(3 * LIMIT);
    expect(allowed).toBeLessThanOrEqual(Math.floor(LIMIT * 1.01));
    // Both instances count into the same budget, so neither lets its own LIMIT through.
    expect(allowed).toBeGreaterThanOrEqual(LIMIT);
  });
});

describe('a burst on two instances while Redis is slow', () => {
  const LIMIT = 50;
  let redis: TestRedisServer;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    redis = await TestRedisServer.start();
    // A Redis of the test's own, which it slows down: one server, whatever mode the project runs in.
    const overrides = {
      REDIS_MODE: 'single',
      REDIS_URL: redis.url,
      RATE_LIMIT_REQUESTS: String(LIMIT),
      RATE_LIMIT_WINDOW_SECONDS: '300',
    };
    [a, b] = await Promise.all([startApp(overrides), startApp(overrides)]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await redis.stop();
  });

  it('lets through no more than the limit, and keeps the cache on', async () => {
    const token = tokenFor(newOrganizationId(), 'viewer');
    const apis = [new Api(a.url, token), new Api(b.url, token)];
    // Redis answers 400 ms late twice during the burst: longer than a cache read waits.
    const stalls = (async () => {
      await redis.stall(400);
      await redis.stall(400);
    })();
    const statuses = await Promise.all(
      Array.from({ length: 6 * LIMIT }, (_, i) => apis[i % 2].get(series()).then((response) => response.status)),
    );
    await stalls;
    const allowed = statuses.filter((status) => status === 200).length;
    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
    expect(allowed).toBeLessThanOrEqual(LIMIT);
    expect(allowed).toBeGreaterThanOrEqual(LIMIT - 1);
    // Slow is not down: both instances serve from the cache again at once.
    for (const api of apis) {
      const health = await api.get<{ details: { redis: { state: string } } }>('/health');
      expect(health.body.details.redis.state).toBe('up');
    }
  });
});

describe('requests without a valid token', () => {
  let server: TestApp;
  beforeAll(async () => {
    // Every test shares 127.0.0.1: a key prefix of its own keeps this address's count apart.
    server = await startApp({ RATE_LIMIT_REQUESTS: '5', REDIS_KEY_PREFIX: `anon${newOrganizationId()}` });
  });
  afterAll(() => server.close());

  it('are limited by client address: 401 up to the limit, then 429', async () => {
    const anonymous = new Api(server.url);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i += 1) statuses.push((await anonymous.get('/api/v1/tickets')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
  });

  it('cannot pick a new address with X-Forwarded-For (TRUST_PROXY off by default)', async () => {
    const fresh = await startApp({ RATE_LIMIT_REQUESTS: '5', REDIS_KEY_PREFIX: `anon${newOrganizationId()}` });
    try {
      const anonymous = new Api(fresh.url);
      const statuses: number[] = [];
      for (let i = 0; i < 8; i += 1) {
        statuses.push((await anonymous.get('/api/v1/tickets', { 'x-forwarded-for': `203.0.113.${i + 1}` })).status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    } finally {
      await fresh.close();
    }
  });

  it('behind a trusted proxy, counts each forwarded client apart', async () => {
    const proxied = await startApp({
      RATE_LIMIT_REQUESTS: '5',
      REDIS_KEY_PREFIX: `anon${newOrganizationId()}`,
      TRUST_PROXY: '127.0.0.1',
    });
    try {
      const anonymous = new Api(proxied.url);
      const statuses: number[] = [];
      for (let i = 0; i < 8; i += 1) {
        statuses.push((await anonymous.get('/api/v1/tickets', { 'x-forwarded-for': `203.0.113.${i + 1}` })).status);
      }
      expect(statuses).toEqual(Array(8).fill(401));
      // One forwarded client still meets its own limit.
      for (let i = 0; i < 5; i += 1) await anonymous.get('/api/v1/tickets', { 'x-forwarded-for': '198.51.100.9' });
      expect((await anonymous.get('/api/v1/tickets', { 'x-forwarded-for': '198.51.100.9' })).status).toBe(429);
    } finally {
      await proxied.close();
    }
  });
});

describe('the forced-recompute budget and validation', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startApp({ RATE_LIMIT_FORCED: '2' });
  });
  afterAll(() => server.close());

  it('is not charged for requests that validation refuses', async () => {
    const admin = new Api(server.url, tokenFor(newOrganizationId(), 'admin'));
    for (let i = 0; i < 5; i += 1) {
      expect((await admin.get(series({ use_cache: 'false', granularity: 'fortnightly' }))).status).toBe(400);
      expect((await admin.get(series({ use_cache: 'nope' }))).status).toBe(400);
    }
    expect((await admin.get(series({ use_cache: 'false' }))).status).toBe(200);
    expect((await admin.get(series({ use_cache: 'false' }))).status).toBe(200);
    expectError(await admin.get(series({ use_cache: 'false' })), 429, 'forced recomputes');
  });
});

describe('while Redis is down', () => {
  let redis: TestRedisServer;
  let server: TestApp;
  beforeAll(async () => {
    redis = await TestRedisServer.start();
    server = await startApp({ REDIS_MODE: 'single', REDIS_URL: redis.url, RATE_LIMIT_REQUESTS: '3' });
  });
  afterAll(async () => {
    await server.close();
    await redis.stop();
  });

  it('still limits, counting on from what Redis said last, and counts in Redis again once it is back', async () => {
    const api = new Api(server.url, tokenFor(newOrganizationId(), 'viewer'));
    expect((await api.get(series())).status).toBe(200);
    await redis.stop();
    for (let i = 0; i < 2; i += 1) {
      const response = await api.get(series());
      expect(response.status).toBe(200);
      expect(response.headers.get('x-cache')).toBe('ERROR');
    }
    expectError(await api.get(series()), 429, '3 requests per caller');
    await redis.launch();
    // The restarted Redis is empty: a new count starts there, and the limit holds again.
    await expect
      .poll(
        async () => (await api.get<{ details: { redis: { state?: string } } }>('/health')).body.details.redis.state,
        { timeout: 5000 },
      )
      .toBe('up');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await api.get(series())).status);
    expect(statuses.at(-1)).toBe(429);
  });
});
