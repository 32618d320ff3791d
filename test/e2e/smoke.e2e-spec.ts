import { Api, qs } from '../support/http.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { buildTicket } from '../support/factories.js';

describe('smoke', () => {
  let server: TestApp;
  let api: Api;

  beforeAll(async () => {
    server = await startApp();
    api = new Api(server.url, tokenFor(newOrganizationId(), 'admin'));
  });
  afterAll(() => server.close());

  it('creates a ticket and counts it', async () => {
    const created = await api.post('/api/v1/tickets', buildTicket());
    expect(created.status).toBe(201);
    const series = await api.get(`/api/v1/analytics/time-series/ticket_count${qs({ period: '24h' })}`);
    expect(series.status).toBe(200);
    expect(series.body.total_count).toBe(1);
  });
});
