import pg from 'pg';
import { Api } from '../support/http.js';
import { expectError } from '../support/errors.js';
import { newOrganizationId, startApp, tokenFor } from '../support/app.js';
import { migratedDatabase, sideDatabaseUrl } from '../support/database.js';
import { buildTicket } from '../support/factories.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/**
 * Writes held up by a lock on `tickets` (a migration, a maintenance job):
 * they give up on their own bound and answer 503 without writing anything,
 * and /health keeps telling "the database is up, the pool is busy" apart from
 * "the database is unreachable", so a load balancer does not pull every
 * instance because of one long lock.
 */

const WRITE_LOCK_TIMEOUT_MS = 1000;
const POOL_SIZE = 2;
const WRITES = 10;

describe('writes against a locked tickets table', () => {
  // A database of its own: the lock below would otherwise stall every other test file.
  const url = sideDatabaseUrl('pulse_test_write_stall');
  let locker: pg.Client;
  let observer: pg.Client;

  beforeAll(async () => {
    await migratedDatabase(url);
    locker = new pg.Client({ connectionString: url });
    observer = new pg.Client({ connectionString: url });
    await Promise.all([locker.connect(), observer.connect()]);
  });
  afterAll(async () => {
    await Promise.all([locker.end(), observer.end()]);
  });

  /** Holds ACCESS EXCLUSIVE on tickets (nothing reads or writes it) while `work` runs. */
  async function whileLocked<T>(work: () => Promise<T>): Promise<T> {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE');
    try {
      return await work();
    } finally {
      await locker.query('ROLLBACK');
    }
  }

  /** Backends of the service (not this file's) waiting on a lock. */
  async function waitingOnLock(): Promise<number> {
    const { rows } = await observer.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = 'pulse' AND wait_event_type = 'Lock'`,
    );
    return rows[0].n;
  }

  /** Resolves once no transaction of the service is open on this database. */
  async function serviceSettled(): Promise<void> {
    await expect
      .poll(
        async () => {
          const { rows } = await observer.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = 'pulse' AND state <> 'idle'`,
          );
          return rows[0].n;
        },
        { timeout: 10_000, interval: 50 },
      )
      .toBe(0);
  }

  async function ticketsOf(organizationId: number): Promise<number> {
    const { rows } = await observer.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM tickets WHERE organization_id = $1',
      [organizationId],
    );
    return rows[0].n;
  }

  it('answers POST /tickets 503 with Retry-After within the lock timeout, and writes nothing', async () => {
    const server = await startApp({ DATABASE_URL: url, WRITE_LOCK_TIMEOUT_MS: String(WRITE_LOCK_TIMEOUT_MS) });
    try {
      const organizationId = newOrganizationId();
      const agent = new Api(server.url, tokenFor(organizationId, 'agent'));
      const { res, elapsed } = await whileLocked(async () => {
        const started = performance.now();
        const answer = await agent.post('/api/v1/tickets', buildTicket({ external_id: 'held-up' }));
        return { res: answer, elapsed: performance.now() - started };
      });
      expectError(res, 503, 'lock');
      expect(res.body.code).toBe('QUERY_TIMEOUT');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      // The bound, not the lock, ended the wait (the lock lasted as long as the request);
      // the upper margin is generous: without a bound the write waits as long as the lock.
      expect(elapsed).toBeGreaterThanOrEqual(WRITE_LOCK_TIMEOUT_MS);
      expect(elapsed).toBeLessThan(WRITE_LOCK_TIMEOUT_MS + 5000);
      await serviceSettled();
      expect(await ticketsOf(organizationId)).toBe(0);
      // Nothing is left stuck: the same write goes through once the lock is gone.
      const retried = await agent.post('/api/v1/tickets', buildTicket({ external_id: 'held-up' }));
      expect(retried.status, retried.text).toBe(201);
      expect(await ticketsOf(organizationId)).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('keeps /health 200 while every pool connection waits on the lock, reporting the pool busy', async () => {
    // Writes that wait longer than the check, on a pool smaller than the writes.
    const server = await startApp({
      DATABASE_URL: url,
      DATABASE_POOL_SIZE: String(POOL_SIZE),
      DATABASE_CONNECT_TIMEOUT_MS: '60000',
      WRITE_LOCK_TIMEOUT_MS: '60000',
    });
    try {
      const organizationId = newOrganizationId();
      const agent = new Api(server.url, tokenFor(organizationId, 'agent'));
      const health = new Api(server.url);
      const { writes, answer } = await whileLocked(async () => {
        const pending = Array.from({ length: WRITES }, (_, i) =>
          agent.post('/api/v1/tickets', buildTicket({ external_id: `waiting-${i}` })),
        );
        await expect.poll(waitingOnLock, { timeout: 10_000, interval: 50 }).toBe(POOL_SIZE);
        return { writes: pending, answer: await health.get('/health') };
      });
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body.details.database).toMatchObject({ status: 'up', pool: 'busy' });
      expect(answer.body.details.database.waiting).toBeGreaterThan(0);
      expect(answer.body.error).toEqual({});
      // Once the lock is gone the writes that waited go through.
      for (const res of await Promise.all(writes)) expect(res.status, res.text).toBe(201);
      // What the writes set off after their commits (invalidation records) drains too.
      await expect.poll(async () => (await health.get('/health')).body.details.database.pool).toBe('ready');
    } finally {
      await server.close();
    }
  });

  it('is 503 when the database becomes unreachable while the pool is busy', async () => {
    const target = new URL(url);
    const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    const server = await startApp({
      DATABASE_URL: proxy.rewrite(url),
      DATABASE_POOL_SIZE: String(POOL_SIZE),
      DATABASE_CONNECT_TIMEOUT_MS: '60000',
      WRITE_LOCK_TIMEOUT_MS: '60000',
    });
    try {
      const agent = new Api(server.url, tokenFor(newOrganizationId(), 'agent'));
      const health = new Api(server.url);
      const answer = await whileLocked(async () => {
        const pending = Array.from({ length: WRITES }, (_, i) =>
          agent.post('/api/v1/tickets', buildTicket({ external_id: `cut-off-${i}` })),
        );
        await expect.poll(waitingOnLock, { timeout: 10_000, interval: 50 }).toBe(POOL_SIZE);
        // A network partition: the held connections hang, new ones get no answer.
        proxy.stall();
        const res = await health.get('/health');
        // Frees the writes (their connections fail) so the service can close.
        await proxy.cut();
        await Promise.all(pending);
        return res;
      });
      expect(answer.status, answer.text).toBe(503);
      expect(answer.body.error.database.status).toBe('down');
    } finally {
      await proxy.cut();
      await server.close();
    }
  });
});
