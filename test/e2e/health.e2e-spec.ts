import { Api } from '../support/http.js';
import { startApp, type TestApp } from '../support/app.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { TestRedisServer } from '../support/redis-server.js';

describe('GET /health', () => {
  let database: TcpProxy;
  let redis: TestRedisServer;
  let server: TestApp;
  let api: Api;

  beforeAll(async () => {
    const target = new URL(process.env.DATABASE_URL!);
    database = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    redis = await TestRedisServer.start();
    server = await startApp({
      DATABASE_URL: database.rewrite(process.env.DATABASE_URL!),
      DATABASE_CONNECT_TIMEOUT_MS: '500',
      REDIS_URL: redis.url,
    });
    api = new Api(server.url);
  });
  afterAll(async () => {
    await server.close();
    await redis.stop();
    await database.cut();
  });

  it('is 200 ok with both checks up', async () => {
    const health = await api.get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'ok',
      details: { database: { status: 'up' }, redis: { status: 'up' } },
      error: {},
    });
  });

  it('stays 200 when Redis is down, reporting it down and the service degraded', async () => {
    await redis.stop();
    try {
      const health = await api.get('/health');
      expect(health.status).toBe(200);
      expect(health.body.status).toBe('degraded');
      expect(health.body.details.database.status).toBe('up');
      expect(health.body.error.redis.status).toBe('down');
    } finally {
      await redis.launch();
    }
  });

  it('is 503 within the check timeout while the database is unreachable, and 200 once it is back', async () => {
    await database.cut();
    try {
      const started = performance.now();
      const health = await api.get('/health');
      expect(performance.now() - started).toBeLessThan(2000);
      expect(health.status).toBe(503);
      expect(health.body.status).toBe('error');
      expect(health.body.error.database.status).toBe('down');
    } finally {
      await database.open();
    }
    await expect.poll(async () => (await api.get('/health')).status, { timeout: 5000, interval: 100 }).toBe(200);
  });
});
