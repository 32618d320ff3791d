import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { SocketNamespace } from '../../src/realtime/socket-namespace.js';
import { Api } from '../support/http.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { buildTicket } from '../support/factories.js';
import { TestSocket } from '../support/socket.js';

/**
 * A write answers after its commit and its cache bump, never after the
 * delivery of its socket updates: its response is written before the first
 * metric_update is handed to socket.io.
 */
describe('a write with subscribed sockets', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  it('is answered before its updates are sent', async () => {
    const organizationId = newOrganizationId();
    const sockets = Array.from({ length: 20 }, () => new TestSocket(server.url, tokenFor(organizationId, 'viewer')));
    await Promise.all(sockets.map((s) => s.connected()));
    await Promise.all(sockets.map((s) => s.emit('subscribe', { metrics: ['ticket_count'], interval: 3600 })));

    const order: string[] = [];
    const namespace = server.app.get(SocketNamespace);
    const emitLocal = namespace.emitLocal.bind(namespace);
    namespace.emitLocal = ((...args: Parameters<typeof emitLocal>) => {
      if (args[1] === 'metric_update') order.push('metric_update');
      return emitLocal(...args);
    }) as typeof emitLocal;
    // Records when the write's response is written, whatever the client sees later.
    (server.app.getHttpServer() as Server).on('request', (request: IncomingMessage, response: ServerResponse) => {
      if (request.method !== 'POST') return;
      const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
      response.end = ((...args: unknown[]) => {
        order.push('response');
        return end(...args);
      }) as typeof response.end;
    });

    const created = await new Api(server.url, tokenFor(organizationId, 'agent')).post('/api/v1/tickets', buildTicket());
    expect(created.status).toBe(201);
    await Promise.all(sockets.map((s) => s.next('metric_update')));
    expect(order).toEqual(['response', 'metric_update']);
    for (const s of sockets) s.close();
  });
});
