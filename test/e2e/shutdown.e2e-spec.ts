import pg from 'pg';
import { newOrganizationId, tokenFor } from '../support/app.js';
import { migratedDatabase, sideDatabaseUrl } from '../support/database.js';
import { buildTicket } from '../support/factories.js';
import { Api, qs } from '../support/http.js';
import { ServiceProcess } from '../support/service-process.js';

/**
 * SIGTERM on the compiled service in its own process: it stops accepting,
 * lets the request in flight finish (up to SHUTDOWN_TIMEOUT_MS), closes its
 * pools and exits 0. The request in flight is held by a table lock, on a
 * database of this file's own so the lock stalls no other test.
 */
const DATABASE = sideDatabaseUrl('pulse_test_shutdown');
const series = `/api/v1/analytics/time-series/ticket_count${qs({ period: '7d', use_cache: 'false' })}`;

describe('graceful shutdown on SIGTERM', () => {
  let locker: pg.Client;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    await migratedDatabase(DATABASE);
    locker = new pg.Client({ connectionString: DATABASE });
    await locker.connect();
  });
  afterEach(async () => {
    await locker.query('ROLLBACK');
    await service?.kill();
  });
  afterAll(() => locker.end());

  /** Starts the service, writes one ticket, and leaves a time-series request blocked on a lock of tickets. */
  async function requestInFlight(env: Record<string, string>) {
    service = await ServiceProcess.start({ DATABASE_URL: DATABASE, LOG_LEVEL: 'info', ...env });
    const api = new Api(service.url, tokenFor(newOrganizationId(), 'agent'));
    expect((await api.post('/api/v1/tickets', buildTicket())).status).toBe(201);
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE');
    const inFlight = api.get(series).then(
      (response) => ({ response, error: undefined }),
      (error: unknown) => ({ response: undefined, error }),
    );
    // Wait until the service's query is really waiting on the lock.
    await expect
      .poll(
        async () =>
          (
            await locker.query(
              `SELECT count(*)::int AS n FROM pg_stat_activity
               WHERE datname = current_database() AND application_name = 'pulse-analytics' AND wait_event_type = 'Lock'`,
            )
          ).rows[0].n,
        { timeout: 5000, interval: 50 },
      )
      .toBe(1);
    return { api, inFlight, service };
  }

  async function serviceConnections(): Promise<number> {
    const { rows } = await locker.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND application_name IN ('pulse', 'pulse-analytics')`,
    );
    return rows[0].n;
  }

  it('stops accepting, finishes the request in flight, closes its pools and exits 0', async () => {
    const { api, inFlight, service } = await requestInFlight({ SHUTDOWN_TIMEOUT_MS: '20000' });
    service.signal('SIGTERM');

    // New connections are refused (or, on a connection already open, answered 503) from now on.
    await expect
      .poll(
        async () =>
          api.get('/health').then(
            (r) => r.status,
            () => 'refused',
          ),
        { timeout: 2000, interval: 50 },
      )
      .toMatch(/refused|503/);
    expect(service.child.exitCode).toBeNull();

    await new Promise((resolve) => setTimeout(resolve, 300));
    await locker.query('ROLLBACK');
    const { response, error } = await inFlight;
    expect(error).toBeUndefined();
    expect(response!.status, response!.text).toBe(200);
    expect(response!.body.total_count).toBe(1);

    const exit = await Promise.race([
      service.exited,
      new Promise((resolve) => setTimeout(() => resolve('still running'), 5000)),
    ]);
    expect(exit, service.output).toEqual({ code: 0, signal: null });
    expect(await serviceConnections()).toBe(0);
  });

  it('gives up on a request still running after SHUTDOWN_TIMEOUT_MS, and exits all the same', async () => {
    const { inFlight, service } = await requestInFlight({ SHUTDOWN_TIMEOUT_MS: '1000' });
    const signalled = performance.now();
    service.signal('SIGTERM');

    const { response, error } = await inFlight;
    const cutAfter = performance.now() - signalled;
    // The connection is closed under it: no answer, but no hang either.
    expect(response).toBeUndefined();
    expect(error).toBeDefined();
    expect(cutAfter).toBeGreaterThanOrEqual(900);
    expect(cutAfter).toBeLessThan(3000);

    const exit = await Promise.race([
      service.exited,
      new Promise((resolve) => setTimeout(() => resolve('still running'), 5000)),
    ]);
    expect(exit, service.output).toEqual({ code: 0, signal: null });
    expect(service.output).toContain('closing their connections');
    // The backend of the abandoned query notices its client is gone only once the lock lets it go on.
    await locker.query('ROLLBACK');
    await expect.poll(serviceConnections, { timeout: 5000, interval: 100 }).toBe(0);
  });
});
