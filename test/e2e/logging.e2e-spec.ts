import { Api, qs } from '../support/http.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';

describe('request log', () => {
  let server: TestApp;
  const lines: Record<string, any>[] = [];

  beforeAll(async () => {
    server = await startApp({ LOG_LEVEL: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  });
  afterAll(() => server.close());

  const requestLines = (id: string) => lines.filter((line) => line.req?.id === id && line.res);

  it('writes one JSON line per request under the id it returns, the client’s own when it sends one', async () => {
    const token = tokenFor(newOrganizationId(), 'viewer');
    const api = new Api(server.url, token);
    const generated = await api.get(`/api/v1/analytics/time-series/ticket_count${qs({ period: '24h' })}`);
    const given = await api.get('/api/v1/tickets', { 'x-request-id': 'client-id-42' });
    expect(given.headers.get('x-request-id')).toBe('client-id-42');
    await expect.poll(() => requestLines('client-id-42').length).toBe(1);
    const [line] = requestLines(generated.headers.get('x-request-id')!);
    expect(line).toMatchObject({ req: { method: 'GET' }, res: { statusCode: 200 } });
    expect(typeof line.responseTime).toBe('number');
    expect(JSON.stringify(lines)).not.toContain(token);
  });

  it('logs an error under the id of its body', async () => {
    const response = await new Api(server.url, 'not-a-token').get('/api/v1/tickets');
    expect(response.status).toBe(401);
    await expect.poll(() => requestLines(response.body.request_id).length).toBe(1);
    expect(requestLines(response.body.request_id)[0].res.statusCode).toBe(401);
  });

  it('logs the routes outside /api/v1 once too', async () => {
    const response = await fetch(`${server.url}/health`);
    const id = response.headers.get('x-request-id')!;
    await expect.poll(() => requestLines(id).length).toBe(1);
  });

  it('keeps the wallboard’s token out of the log', async () => {
    const token = tokenFor(newOrganizationId(), 'viewer');
    const response = await fetch(`${server.url}/wallboard?token=${token}`);
    const id = response.headers.get('x-request-id')!;
    await expect.poll(() => requestLines(id).length).toBe(1);
    expect(JSON.stringify(lines)).not.toContain(token);
  });
});
