import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { newOrganizationId, tokenFor } from '../support/app.js';
import { buildTicket } from '../support/factories.js';
import { Api, qs, type HttpResult } from '../support/http.js';
import { counterValue } from '../support/metrics.js';
import { findNginx, TestNginx } from '../support/nginx.js';
import { ServiceProcess } from '../support/service-process.js';
import { TestSocket } from '../support/socket.js';

/**
 * Three instances of the built service behind nginx running
 * deploy/nginx.conf (README "Scaling out"): websockets and long-polling
 * through it, a write through any instance reaching sockets on all three,
 * read-your-writes whichever instance answers, and the client address
 * reaching the instances for their rate limits (TRUST_PROXY).
 */
const NGINX = findNginx();
const MISSING =
  'SKIPPED: nginx not found (NGINX_PATH, the PATH, /usr/sbin); Debian: apt-get install nginx (.ci/run installs it)';
if (!NGINX) console.warn(`load-balancer.e2e-spec.ts ${MISSING}`);

const INSTANCES = 3;
// Which instance answered: a header of the test's own, not in the committed file (it would show clients the upstream addresses).
const UPSTREAM_HEADER = 'x-test-upstream';
const series = `/api/v1/analytics/time-series/ticket_count${qs({ period: '7d' })}`;

/** A GET from another loopback address (Linux routes all of 127/8 to lo), so nginx sees another client. */
function getFrom(
  localAddress: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, headers }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.once('error', reject);
    req.end();
  });
}

