import { Api, qs } from '../support/http.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';

// One destination for every app of the file: nestjs-pino keeps one root logger per process.
const lines: Record<string, any>[] = [];
const destination = { write: (line: string) => void lines.push(JSON.parse(line)) };

describe('request log', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp({ LOG_LEVEL: 'info' }, destination);
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

  it('logs the connection’s address, whatever X-Forwarded-For claims (TRUST_PROXY off by default)', async () => {
    const response = await fetch(`${server.url}/health`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    const id = response.headers.get('x-request-id')!;
    await expect.poll(() => requestLines(id).length).toBe(1);
    expect(requestLines(id)[0].req.remoteAddress).toBe('127.0.0.1');
  });
});

describe('request log behind a trusted proxy (TRUST_PROXY)', () => {
  const servers: TestApp[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  /** The client address the log shows for a request from loopback claiming `forwardedFor`. */
  async function loggedAddress(trustProxy: string, forwardedFor: string): Promise<string> {
    const server = await startApp({ LOG_LEVEL: 'info', TRUST_PROXY: trustProxy }, destination);
    servers.push(server);
    const response = await fetch(`${server.url}/health`, { headers: { 'x-forwarded-for': forwardedFor } });
    const id = response.headers.get('x-request-id')!;
    const line = () => lines.find((l) => l.req?.id === id && l.res);
    await expect.poll(line).toBeDefined();
    return line()!.req.remoteAddress;
  }

  it('takes the client from X-Forwarded-For when the connection comes from a listed proxy', async () => {
    expect(await loggedAddress('127.0.0.1', '203.0.113.7')).toBe('203.0.113.7');
    expect(await loggedAddress('10.0.0.0/8, loopback', '198.51.100.1, 10.1.2.3')).toBe('198.51.100.1');
  });

  it('ignores X-Forwarded-For from an address that is not a listed proxy', async () => {
    expect(await loggedAddress('10.0.0.0/8', '203.0.113.7')).toBe('127.0.0.1');
  });

  it('with a hop count, trusts that many proxies from the connection inward', async () => {
    expect(await loggedAddress('1', '198.51.100.1, 203.0.113.7')).toBe('203.0.113.7');
    expect(await loggedAddress('2', '198.51.100.1, 203.0.113.7')).toBe('198.51.100.1');
  });
});
