import { RealtimeService } from '../../src/realtime/realtime.service.js';
import { signToken } from '../../src/auth/token.service.js';
import { JWT_SECRET, newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { RawSocket } from '../support/raw-socket.js';
import { TestSocket } from '../support/socket.js';

/** Waits for a state the server reaches by itself. */
async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('the server did not get there');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('socket message rate limit', () => {
  const LIMIT = 5;
  let server: TestApp;
  const sockets: TestSocket[] = [];
  const open = async (token: string) => {
    const socket = new TestSocket(server.url, token);
    sockets.push(socket);
    await socket.connected();
    return socket;
  };
  beforeAll(async () => {
    server = await startApp({ RATE_LIMIT_SOCKET_EVENTS: String(LIMIT) });
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  afterAll(() => server.close());

  it('refuses messages over the limit with an ack error and an exception, per organization and subject', async () => {
    const organizationId = newOrganizationId();
    const socket = await open(tokenFor(organizationId, 'viewer'));
    for (let i = 0; i < LIMIT; i++) expect(await socket.emit('ping')).toHaveProperty('timestamp');
    const refused = await socket.emit('subscribe', { metrics: ['ticket_count'] });
    expect(refused).toEqual({ ok: false, error: expect.stringMatching(/^too many messages: at most 5 per 60 s/) });
    expect(await socket.next('exception')).toEqual({ status: 'error', message: refused.error });

    // The count belongs to the caller, not to one socket; another caller has its own.
    // One exception for a run of refusals, an ack error for each.
    expect(await socket.emit('ping')).toMatchObject({ ok: false });
    expect(socket.count('exception')).toBe(1);

    const sameCaller = await open(tokenFor(organizationId, 'viewer'));
    expect(await sameCaller.emit('ping')).toMatchObject({ ok: false });
    const otherCaller = await open(tokenFor(organizationId, 'agent'));
    expect(await otherCaller.emit('ping')).toHaveProperty('timestamp');
  });

  it('disconnects a socket that keeps sending while refused, saying why', async () => {
    const socket = await open(tokenFor(newOrganizationId(), 'viewer'));
    for (let i = 0; i < LIMIT; i++) await socket.emit('ping');
    for (let i = 0; i < LIMIT; i++) socket.socket.emit('ping');
    expect(await socket.disconnected()).toBe('io server disconnect');
    expect(socket.events.filter((e) => e.name === 'exception').at(-1)?.payload).toEqual({
      status: 'error',
      message: 'too many messages over the rate limit; disconnecting',
    });
  });
});

describe('a socket that stops reading', () => {
  const CAP = 65_536;
  let server: TestApp;
  beforeAll(async () => {
    server = await startApp({ SOCKET_MAX_UNSENT_BYTES: String(CAP) });
  });
  afterAll(() => server.close());

  /** Opens a raw socket, stops reading, and subscribes to ~160 KB replies until the server lets it go. */
  async function flood(): Promise<RawSocket> {
    const realtime = server.app.get(RealtimeService);
    const socket = await RawSocket.open(server.url, tokenFor(newOrganizationId(), 'viewer'));
    const inARoom = () => realtime.inspect().rooms.some((room) => room.sockets.includes(socket.id));
    socket.pause();
    // 720 hourly points of four metrics; the kernel's buffers take a few MB
    // before anything stays in the server.
    const subscription = {
      metrics: ['ticket_count', 'response_time', 'resolution_time', 'sentiment_score'],
      window: '30d',
      interval: 3600,
    };
    socket.emit('subscribe', subscription);
    await until(inARoom);
    // Subscribes keep the socket in its room for as long as it is connected.
    for (let sent = 1; sent < 1000 && inARoom(); sent++) {
      socket.emit('subscribe', subscription);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(inARoom()).toBe(false);
    return socket;
  }

  it('is disconnected once more than SOCKET_MAX_UNSENT_BYTES wait for it, and told why', async () => {
    const socket = await flood();
    try {
      // A client that reads again within a few seconds finds the reason before the end of the stream.
      socket.resume();
      const reason = await socket.until((p) => p.startsWith('42/analytics,["exception"'));
      expect(JSON.parse(reason.slice('42/analytics,'.length))[1]).toEqual({
        status: 'error',
        message: `more than ${CAP} bytes sent to this socket are unread; disconnecting`,
      });
      await socket.until((p) => p === '41/analytics,');
    } finally {
      socket.close();
    }
  });

  it('has its connection dropped a few seconds later if it still does not read', async () => {
    const socket = await flood();
    try {
      // A client that does not read learns it when a write fails, so it keeps sending.
      let closed = false;
      void socket.closed.then(() => (closed = true));
      for (let i = 0; i < 500 && !closed; i++) {
        socket.emit('ping', null);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(closed).toBe(true);
    } finally {
      socket.close();
    }
  });
});

describe('a socket whose token expires', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  it('is disconnected at the token’s exp with exception "token expired"', async () => {
    const token = signToken({ sub: 'short-lived', org_id: newOrganizationId(), role: 'viewer' }, JWT_SECRET, 2);
    const socket = new TestSocket(server.url, token);
    try {
      await socket.connected();
      expect(await socket.emit('subscribe', { metrics: ['ticket_count'], interval: 1 })).toMatchObject({ ok: true });
      expect(await socket.disconnected(4000)).toBe('io server disconnect');
      expect(socket.events.filter((e) => e.name === 'exception').map((e) => e.payload)).toEqual([
        { status: 'error', message: 'token expired' },
      ]);
      expect(server.app.get(RealtimeService).inspect().rooms).toEqual([]);
    } finally {
      socket.close();
    }
  });
});