describe.skipIf(!NGINX)(
  NGINX ? `three instances behind nginx (${NGINX})` : `three instances behind nginx: ${MISSING}`,
  () => {
    const instances: ServiceProcess[] = [];
    let nginx: TestNginx;
    const sockets: TestSocket[] = [];
    const open = async (socket: TestSocket) => {
      sockets.push(socket);
      await socket.connected();
      return socket;
    };
    /** The instance (0, 1, 2) that answered a request through nginx. */
    const answeredBy = (response: HttpResult) => {
      const upstream = response.headers.get(UPSTREAM_HEADER);
      const index = instances.findIndex((s) => s.url === `http://${upstream}`);
      expect(index, `${UPSTREAM_HEADER}: ${upstream}`).toBeGreaterThanOrEqual(0);
      return index;
    };
    const socketsOn = () => Promise.all(instances.map((s) => counterValue(s.url, 'pulse_socket_connections')));

    beforeAll(async () => {
      const env = {
        LOG_LEVEL: 'warn',
        // The range nginx is in, as docker-compose.yml trusts its network's (uniquelocal): the
        // clients (127.0.0.2, ...) are in it too, so only nginx's replacing X-Forwarded-For keeps
        // them from naming another address.
        TRUST_PROXY: 'loopback',
        // The anonymous address counts of this file apart from every other test's (all share 127.0.0.1).
        REDIS_KEY_PREFIX: `lb${newOrganizationId()}`,
      };
      instances.push(...(await Promise.all(Array.from({ length: INSTANCES }, () => ServiceProcess.start(env)))));
      nginx = await TestNginx.start(
        NGINX!,
        instances.map((s) => new URL(s.url).host),
        `  add_header X-Test-Upstream $upstream_addr always;\n`,
      );
    });
    // Each test counts the sockets it opens from the instances' gauges: the last test's must be gone
    // from them first (a client's close reaches the server a moment later).
    afterEach(async () => {
      sockets.splice(0).forEach((s) => s.close());
      await expect
        .poll(async () => (await socketsOn()).reduce((a, b) => a + b), { timeout: 10_000, interval: 50 })
        .toBe(0);
    });
    afterAll(async () => {
      await nginx?.stop();
      await Promise.all(instances.map((s) => s.kill()));
    });

    it('spreads API requests over the three instances', async () => {
      const api = new Api(nginx.url, tokenFor(newOrganizationId(), 'viewer'));
      const seen = new Set<number>();
      for (let i = 0; i < 9; i += 1) {
        const response = await api.get(series);
        expect(response.status, response.text).toBe(200);
        seen.add(answeredBy(response));
      }
      expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2]);
    });

    it('holds read-your-writes whichever instance writes, computes and serves from the cache', async () => {
      const organizationId = newOrganizationId();
      const writer = new Api(nginx.url, tokenFor(organizationId, 'agent'));
      const reader = new Api(nginx.url, tokenFor(organizationId, 'viewer'));
      const first = await reader.get(series);
      expect(first.body.total_count).toBe(0);
      const crossed = { computedElsewhere: 0, hitElsewhere: 0 };
      const readersSeen = new Set<number>();
      for (let written = 1; written <= 9; written += 1) {
        const created = await writer.post('/api/v1/tickets', buildTicket());
        expect(created.status, created.text).toBe(201);
        const wroteOn = answeredBy(created);
        // The first read after the write: never the result cached before it, whichever instance answers.
        const miss = await reader.get(series);
        expect(miss.status, miss.text).toBe(200);
        expect(miss.body.total_count).toBe(written);
        expect(miss.headers.get('x-cache')).toBe('MISS');
        // The next: the result that read stored in Redis, served by any instance.
        const hit = await reader.get(series);
        expect(hit.headers.get('x-cache')).toBe('HIT');
        expect(hit.text).toBe(miss.text);
        const computedOn = answeredBy(miss);
        const servedOn = answeredBy(hit);
        readersSeen.add(computedOn).add(servedOn);
        if (computedOn !== wroteOn) crossed.computedElsewhere += 1;
        if (servedOn !== computedOn) crossed.hitElsewhere += 1;
        // A fourth request turns the three above by one instance for the next round.
        expect((await reader.get('/health')).status).toBe(200);
      }
      expect([...readersSeen].sort((a, b) => a - b)).toEqual([0, 1, 2]);
      // Both hand-overs happened, most rounds (round robin over three gives all of them).
      expect(crossed.computedElsewhere).toBeGreaterThanOrEqual(3);
      expect(crossed.hitElsewhere).toBeGreaterThanOrEqual(3);
    });

    it('passes websocket upgrades, spread over the instances, and a write through any instance reaches them all', async () => {
      const organizationId = newOrganizationId();
      const before = await socketsOn();
      // All from 127.0.0.1 and without an `lb` key: a websocket opened directly may go anywhere (deploy/nginx.conf).
      const viewers = await Promise.all(
        Array.from({ length: 30 }, () => open(new TestSocket(nginx.url, tokenFor(organizationId, 'viewer')))),
      );
      for (const socket of viewers) {
        expect(socket.socket.io.engine.transport.name).toBe('websocket');
        const ack = await socket.emit('subscribe', { metrics: ['ticket_count'], window: '24h' });
        expect(ack.ok, JSON.stringify(ack)).toBe(true);
      }
      const held = (await socketsOn()).map((n, i) => n - before[i]);
      expect(held.reduce((a, b) => a + b)).toBe(viewers.length);
      for (const n of held) expect(n).toBeGreaterThan(0);

      for (const instance of instances) {
        const created = await new Api(instance.url, tokenFor(organizationId, 'agent')).post(
          '/api/v1/tickets',
          buildTicket({ created_at: new Date().toISOString() }),
        );
        expect(created.status, created.text).toBe(201);
        const updates = await Promise.all(
          viewers.map((s) => s.next('metric_update', (u) => u.ticket_id === created.body.id)),
        );
        for (const update of updates) expect(update).toMatchObject({ organization_id: organizationId });
      }
    });

    it('accepts a browser socket from its own origin through nginx (Host kept with its port), and no other', async () => {
      const token = tokenFor(newOrganizationId(), 'viewer');
      await open(new TestSocket(nginx.url, token, { extraHeaders: { origin: nginx.url } }));
      const foreign = new TestSocket(nginx.url, token, { extraHeaders: { origin: 'http://elsewhere.example' } });
      sockets.push(foreign);
      await expect(foreign.connected()).rejects.toThrow();
    });

    it('keeps a long-polling session on one instance, by its `lb` key or by the client address', async () => {
      const organizationId = newOrganizationId();
      const before = await socketsOn();
      const pollers = [
        ...Array.from(
          { length: 6 },
          () =>
            new TestSocket(nginx.url, tokenFor(organizationId, 'viewer'), {
              transports: ['polling'],
              query: { lb: randomUUID() },
            }),
        ),
        // Without a key: sticky by address.
        new TestSocket(nginx.url, tokenFor(organizationId, 'viewer'), { transports: ['polling'] }),
      ];
      await Promise.all(pollers.map(open));
      for (const socket of pollers) {
        expect(socket.socket.io.engine.transport.name).toBe('polling');
        const ack = await socket.emit('subscribe', { metrics: ['ticket_count'], window: '24h' });
        expect(ack.ok, JSON.stringify(ack)).toBe(true);
        expect((await socket.next('subscription_data')).metrics.ticket_count.total_count).toBe(0);
      }
      const held = (await socketsOn()).map((n, i) => n - before[i]);
      expect(held.reduce((a, b) => a + b)).toBe(pollers.length);

      // Several polls per session, each of which would fail on another instance ("Session ID unknown").
      const api = new Api(nginx.url, tokenFor(organizationId, 'agent'));
      for (let written = 1; written <= 3; written += 1) {
        const created = await api.post('/api/v1/tickets', buildTicket({ created_at: new Date().toISOString() }));
        expect(created.status, created.text).toBe(201);
        const updates = await Promise.all(
          pollers.map((s) => s.next('metric_update', (u) => u.ticket_id === created.body.id)),
        );
        for (const update of updates) expect(update).toMatchObject({ organization_id: organizationId });
      }
      for (const socket of pollers) {
        expect(socket.socket.connected).toBe(true);
      }
    });

    it('upgrades a polling session to a websocket on the instance that holds it', async () => {
      const organizationId = newOrganizationId();
      const socket = await open(
        new TestSocket(nginx.url, tokenFor(organizationId, 'viewer'), {
          transports: ['polling', 'websocket'],
          query: { lb: randomUUID() },
        }),
      );
      const engine = socket.socket.io.engine;
      if (engine.transport.name !== 'websocket') await new Promise((resolve) => engine.once('upgrade', resolve));
      expect(engine.transport.name).toBe('websocket');
      await socket.emit('subscribe', { metrics: ['ticket_count'], window: '24h' });
      const created = await new Api(nginx.url, tokenFor(organizationId, 'agent')).post(
        '/api/v1/tickets',
        buildTicket({ created_at: new Date().toISOString() }),
      );
      await socket.next('metric_update', (u) => u.ticket_id === created.body.id);
    });

    it('counts an unauthenticated client by its own address, whatever X-Forwarded-For it sends', async () => {
      const url = `${nginx.url}/api/v1/tickets`;
      const remaining = (r: { headers: Record<string, string | string[] | undefined> }) =>
        Number(r.headers['x-ratelimit-remaining']);
      const a1 = await getFrom('127.0.0.2', url);
      expect(a1.status).toBe(401);
      const limit = Number(a1.headers['x-ratelimit-limit']);
      expect(remaining(a1)).toBe(limit - 1);
      // Another address: a count of its own (all three would share one count if the instances saw nginx's address).
      const b1 = await getFrom('127.0.0.3', url);
      expect(remaining(b1)).toBe(limit - 1);
      // Claiming another client changes nothing: nginx replaces X-Forwarded-For with the address it sees.
      const a2 = await getFrom('127.0.0.2', url, { 'x-forwarded-for': '203.0.113.9' });
      expect(remaining(a2)).toBe(limit - 2);
      const spoofed = await getFrom('127.0.0.4', url, { 'x-forwarded-for': '127.0.0.2' });
      expect(remaining(spoofed)).toBe(limit - 1);
    });

    it('passes a bulk body over nginx’s default 1 MB limit', async () => {
      const api = new Api(nginx.url, tokenFor(newOrganizationId(), 'agent'));
      const tickets = Array.from({ length: 8000 }, (_, i) => buildTicket({ external_id: `lb-${i}` }));
      expect(JSON.stringify({ tickets }).length).toBeGreaterThan(1024 * 1024);
      const response = await api.post('/api/v1/tickets/bulk', { tickets });
      expect(response.status, response.text.slice(0, 300)).toBe(200);
    });
  },
);
