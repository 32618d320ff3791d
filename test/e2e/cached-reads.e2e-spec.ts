import { TimeSeriesService } from '../../src/analytics/time-series.service.js';
import { CachedExecutor } from '../../src/cache/cached-executor.service.js';
import { signToken } from '../../src/auth/token.service.js';
import { Api, qs } from '../support/http.js';
import { JWT_SECRET, newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { expectError } from '../support/errors.js';
import { buildTicket } from '../support/factories.js';

/**
 * The hot path of cached reads (src/cache/cached-reads.ts): a GET answered
 * once through the whole pipeline is answered again without it, with the
 * same bytes and headers, counted once against the caller's limit, and never
 * after a write that changed it.
 */
const HEADERS = [
  'x-cache',
  'etag',
  'cache-control',
  'vary',
  'content-type',
  'x-ratelimit-limit',
  'content-security-policy',
];

describe('cached reads on the hot path', () => {
  let server: TestApp;
  let executorRuns: number;
  beforeAll(async () => {
    // A key prefix of its own: requests without a valid token count per address, which every test shares.
    server = await startApp({ RATE_LIMIT_REQUESTS: '8', REDIS_KEY_PREFIX: `reads${newOrganizationId()}` });
    const executor = server.app.get(CachedExecutor);
    const run = executor.run.bind(executor);
    executor.run = (request) => {
      executorRuns += 1;
      return run(request);
    };
  });
  beforeEach(() => {
    executorRuns = 0;
  });
  afterAll(() => server.close());

  it('answers a repeated GET without the pipeline, byte for byte as the pipeline would', async () => {
    const organizationId = newOrganizationId();
    const agent = new Api(server.url, tokenFor(organizationId, 'agent'));
    expect((await agent.post('/api/v1/tickets', buildTicket())).status).toBe(201);
    const viewer = agent.as(tokenFor(organizationId, 'viewer'));
    const path = `/api/v1/analytics/time-series/ticket_count${qs({ period: '7d', granularity: 'daily' })}`;
    // The same query spelled differently is another URL: it takes the pipeline, and HITs there.
    const samePipeline = `/api/v1/analytics/time-series/ticket_count${qs({ granularity: 'daily', period: '7d' })}`;

    expect((await viewer.get(path)).headers.get('x-cache')).toBe('MISS');
    expect(executorRuns).toBe(1);
    const fast = await viewer.get(path);
    expect(executorRuns).toBe(1);
    const slow = await viewer.get(samePipeline);
    expect(executorRuns).toBe(2);

    expect(fast.status).toBe(200);
    expect(fast.text).toBe(slow.text);
    expect(fast.body.total_count).toBe(1);
    for (const name of HEADERS) expect([name, fast.headers.get(name)]).toEqual([name, slow.headers.get(name)]);
    expect(fast.headers.get('x-cache')).toBe('HIT');
    expect(fast.headers.get('x-request-id')).toBeTruthy();
    // Counted once per request, whichever path answered.
    expect(Number(fast.headers.get('x-ratelimit-remaining'))).toBe(
      Number(slow.headers.get('x-ratelimit-remaining')) + 1,
    );

    // fetch adds Cache-Control: no-cache to a conditional request unless one is given.
    const notModified = await viewer.get(path, {
      'if-none-match': fast.headers.get('etag')!,
      'cache-control': 'max-age=0',
    });
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    expect(executorRuns).toBe(2);

    // After a write the stored entry is out of reach: the pipeline recomputes.
    expect((await agent.post('/api/v1/tickets', buildTicket())).status).toBe(201);
    const after = await viewer.get(path);
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect(after.body.total_count).toBe(2);
    expect(executorRuns).toBe(3);
  });

  it('keeps organizations, tokens and limits as the pipeline does', async () => {
    const organizationId = newOrganizationId();
    const agent = new Api(server.url, tokenFor(organizationId, 'agent'));
    expect((await agent.post('/api/v1/tickets', buildTicket())).status).toBe(201);
    const path = `/api/v1/analytics/distribution/status${qs({ period: '24h' })}`;
    expect((await agent.get(path)).body.total).toBe(1);
    expect((await agent.get(path)).headers.get('x-cache')).toBe('HIT');

    // Another organization, same URL: its own (empty) answer.
    const other = await agent.as(tokenFor(newOrganizationId(), 'viewer')).get(path);
    expect(other.status).toBe(200);
    expect(other.body.total).toBe(0);

    // An expired token or a token of another secret never reads the remembered result.
    const expired = signToken({ sub: 'x', org_id: organizationId, role: 'viewer' }, JWT_SECRET, -10);
    expect((await agent.as(expired).get(path)).status).toBe(401);
    const forged = signToken({ sub: 'x', org_id: organizationId, role: 'viewer' }, 'another-secret-0123456789', 60);
    expect((await agent.as(forged).get(path)).status).toBe(401);

    // The caller's limit (8 per window) holds on the hot path: 3 counted above, 5 left.
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) statuses.push((await agent.get(path)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  });
});

describe('forced reads on the hot path', () => {
  let server: TestApp;
  let pipelineRuns: number;
  let hotRuns: number;
  beforeAll(async () => {
    server = await startApp({
      RATE_LIMIT_REQUESTS: '100',
      RATE_LIMIT_FORCED: '6',
      REDIS_KEY_PREFIX: `forced${newOrganizationId()}`,
    });
    const series = server.app.get(TimeSeriesService);
    const find = series.find.bind(series);
    series.find = (...args) => {
      pipelineRuns += 1;
      return find(...args);
    };
    const executor = server.app.get(CachedExecutor);
    const runFresh = executor.runFresh.bind(executor);
    executor.runFresh = (...args) => {
      hotRuns += 1;
      return runFresh(...args);
    };
  });
  beforeEach(() => {
    pipelineRuns = 0;
    hotRuns = 0;
  });
  afterAll(() => server.close());

  it('computes a repeated forced GET afresh without the pipeline, as the pipeline would, and stores it', async () => {
    const organizationId = newOrganizationId();
    const agent = new Api(server.url, tokenFor(organizationId, 'agent'));
    expect((await agent.post('/api/v1/tickets', buildTicket())).status).toBe(201);
    const viewer = agent.as(tokenFor(organizationId, 'viewer'));
    const query = { period: '7d', granularity: 'daily' };
    const forced = `/api/v1/analytics/time-series/ticket_count${qs({ ...query, use_cache: 'false' })}`;
    // The same query spelled differently: always the pipeline.
    const samePipeline = `/api/v1/analytics/time-series/ticket_count${qs({ use_cache: 'false', ...query })}`;

    const first = await viewer.get(forced);
    expect([first.status, first.headers.get('x-cache'), pipelineRuns, hotRuns]).toEqual([200, 'BYPASS', 1, 0]);
    const fast = await viewer.get(forced);
    expect([fast.status, fast.headers.get('x-cache'), pipelineRuns, hotRuns]).toEqual([200, 'BYPASS', 1, 1]);
    const slow = await viewer.get(samePipeline);
    expect([pipelineRuns, hotRuns]).toEqual([2, 1]);
    expect(fast.text).toBe(slow.text);
    expect(fast.body.total_count).toBe(1);
    for (const name of HEADERS) expect([name, fast.headers.get(name)]).toEqual([name, slow.headers.get(name)]);
    expect(fast.headers.get('x-request-id')).toBeTruthy();
    expect(Number(fast.headers.get('x-ratelimit-remaining'))).toBe(
      Number(slow.headers.get('x-ratelimit-remaining')) + 1,
    );

    // Computed afresh each time: a write shows at once, and what it computed is stored as the pipeline stores it.
    expect((await agent.post('/api/v1/tickets', buildTicket())).status).toBe(201);
    const after = await viewer.get(forced);
    expect([after.body.total_count, after.headers.get('x-cache'), hotRuns]).toEqual([2, 'BYPASS', 2]);
    const cached = await viewer.get(`/api/v1/analytics/time-series/ticket_count${qs(query)}`);
    expect([cached.headers.get('x-cache'), cached.body.total_count]).toEqual(['HIT', 2]);

    // Cache-Control: no-cache on the plain URL is the same forced read, remembered apart from the URL's HITs.
    const plain = `/api/v1/analytics/time-series/ticket_count${qs(query)}`;
    const noCache = { 'cache-control': 'no-cache' };
    expect((await viewer.get(plain, noCache)).headers.get('x-cache')).toBe('BYPASS');
    expect([pipelineRuns, hotRuns]).toEqual([4, 2]);
    expect((await viewer.get(plain, noCache)).headers.get('x-cache')).toBe('BYPASS');
    expect([pipelineRuns, hotRuns]).toEqual([4, 3]);
    expect((await viewer.get(plain)).headers.get('x-cache')).toBe('HIT');
  });

  it('charges the forced budget once per request, and leaves a spent budget to the pipeline (429)', async () => {
    const organizationId = newOrganizationId();
    const viewer = new Api(server.url, tokenFor(organizationId, 'viewer'));
    const forced = `/api/v1/analytics/distribution/status${qs({ period: '24h', use_cache: 'false' })}`;
    const answers: (string | number | null)[] = [];
    for (let i = 0; i < 8; i += 1) {
      const res = await viewer.get(forced);
      answers.push(res.status === 200 ? res.headers.get('x-cache') : res.status);
    }
    // A budget of 6 per window: the pipeline's first, five on the hot path, then the pipeline's 429s.
    expect(answers).toEqual(['BYPASS', 'BYPASS', 'BYPASS', 'BYPASS', 'BYPASS', 'BYPASS', 429, 429]);
    expect(hotRuns).toBe(5);
    expectError(await viewer.get(forced), 429, 'forced recomputes', 'per organization');
    // Another organization has its own budget; its first forced read takes the pipeline.
    const other = await viewer.as(tokenFor(newOrganizationId(), 'viewer')).get(forced);
    expect([other.status, other.headers.get('x-cache')]).toEqual([200, 'BYPASS']);
  });
});
