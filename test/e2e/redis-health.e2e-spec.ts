import { RedisHealth } from '../../src/redis/redis-health.js';
import { createRedisClient } from '../../src/redis/redis-client.js';
import { testConfig } from '../support/app.js';
import { TestRedisServer } from '../support/redis-server.js';

/**
 * Slow is not dead (src/redis/redis-health.ts): a call that misses its
 * deadline makes Redis suspect, a probe decides, and only a failed probe or a
 * lost connection takes it down.
 */
describe('RedisHealth', () => {
  let server: TestRedisServer;
  let health: RedisHealth;
  const recoveries: number[] = [];

  beforeAll(async () => {
    server = await TestRedisServer.start();
    health = new RedisHealth(createRedisClient(testConfig({ REDIS_URL: server.url }), 'health-test'), {
      commandTimeoutMs: 100,
      probeTimeoutMs: 500,
    });
    health.onRecovery(async () => {
      recoveries.push(Date.now());
    });
    expect(await health.waitUntilAvailable(2000)).toBe(true);
  });
  afterAll(async () => {
    health.client.disconnect();
    await server.stop();
  });

  it('stays up through a reply later than the command deadline but sooner than the probe', async () => {
    const stall = server.stall(300);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(health.call((r) => r.get('k'))).rejects.toThrow(/did not answer/);
    expect(health.state).toBe('suspect');
    expect(health.isAvailable()).toBe(true);
    await stall;
    await expect.poll(() => health.state, { timeout: 2000, interval: 10 }).toBe('up');
    expect(recoveries).toHaveLength(1);
  });

  it('goes down when the probe fails (frozen Redis), fails calls at once, and recovers when it answers', async () => {
    server.pause();
    try {
      await expect(health.call((r) => r.get('k'))).rejects.toThrow();
      await expect.poll(() => health.state, { timeout: 3000, interval: 10 }).toBe('down');
      const started = performance.now();
      await expect(health.call((r) => r.get('k'))).rejects.toThrow('Redis is unavailable');
      expect(performance.now() - started).toBeLessThan(50);
    } finally {
      server.resume();
    }
    await expect.poll(() => health.state, { timeout: 3000, interval: 10 }).toBe('up');
    // Recovery ran again before Redis was declared up.
    expect(recoveries).toHaveLength(2);
  });

  it('runs a recovery step registered after Redis was declared up before Redis is used again', async () => {
    const late = new RedisHealth(createRedisClient(testConfig({ REDIS_URL: server.url }), 'health-late'), {
      commandTimeoutMs: 100,
      probeTimeoutMs: 500,
    });
    try {
      expect(await late.waitUntilAvailable(2000)).toBe(true);
      let release!: () => void;
      const ran: string[] = [];
      late.onRecovery(async () => {
        ran.push(late.state);
        await new Promise<void>((resolve) => (release = resolve));
      });
      // Not used while its new step has not run.
      expect(late.isAvailable()).toBe(false);
      await expect(late.call((r) => r.get('k'))).rejects.toThrow('Redis is unavailable');
      await expect.poll(() => ran, { timeout: 2000, interval: 10 }).toEqual(['down']);
      expect(late.isAvailable()).toBe(false);
      release();
      await expect.poll(() => late.state, { timeout: 2000, interval: 10 }).toBe('up');
      expect(ran).toHaveLength(1);
    } finally {
      late.client.disconnect();
    }
  });

  it('goes down at once when the connection is lost, and reads the new incarnation after a restart', async () => {
    const before = health.incarnation;
    await server.stop();
    await expect.poll(() => health.state, { timeout: 2000, interval: 10 }).toBe('down');
    await server.launch();
    await expect.poll(() => health.state, { timeout: 5000, interval: 20 }).toBe('up');
    expect(health.incarnation).not.toBe(before);
    expect(health.incarnation).toMatch(/^[0-9a-f]{12}$/);
  });
});
