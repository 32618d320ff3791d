import { Api, qs } from '../support/http.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { buildTicket } from '../support/factories.js';
import { counterValue } from '../support/metrics.js';
import { TestSocket } from '../support/socket.js';

describe('GET /metrics', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  it('reports requests by route and status, cache results, queries, events and sockets', async () => {
    const api = new Api(server.url, tokenFor(newOrganizationId(), 'admin'));
    const path = `/api/v1/analytics/time-series/ticket_count${qs({ period: '7d' })}`;
    await api.post('/api/v1/tickets', buildTicket());
    await api.get(path);
    await api.get(path);
    await api.get(`/api/v1/tickets/00000000-0000-4000-8000-000000000000`);
    const socket = new TestSocket(server.url, tokenFor(newOrganizationId(), 'viewer'));
    await socket.connected();
    try {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(text).toMatch(
        /pulse_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/analytics\/time-series\/:metric_type",status_code="200"\} 2/,
      );
      expect(text).toMatch(
        /pulse_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/tickets\/:id",status_code="404"\} 1/,
      );
      expect(
        await counterValue(server.url, 'pulse_cache_results_total', { section: 'time-series', result: 'HIT' }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        await counterValue(server.url, 'pulse_cache_results_total', { section: 'time-series', result: 'MISS' }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        await counterValue(server.url, 'pulse_domain_events_total', { event: 'ticket.created' }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        await counterValue(server.url, 'pulse_db_query_duration_seconds_count', { outcome: 'ok' }),
      ).toBeGreaterThanOrEqual(1);
      expect(await counterValue(server.url, 'pulse_socket_connections')).toBe(1);
    } finally {
      socket.close();
    }
    await expect.poll(() => counterValue(server.url, 'pulse_socket_connections')).toBe(0);
  });
});
