import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { signToken } from '../../src/auth/token.service.js';
import { MetricUpdatesService } from '../../src/realtime/metric-updates.service.js';
import { RealtimeService } from '../../src/realtime/realtime.service.js';
import { SocketNamespace } from '../../src/realtime/socket-namespace.js';
import { JWT_SECRET, newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { buildTicket } from '../support/factories.js';
import { Api } from '../support/http.js';
import { TestSocket } from '../support/socket.js';

// A full collection on demand, so what survives it is held, not garbage.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const SUBSCRIPTIONS = [
  { metrics: ['ticket_count'], window: '1h', interval: 1 },
  { metrics: ['ticket_count', 'response_time'], window: '24h', interval: 2 },
  { metrics: ['ticket_count'], window: '7d', granularity: 'daily', interval: 3 },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await sleep(20);
}

/**
 * What a socket costs the service ends with it: once sockets have connected,
 * subscribed, received updates and left, no map, set, timer or listener of
 * the service, socket.io or engine.io still holds them.
 */
describe('socket memory', () => {
  let server: TestApp;
  let namespace: SocketNamespace;
  beforeAll(async () => {
    server = await startApp();
    namespace = server.app.get(SocketNamespace);
  });
  afterAll(() => server.close());

  it('holds nothing of its sockets once they have left', async () => {
    const organizationId = newOrganizationId();
    const clients = Array.from(
      { length: 40 },
      (_, i) =>
        new TestSocket(
          server.url,
          signToken({ sub: `memory-${i}`, org_id: organizationId, role: 'viewer' }, JWT_SECRET, 3600),
        ),
    );
    await Promise.all(clients.map((c) => c.connected()));
    // Weak references only: the test itself must not keep the server's sockets alive.
    const held = namespace.inspect().sockets.map((socket) => new WeakRef(socket));
    expect(held).toHaveLength(clients.length);

    await Promise.all(clients.map((c, i) => c.emit('subscribe', SUBSCRIPTIONS[i % SUBSCRIPTIONS.length])));
    await Promise.all(clients.filter((_, i) => i % 4 === 0).map((c) => c.emit('unsubscribe')));
    await Promise.all(clients.filter((_, i) => i % 4 === 1).map((c) => c.emit('subscribe', SUBSCRIPTIONS[0])));
    await Promise.all(clients.map((c) => c.emit('ping')));
    // A write, so every subscribed socket has had a metric_update and the coalescing windows opened.
    const created = await new Api(server.url, tokenFor(organizationId, 'agent')).post(
      '/api/v1/tickets',
      buildTicket({ created_at: new Date().toISOString() }),
    );
    expect(created.status).toBe(201);
    await Promise.all(clients.filter((_, i) => i % 4 !== 0).map((c) => c.next('metric_update')));
    expect(server.app.get(MetricUpdatesService).inspect().windows).toBeGreaterThan(0);

    for (const c of clients) c.close();
    const left = () => ({
      ...namespace.inspect(),
      sockets: namespace.inspect().sockets.length,
      realtime: server.app.get(RealtimeService).inspect(),
      windows: server.app.get(MetricUpdatesService).inspect().windows,
    });
    const nothing = {
      sockets: 0,
      rooms: 0,
      sids: 0,
      connections: 0,
      realtime: { rooms: [], tickers: 0, builds: 0 },
      windows: 0,
    };
    await eventually(() => JSON.stringify(left()) === JSON.stringify(nothing));
    expect(left()).toEqual(nothing);

    // A weak reference's target stays alive until the job that made or read it ends: collect between turns.
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      collectGarbage();
    }
    // Nest keeps the last socket of its connection stream and of its disconnect stream (distinctUntilChanged): at most two.
    expect(held.filter((ref) => ref.deref() !== undefined).length).toBeLessThanOrEqual(2);
  });

  /**
   * Three connected sockets of a new organization, and the pre-encoded frame (or undefined)
   * of every packet of `event` that engine.io is handed for them.
   */
  async function watchFrames(event: string) {
    const organizationId = newOrganizationId();
    const clients = Array.from({ length: 3 }, () => new TestSocket(server.url, tokenFor(organizationId, 'viewer')));
    await Promise.all(clients.map((c) => c.connected()));
    const ids = new Set(clients.map((c) => c.socket.id));
    const frames: unknown[] = [];
    for (const socket of namespace.inspect().sockets.filter((s) => ids.has(s.id))) {
      socket.conn.on('packetCreate', (packet: { data?: unknown; options?: { wsPreEncodedFrame?: unknown } }) => {
        if (typeof packet.data === 'string' && packet.data.includes(`"${event}"`)) {
          frames.push(packet.options?.wsPreEncodedFrame);
        }
      });
    }
    return { organizationId, clients, frames };
  }

  it('answers subscribes with text, not a pre-encoded frame', async () => {
    const { clients, frames } = await watchFrames('subscription_data');
    try {
      await Promise.all(clients.map((c) => c.emit('subscribe', SUBSCRIPTIONS[0])));
      await Promise.all(clients.map((c) => c.next('subscription_data')));
      // Text, which Node copies for the write and frees once the socket has taken it: a frame
      // (a Buffer) stays until V8 collects it, and a burst of subscribes left those behind.
      expect(frames).toEqual([undefined, undefined, undefined]);
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('hands every socket of a room the same encoded frame of a broadcast', async () => {
    const { organizationId, clients, frames } = await watchFrames('metric_update');
    try {
      await Promise.all(clients.map((c) => c.emit('subscribe', SUBSCRIPTIONS[0])));
      await new Api(server.url, tokenFor(organizationId, 'agent')).post(
        '/api/v1/tickets',
        buildTicket({ created_at: new Date().toISOString() }),
      );
      await Promise.all(clients.map((c) => c.next('metric_update')));
      expect(frames).toHaveLength(3);
      // One WebSocket frame, built once, for all of them: no copy of the payload per socket.
      expect(frames[0]).toBeInstanceOf(Array);
      expect(frames[1]).toBe(frames[0]);
      expect(frames[2]).toBe(frames[0]);
    } finally {
      for (const c of clients) c.close();
    }
  });
});
