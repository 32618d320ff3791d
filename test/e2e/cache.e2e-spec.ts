import { Api, qs } from '../support/http.js';
import { EMBEDDED, newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { buildTicket } from '../support/factories.js';
import { computations } from '../support/metrics.js';
import { RollupsRepository } from '../../src/rollups/rollups.repository.js';

const NOW = Date.now();
const hoursAgo = (h: number) => new Date(NOW - h * 3_600_000).toISOString();
// A fixed range, not a `period`: a period ends at the next whole minute, so a
// check that crossed a minute boundary would ask for another result than the
// one it cached (a MISS that says nothing about the cache). Up to two hours
// ahead, so tickets created during the run fall inside it.
const END = new Date((Math.ceil(Date.now() / 3_600_000) + 1) * 3_600_000).toISOString();
const START = new Date(Date.parse(END) - 7 * 86_400_000).toISOString();
const series = (metric: string, params: Record<string, string | string[]> = {}) =>
  `/api/v1/analytics/time-series/${metric}${qs('period' in params ? params : { start_date: START, end_date: END, ...params })}`;

describe('cached executor over HTTP', () => {
  let server: TestApp;
  let api: Api;

  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    api = new Api(server.url, tokenFor(newOrganizationId(), 'admin'));
  });

  it('answers MISS, then HIT with the identical body and ETag', async () => {
    await api.post('/api/v1/tickets', buildTicket());
    const first = await api.get(series('ticket_count'));
    const second = await api.get(series('ticket_count'));
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.text).toBe(first.text);
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(first.headers.get('etag')).toMatch(/^"[^"]+"$/);
  });

  it('treats equivalent queries as one entry (filter order and repetition do not matter)', async () => {
    const a = await api.get(series('ticket_count', { status: ['pending', 'open'] }));
    const b = await api.get(series('ticket_count', { status: ['open', 'pending', 'open'] }));
    expect(a.headers.get('x-cache')).toBe('MISS');
    expect(b.headers.get('x-cache')).toBe('HIT');
  });

  it('bypasses the cache with use_cache=false and with Cache-Control: no-cache, and refreshes it', async () => {
    await api.get(series('ticket_count'));
    const byParameter = await api.get(series('ticket_count', { use_cache: 'false' }));
    const byHeader = await api.get(series('ticket_count'), { 'cache-control': 'no-cache' });
    expect(byParameter.headers.get('x-cache')).toBe('BYPASS');
    expect(byHeader.headers.get('x-cache')).toBe('BYPASS');

    // A write that the cache does not hear of (straight to the database, its rollups rebuilt) shows that BYPASS recomputes.
    await server.app.get((await import('typeorm')).DataSource).query(
      `INSERT INTO tickets (organization_id, id, status, priority, channel, category, created_at, updated_at)
         VALUES ($1, gen_random_uuid(), 'open', 'low', 'web', 'general', now() - interval '1 hour', now())`,
      [orgOf(api)],
    );
    await server.app.get(RollupsRepository).rebuild(orgOf(api));
    const stale = await api.get(series('ticket_count'));
    expect(stale.headers.get('x-cache')).toBe('HIT');
    expect(stale.body.total_count).toBe(0);
    const fresh = await api.get(series('ticket_count', { use_cache: 'false' }));
    expect(fresh.headers.get('x-cache')).toBe('BYPASS');
    expect(fresh.body.total_count).toBe(1);
    const refreshed = await api.get(series('ticket_count'));
    expect(refreshed.headers.get('x-cache')).toBe('HIT');
    expect(refreshed.body.total_count).toBe(1);
  });

  it('answers 304 without a body to a matching If-None-Match, 200 otherwise', async () => {
    const first = await api.get(series('ticket_count'));
    const etag = first.headers.get('etag')!;
    // fetch adds Cache-Control: no-cache to conditional requests unless one is given.
    const conditional = (tag: string) => ({ 'if-none-match': tag, 'cache-control': 'max-age=0' });
    const notModified = await api.get(series('ticket_count'), conditional(etag));
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers.get('etag')).toBe(etag);
    expect(notModified.headers.get('x-cache')).toBe('HIT');
    expect((await api.get(series('ticket_count'), conditional(`"other", W/${etag}`))).status).toBe(304);
    expect((await api.get(series('ticket_count'), conditional('"other"'))).status).toBe(200);
    const revalidated = await api.get(series('ticket_count'), { 'if-none-match': etag });
    expect(revalidated.headers.get('x-cache')).toBe('BYPASS');
    expect(revalidated.status).toBe(304);

    await api.post('/api/v1/tickets', buildTicket());
    const changed = await api.get(series('ticket_count'), conditional(etag));
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
  });

  describe('read-your-writes', () => {
    it('after a create', async () => {
      expect((await api.get(series('ticket_count'))).body.total_count).toBe(0);
      expect((await api.get(series('ticket_count'))).headers.get('x-cache')).toBe('HIT');
      await api.post('/api/v1/tickets', buildTicket({ created_at: hoursAgo(2) }));
      const after = await api.get(series('ticket_count'));
      expect(after.headers.get('x-cache')).toBe('MISS');
      expect(after.body.total_count).toBe(1);
    });

    it('after a patch that adds a first response, a resolve, and a reopen', async () => {
      const { body: ticket } = await api.post('/api/v1/tickets', buildTicket({ created_at: hoursAgo(10) }));
      const responses = () => api.get(series('response_time'));
      const resolutions = () => api.get(series('resolution_time'));
      expect((await responses()).body.total_count).toBe(0);
      expect((await resolutions()).body.total_count).toBe(0);
      expect((await responses()).headers.get('x-cache')).toBe('HIT');

      await api.patch(`/api/v1/tickets/${ticket.id}`, { first_response_at: hoursAgo(8) });
      const answered = await responses();
      expect(answered.body.total_count).toBe(1);
      expect(answered.body.average_value).toBeCloseTo(2, 6);

      expect((await resolutions()).headers.get('x-cache')).toBe('HIT');
      await api.patch(`/api/v1/tickets/${ticket.id}`, { status: 'resolved', resolved_at: hoursAgo(4) });
      const resolved = await resolutions();
      expect(resolved.body.total_count).toBe(1);
      expect(resolved.body.average_value).toBeCloseTo(6, 6);

      await api.patch(`/api/v1/tickets/${ticket.id}`, { status: 'open' });
      expect((await resolutions()).body.total_count).toBe(0);
    });

    it('after a change of a filtered dimension', async () => {
      const { body: ticket } = await api.post('/api/v1/tickets', buildTicket({ status: 'open' }));
      expect((await api.get(series('ticket_count', { status: 'pending' }))).body.total_count).toBe(0);
      await api.patch(`/api/v1/tickets/${ticket.id}`, { status: 'pending' });
      expect((await api.get(series('ticket_count', { status: 'pending' }))).body.total_count).toBe(1);
    });

    it('after a bulk write', async () => {
      expect((await api.get(series('ticket_count'))).body.total_count).toBe(0);
      const bulk = await api.post('/api/v1/tickets/bulk', {
        tickets: Array.from({ length: 25 }, (_, i) => buildTicket({ external_id: `b-${i}` })),
      });
      expect(bulk.body).toEqual({ inserted: 25, updated: 0 });
      expect((await api.get(series('ticket_count'))).body.total_count).toBe(25);
      await api.post('/api/v1/tickets/bulk', { tickets: [{ external_id: 'b-3', sentiment_score: 0.4 }] });
      const sentiment = await api.get(series('sentiment_score'));
      expect(sentiment.body.total_count).toBe(1);
    });
  });

  describe('DELETE /analytics/cache', () => {
    const cached = async (a: Api, path: string) => (await a.get(path)).headers.get('x-cache');

    it('invalidates exactly the scope it names, only for the caller', async () => {
      const other = new Api(server.url, tokenFor(newOrganizationId(), 'admin'));
      const paths = [series('ticket_count'), series('response_time')];
      for (const a of [api, other]) for (const path of paths) await a.get(path);

      expect((await api.delete('/api/v1/analytics/cache?pattern=response_time')).body).toEqual({
        message: 'Cache invalidated successfully',
        organization_id: orgOf(api),
        pattern: 'response_time',
      });
      expect(await cached(api, series('response_time'))).toBe('MISS');
      expect(await cached(api, series('ticket_count'))).toBe('HIT');

      await api.delete('/api/v1/analytics/cache?pattern=dashboard');
      expect(await cached(api, series('ticket_count'))).toBe('HIT');

      await api.delete('/api/v1/analytics/cache?pattern=time-series');
      expect(await cached(api, series('ticket_count'))).toBe('MISS');
      expect(await cached(api, series('response_time'))).toBe('MISS');

      const all = await api.delete('/api/v1/analytics/cache');
      expect(all.body.pattern).toBe('all');
      expect(await cached(api, series('ticket_count'))).toBe('MISS');

      for (const path of paths) expect(await cached(other, path)).toBe('HIT');
    });

    it('refuses an unknown pattern', async () => {
      const response = await api.delete('/api/v1/analytics/cache?pattern=tickets*');
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
    });
  });

  it('reports the organization’s hits, misses and reachable entries', async () => {
    await api.get(series('ticket_count'));
    await api.get(series('ticket_count'));
    await api.get(series('response_time', { use_cache: 'false' }));
    const stats = await api.get('/api/v1/analytics/cache/stats');
    expect(stats.body).toEqual({ organization_id: orgOf(api), hits: 1, misses: 2, hit_ratio: 1 / 3, entries: 2 });
    await api.delete('/api/v1/analytics/cache?pattern=ticket_count');
    expect((await api.get('/api/v1/analytics/cache/stats')).body.entries).toBe(1);
  });

  it('refreshes the common results in the background (202), so they are HITs afterwards', async () => {
    const response = await api.post('/api/v1/analytics/refresh-cache');
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ message: 'Cache refresh initiated in background', organization_id: orgOf(api) });
    await expect
      .poll(async () =>
        (await api.get(series('sentiment_score', { period: '30d', granularity: 'daily' }))).headers.get('x-cache'),
      )
      .toBe('HIT');
  });

  it('computes 50 identical concurrent cold requests once', async () => {
    await api.post('/api/v1/tickets', buildTicket());
    const before = await computations(server.url, 'time-series');
    const path = series('ticket_count', { granularity: 'hourly' });
    const responses = await Promise.all(Array.from({ length: 50 }, () => api.get(path)));
    expect(await computations(server.url, 'time-series')).toBe(before + 1);
    expect(new Set(responses.map((r) => r.text)).size).toBe(1);
    expect(responses.every((r) => r.status === 200 && r.body.total_count === 1)).toBe(true);
  });
});

