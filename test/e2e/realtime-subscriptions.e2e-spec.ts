import fc from 'fast-check';
import { RealtimeService } from '../../src/realtime/realtime.service.js';
import { SocketNamespace } from '../../src/realtime/socket-namespace.js';
import { subscriptionRoom, type NormalizedSubscription } from '../../src/realtime/subscription.js';
import { newOrganizationId, startApp, testDatabaseUrl, tokenFor, type TestApp } from '../support/app.js';
import { TestSocket } from '../support/socket.js';
import { counterValue } from '../support/metrics.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/** Four valid subscriptions and one the server refuses (which leaves the previous one in place). */
const SUBSCRIPTIONS: Record<string, unknown>[] = [
  { metrics: ['ticket_count'], window: '1h', interval: 1 },
  { metrics: ['ticket_count', 'response_time'], window: '24h', interval: 1 },
  { metrics: ['sentiment_score'], window: '7d', granularity: 'daily', interval: 2 },
  { metrics: ['ticket_count'], window: '1h', interval: 1, filters: { priority: ['high'] } },
  { metrics: [] },
];
const SOCKETS = 3;

type Step =
  | { kind: 'subscribe'; socket: number; subscription: number; await: boolean }
  | { kind: 'unsubscribe'; socket: number; await: boolean }
  | { kind: 'disconnect'; socket: number }
  | { kind: 'reconnect'; socket: number }
  | { kind: 'database'; up: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('subscribe' as const),
      socket: fc.nat(SOCKETS - 1),
      subscription: fc.nat(SUBSCRIPTIONS.length - 1),
      await: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('unsubscribe' as const),
      socket: fc.nat(SOCKETS - 1),
      await: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('disconnect' as const), socket: fc.nat(SOCKETS - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reconnect' as const), socket: fc.nat(SOCKETS - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('database' as const), up: fc.boolean() }) },
);

/** What one connection sent, in order, with the replies (a refused subscribe changes nothing). */
type Sent = { kind: 'subscribe' | 'unsubscribe'; reply: Promise<any> };

/** Waits for a condition the server reaches on its own (a disconnect it has not processed yet), or gives up. */
async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('subscriptions under any interleaving (fast-check)', () => {
  let server: TestApp;
  let database: TcpProxy;
  let realtime: RealtimeService;
  let namespace: SocketNamespace;

  beforeAll(async () => {
    const target = new URL(testDatabaseUrl());
    database = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    server = await startApp({ DATABASE_URL: database.rewrite(testDatabaseUrl()), DATABASE_CONNECT_TIMEOUT_MS: '500' });
    realtime = server.app.get(RealtimeService);
    namespace = server.app.get(SocketNamespace);
  });
  afterAll(async () => {
    await database.open().catch(() => undefined);
    await server.close();
    await database.cut();
  });

  it('leaves each socket in the room of its last subscribe, and nothing behind once they leave', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 20 }), async (steps) => {
        const organizationId = newOrganizationId();
        const token = tokenFor(organizationId, 'viewer');
        const sockets: (TestSocket | null)[] = [];
        const sent = new Map<TestSocket, Sent[]>();
        const ids = new Set<string>();
        const connect = async (i: number) => {
          const socket = new TestSocket(server.url, token);
          await socket.connected();
          sockets[i] = socket;
          sent.set(socket, []);
          ids.add(socket.socket.id!);
        };
        let databaseUp = true;
        // Compared with what the earlier runs left, so a shrunk counterexample fails on its own.
        const tickersBefore = realtime.inspect().tickers;
        try {
          for (let i = 0; i < SOCKETS; i++) await connect(i);
          for (const s of steps) {
            if (s.kind === 'database') {
              if (s.up && !databaseUp) await database.open();
              if (!s.up && databaseUp) await database.cut();
              databaseUp = s.up;
              continue;
            }
            const socket = sockets[s.socket];
            if (s.kind === 'reconnect') {
              if (!socket) await connect(s.socket);
              continue;
            }
            if (!socket) continue;
            if (s.kind === 'disconnect') {
              socket.close();
              sockets[s.socket] = null;
              continue;
            }
            const reply =
              s.kind === 'subscribe'
                ? socket.emit('subscribe', SUBSCRIPTIONS[s.subscription])
                : socket.emit('unsubscribe');
            reply.catch(() => undefined);
            sent.get(socket)!.push({ kind: s.kind, reply });
            if (s.await) await reply;
          }

          // Every reply is in, so every event of a connected socket has been handled.
          const live = sockets.filter((s): s is TestSocket => s !== null);
          for (const socket of live) {
            let expected: string | undefined;
            for (const { kind, reply } of sent.get(socket)!) {
              const answer = await reply;
              if (kind === 'unsubscribe') expected = undefined;
              else if (answer.ok)
                expected = subscriptionRoom(organizationId, answer.subscription as NormalizedSubscription);
              else if (!answer.error.includes('metrics')) expected = undefined;
            }
            const id = socket.socket.id!;
            const serviceRooms = realtime
              .inspect()
              .rooms.filter((r) => r.sockets.includes(id))
              .map((r) => r.name);
            const adapterRooms = [...namespace.localRooms()]
              .filter(([, members]) => members.includes(id))
              .map(([r]) => r);
            expect(serviceRooms).toEqual(expected ? [expected] : []);
            expect(adapterRooms).toEqual(serviceRooms);
          }
        } finally {
          sockets.forEach((socket) => socket?.close());
          if (!databaseUp) await database.open();
        }
        // Once the server has seen every socket leave (and finished what they started), nothing of theirs is left.
        const ours = `sub:${organizationId}:`;
        const leftovers = () => ({
          rooms: realtime.inspect().rooms.filter((room) => room.name.startsWith(ours)),
          adapterRooms: [...namespace.localRooms()].filter(([, members]) => members.some((id) => ids.has(id))),
          tickers: realtime.inspect().tickers - tickersBefore,
          builds: realtime.inspect().builds,
        });
        const nothing = { rooms: [], adapterRooms: [], tickers: 0, builds: 0 };
        await eventually(() => JSON.stringify(leftovers()) === JSON.stringify(nothing));
        expect(leftovers()).toEqual(nothing);
      }),
      { numRuns: 25 },
    );
  });

  it('a subscribe that fails leaves no room and no ticker', async () => {
    const socket = new TestSocket(server.url, tokenFor(newOrganizationId(), 'viewer'));
    try {
      await socket.connected();
      await database.cut();
      const reply = await socket.emit('subscribe', SUBSCRIPTIONS[0]);
      expect(reply).toEqual({ ok: false, error: 'subscription failed; try again' });
      expect(realtime.inspect()).toEqual({ rooms: [], tickers: 0, builds: 0 });
      expect([...namespace.localRooms()]).toEqual([]);
    } finally {
      await database.open();
      socket.close();
    }
  });

  it('builds subscription_data once for every socket that asked while a build ran', async () => {
    const token = tokenFor(newOrganizationId(), 'viewer');
    const subscription = { metrics: ['ticket_count', 'response_time'], window: '24h', interval: 3600 };
    const sockets = Array.from({ length: 30 }, () => new TestSocket(server.url, token));
    const runs = () => counterValue(server.url, 'pulse_cache_results_total', { section: 'time-series' });
    try {
      await Promise.all(sockets.map((s) => s.connected()));
      const before = await runs();
      // The first subscribe's computation waits on the database while the others arrive.
      database.hold();
      const replies = sockets.map((s) => s.emit('subscribe', subscription));
      await eventually(() => realtime.inspect().rooms.some((room) => room.sockets.length === sockets.length));
      database.release();
      expect((await Promise.all(replies)).every((reply) => reply.ok)).toBe(true);
      const data = await Promise.all(sockets.map((s) => s.next('subscription_data')));
      expect(new Set(data.map((d) => JSON.stringify(d))).size).toBeLessThanOrEqual(2);
      expect(sockets.every((s) => s.count('subscription_data') === 1)).toBe(true);
      // One build for the first socket(s) and at most one for all that came while it ran: two series each.
      const builds = ((await runs()) - before) / subscription.metrics.length;
      expect(builds).toBeGreaterThanOrEqual(1);
      expect(builds).toBeLessThanOrEqual(2);
    } finally {
      database.release();
      sockets.forEach((s) => s.close());
    }
  });
});
