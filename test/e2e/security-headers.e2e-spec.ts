import { io } from 'socket.io-client';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';

const ALLOWED = 'https://wall.example.com';

describe('security headers and allowed origins', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startApp({ CORS_ORIGINS: ALLOWED });
  });
  afterAll(() => server.close());

  it('sends helmet’s headers with a CSP that keeps pages to the service’s own scripts', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('answers CORS preflights for allowed origins only', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/api/v1/tickets`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
    expect((await preflight(ALLOWED)).headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect((await preflight('https://evil.example.com')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets the socket handshake through from allowed origins only', async () => {
    const connect = (origin: string) =>
      new Promise<boolean>((resolve) => {
        const socket = io(`${server.url}/analytics`, {
          auth: { token: tokenFor(newOrganizationId(), 'viewer') },
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
          extraHeaders: { origin },
        });
        socket.once('connect', () => resolve(true));
        socket.once('connect_error', () => resolve(false));
        setTimeout(() => resolve(false), 3000);
      }).finally(() => undefined);
    expect(await connect(ALLOWED)).toBe(true);
    expect(await connect('https://evil.example.com')).toBe(false);
  });
});

describe('CORS_ORIGINS', () => {
  it('refuses something that is not an origin', async () => {
    await expect(startApp({ CORS_ORIGINS: 'https://ok.example.com/path' })).rejects.toThrow(/CORS_ORIGINS/);
  });
});