// The in-process store of embedded mode is for one process by design: nothing to share.
describe.skipIf(EMBEDDED)('cached executor across two instances', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    [a, b] = await Promise.all([startApp(), startApp()]);
  });
  afterAll(() => Promise.all([a.close(), b.close()]));

  it('computes identical concurrent cold requests once in all', async () => {
    const token = tokenFor(newOrganizationId(), 'viewer');
    const path = series('ticket_count', { granularity: 'hourly', timezone: 'Asia/Kolkata' });
    const before = (await computations(a.url, 'time-series')) + (await computations(b.url, 'time-series'));
    await Promise.all(Array.from({ length: 40 }, (_, i) => new Api(i % 2 === 0 ? a.url : b.url, token).get(path)));
    const after = (await computations(a.url, 'time-series')) + (await computations(b.url, 'time-series'));
    expect(after - before).toBe(1);
  });

  it('sees a write made through the other instance', async () => {
    const token = tokenFor(newOrganizationId(), 'agent');
    const viaA = new Api(a.url, token);
    const viaB = new Api(b.url, token);
    expect((await viaA.get(series('ticket_count'))).body.total_count).toBe(0);
    await viaB.post('/api/v1/tickets', buildTicket());
    expect((await viaA.get(series('ticket_count'))).body.total_count).toBe(1);
  });
});

function orgOf(api: Api): number {
  return JSON.parse(Buffer.from(api.token!.split('.')[1], 'base64url').toString()).org_id;
}
