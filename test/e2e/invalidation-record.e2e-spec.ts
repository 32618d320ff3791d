import { ownDatabase } from '../support/database.js';
import pg from 'pg';
import { newOrganizationId, tokenFor } from '../support/app.js';
import { buildTicket } from '../support/factories.js';
import { Api, qs } from '../support/http.js';
import { TestRedisServer } from '../support/redis-server.js';
import { ServiceProcess } from '../support/service-process.js';

/**
 * A write's invalidation is recorded in its own transaction
 * (src/cache/README.md): a process that dies after the commit and before its
 * bump reached Redis leaves the record, and the next instance replays it, so
 * the result cached before the write is never served after it.
 */
const series = `/api/v1/analytics/time-series/ticket_count${qs({ period: '7d' })}`;

describe('a process killed between commit and bump', () => {
  let redis: TestRedisServer;
  let db: pg.Client;
  const services: ServiceProcess[] = [];
  let database: string;

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    database = await ownDatabase('invalidation_record');
    db = new pg.Client({ connectionString: database });
    await db.connect();
  });
  afterAll(async () => {
    await Promise.all(services.map((s) => s.kill()));
    redis.resume();
    await redis.stop();
    await db.end();
  });

  it('leaves the invalidation behind for the next instance to replay', async () => {
    const organizationId = newOrganizationId();
    const env = { REDIS_URL: redis.url, DATABASE_URL: database, LOG_LEVEL: 'warn', REDIS_COMMAND_TIMEOUT_MS: '2000' };
    const first = await ServiceProcess.start(env);
    services.push(first);
    const api = new Api(first.url, tokenFor(organizationId, 'agent'));
    expect((await api.get(series)).body.total_count).toBe(0);
    expect((await api.get(series)).headers.get('x-cache')).toBe('HIT');

    // Redis frozen: the bump after the commit waits (2 s deadline); the process dies meanwhile.
    redis.pause();
    const write = api.post('/api/v1/tickets', buildTicket()).catch(() => null);
    for (;;) {
      const { rows } = await db.query('SELECT count(*)::int AS n FROM tickets WHERE organization_id = $1', [
        organizationId,
      ]);
      if (rows[0].n === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await first.kill();
    await write;
    const { rows } = await db.query(
      'SELECT count(*)::int AS n FROM cache_invalidation_outbox WHERE organization_id = $1',
      [organizationId],
    );
    expect(rows[0].n).toBe(1);

    // Redis returns with the pre-write entry still stored; a new instance must not serve it.
    redis.resume();
    const second = await ServiceProcess.start(env);
    services.push(second);
    const read = await new Api(second.url, tokenFor(organizationId, 'viewer')).get(series);
    expect(read.status).toBe(200);
    expect(read.body.total_count).toBe(1);
  });
});
