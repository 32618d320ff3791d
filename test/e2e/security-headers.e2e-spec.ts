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
    // Settles on the handshake's own outcome, never on a timer: a handshake
    // that is accepted where it should be refused fails the test.
    const connect = (origin: string) => {
      const socket = io(`${server.url}/analytics`, {
        auth: { token: tokenFor(newOrganizationId(), 'viewer') },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        extraHeaders: { origin },
      });
      return new Promise<string>((resolve) => {
        socket.once('connect', () => resolve('connected'));
        socket.once('connect_error', (error) => resolve(`refused: ${error.message}`));
      }).finally(() => socket.close());
    };
    expect(await connect(ALLOWED)).toBe('connected');
    // engine.io answers the upgrade request with 403 before any WebSocket exists.
    for (const origin of ['https://evil.example.com', 'null', 'https://wall.example.com.evil.example']) {
      expect(await connect(origin)).toBe('refused: websocket error');
    }
  });
});

describe('CORS_ORIGINS', () => {
  it('refuses something that is not an origin', async () => {
    await expect(startApp({ CORS_ORIGINS: 'https://ok.example.com/path' })).rejects.toThrow(/CORS_ORIGINS/);
  });
});
