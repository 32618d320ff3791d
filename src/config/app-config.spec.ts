import { ConfigError, parseConfig } from './app-config.js';

const messageOf = (attempt: () => unknown): string => {
  try {
    attempt();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

const required = {
  DATABASE_URL: 'postgres://u@localhost:5432/db',
  REDIS_URL: 'redis://localhost:6379',
  JWT_SECRET: 'a-secret-of-sixteen+',
};

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    const config = parseConfig(required);
    expect(config.port).toBe(3000);
    expect(config.cacheTtlSeconds).toBe(3600);
    expect(config.exportMaxRows).toBe(1_000_000);
    expect(config.slaFirstResponseHours).toEqual({ urgent: 1, high: 4, medium: 8, low: 24 });
  });

  it('without DATABASE_URL outside embedded mode, stops and points at npm run demo', () => {
    const { DATABASE_URL: _, ...rest } = required;
    expect(() => parseConfig(rest)).toThrow(/DATABASE_URL is required[\s\S]*npm run demo/);
  });

  it('in embedded mode needs neither DATABASE_URL, REDIS_URL nor JWT_SECRET, and only when chosen', () => {
    const config = parseConfig({ PULSE_EMBEDDED: 'true' });
    expect(config).toMatchObject({ embedded: true, dataDir: '.pulse-data', databaseUrl: '', redisUrl: '' });
    // Its database migrates at boot and may keep a new connection waiting while another reads.
    expect(config).toMatchObject({ migrationsRun: true, databaseConnectTimeoutMs: 30_000 });
    expect(parseConfig(required)).toMatchObject({
      embedded: false,
      migrationsRun: false,
      databaseConnectTimeoutMs: 5000,
    });
    expect(() => parseConfig({ PULSE_EMBEDDED: 'maybe' })).toThrow(/PULSE_EMBEDDED/);
  });

  it("reads the demo's size and pace, and refuses nonsense", () => {
    expect(parseConfig(required)).toMatchObject({ demoTickets: 50_000, demoIntervalMs: 3000 });
    expect(parseConfig({ ...required, DEMO_TICKETS: '0', DEMO_INTERVAL_MS: '500' })).toMatchObject({
      demoTickets: 0,
      demoIntervalMs: 500,
    });
    expect(() => parseConfig({ ...required, DEMO_INTERVAL_MS: 'soon' })).toThrow(/DEMO_INTERVAL_MS/);
  });

  it('reads the rate limits and the shutdown bound, with the README defaults', () => {
    expect(parseConfig(required)).toMatchObject({
      rateLimitWindowSeconds: 60,
      rateLimitRequests: 600,
      rateLimitForced: 30,
      rateLimitExports: 10,
      shutdownTimeoutMs: 10_000,
    });
    expect(
      parseConfig({ ...required, RATE_LIMIT_FORCED: '5', RATE_LIMIT_WINDOW_SECONDS: '1', SHUTDOWN_TIMEOUT_MS: '0' }),
    ).toMatchObject({ rateLimitForced: 5, rateLimitWindowSeconds: 1, shutdownTimeoutMs: 0 });
    expect(() => parseConfig({ ...required, RATE_LIMIT_REQUESTS: '0' })).toThrow(/RATE_LIMIT_REQUESTS/);
    expect(() => parseConfig({ ...required, RATE_LIMIT_EXPORTS: 'ten' })).toThrow(/RATE_LIMIT_EXPORTS/);
  });

  it('reads REDIS_MODE: single by default; in cluster mode REDIS_URL lists the seed nodes', () => {
    expect(parseConfig(required)).toMatchObject({ redisMode: 'single', redisClusterNodes: [] });
    const cluster = parseConfig({
      ...required,
      REDIS_MODE: 'cluster',
      REDIS_URL: 'redis://10.0.0.1:7000, rediss://user:p%40ss@10.0.0.2:7001/0,redis://cache.internal',
    });
    expect(cluster.redisMode).toBe('cluster');
    expect(cluster.redisClusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000, tls: false },
      { host: '10.0.0.2', port: 7001, username: 'user', password: 'p@ss', tls: true },
      { host: 'cache.internal', port: 6379, tls: false },
    ]);
    // The contract's own example (API.md §6).
    expect(
      parseConfig({ ...required, REDIS_MODE: 'cluster', REDIS_URL: 'redis://10.0.0.1:7000,10.0.0.2:7000' })
        .redisClusterNodes,
    ).toEqual([
      { host: '10.0.0.1', port: 7000, tls: false },
      { host: '10.0.0.2', port: 7000, tls: false },
    ]);
    expect(messageOf(() => parseConfig({ ...required, REDIS_MODE: 'sentinel' }))).toContain(
      'REDIS_MODE must be one of single, cluster',
    );
    const bad = messageOf(() =>
      parseConfig({ ...required, REDIS_MODE: 'cluster', REDIS_URL: 'redis://a:7000,http://:secret@b:7000' }),
    );
    expect(bad).toContain('REDIS_URL entry 2 must start with redis:// or rediss://');
    expect(bad).not.toContain('secret');
    expect(
      messageOf(() => parseConfig({ ...required, REDIS_MODE: 'cluster', REDIS_URL: 'redis://a:7000/3' })),
    ).toContain('a Redis Cluster has database 0 only');
    expect(messageOf(() => parseConfig({ ...required, REDIS_MODE: 'cluster', REDIS_URL: '' }))).toContain(
      'REDIS_URL is required',
    );
  });

  it('names every missing or bad variable in one error', () => {
    const attempt = () => parseConfig({ PORT: 'eighty', CACHE_TTL_SECONDS: '0', REDIS_URL: 'http://x' });
    expect(attempt).toThrow(ConfigError);
    const message = (() => {
      try {
        attempt();
      } catch (error) {
        return (error as Error).message;
      }
    })();
    for (const name of ['DATABASE_URL', 'JWT_SECRET', 'PORT', 'CACHE_TTL_SECONDS', 'REDIS_URL'])
      expect(message).toContain(name);
  });

  it('parses SLA targets and refuses incomplete or unknown ones', () => {
    expect(
      parseConfig({ ...required, SLA_FIRST_RESPONSE_HOURS: 'low=48, medium=12,high=2,urgent=0.5' })
        .slaFirstResponseHours,
    ).toEqual({
      low: 48,
      medium: 12,
      high: 2,
      urgent: 0.5,
    });
    expect(() => parseConfig({ ...required, SLA_FIRST_RESPONSE_HOURS: 'urgent=1,high=4' })).toThrow(
      /SLA_FIRST_RESPONSE_HOURS is missing low, medium/,
    );
    expect(() =>
      parseConfig({ ...required, SLA_FIRST_RESPONSE_HOURS: 'urgent=1,high=4,medium=8,low=24,vip=1' }),
    ).toThrow(/SLA_FIRST_RESPONSE_HOURS/);
    expect(() => parseConfig({ ...required, SLA_FIRST_RESPONSE_HOURS: 'urgent=-1,high=4,medium=8,low=24' })).toThrow(
      /bad target for urgent/,
    );
  });

  it('names a bad variable without ever echoing its value', () => {
    const bad = {
      JWT_SECRET: 'short-s3cret',
      DATABASE_URL: 'mysql://pulse:db-pa55word@db.internal:3306/pulse',
      REDIS_URL: 'http://:redis-pa55word@cache.internal:6379',
      CORS_ORIGINS: 'https://wall.example.com,https://user:cors-pa55word@evil.example.com/path',
      PORT: 'port-80-please',
    };
    const message = messageOf(() => parseConfig(bad));
    for (const name of Object.keys(bad)) expect(message).toContain(name);
    expect(message).toContain('JWT_SECRET must be at least 16 characters');
    expect(message).toContain('CORS_ORIGINS entry 2 is not an origin');
    for (const secret of ['short-s3cret', 'db-pa55word', 'redis-pa55word', 'cors-pa55word', 'port-80-please'])
      expect(message).not.toContain(secret);

    // A URL that does not even parse, with its password in it.
    const unparsable = messageOf(() => parseConfig({ ...required, DATABASE_URL: 'postgres://u:unparsable-pa55@[::1' }));
    expect(unparsable).toContain('DATABASE_URL must be a URL');
    expect(unparsable).not.toContain('unparsable-pa55');
  });

  it('reads TRUST_PROXY as Fastify takes it: off by default, on, a hop count, or addresses and ranges', () => {
    expect(parseConfig(required).trustProxy).toBe(false);
    expect(parseConfig({ ...required, TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(parseConfig({ ...required, TRUST_PROXY: 'TRUE' }).trustProxy).toBe(true);
    expect(parseConfig({ ...required, TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(parseConfig({ ...required, TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(parseConfig({ ...required, TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,fd00::/8,loopback' }).trustProxy).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      'fd00::/8',
      'loopback',
    ]);
    for (const value of ['yes-please', '10.0.0.0/33', '::1/129', '10.0.0.1/8/1', '300.1.1.1', '1000'])
      expect(() => parseConfig({ ...required, TRUST_PROXY: value }), value).toThrow(/TRUST_PROXY/);
  });

  it('refuses a short JWT secret and a non-boolean flag', () => {
    expect(() => parseConfig({ ...required, JWT_SECRET: 'short' })).toThrow(
      /JWT_SECRET must be at least 16 characters/,
    );
    expect(() => parseConfig({ ...required, MIGRATIONS_RUN: 'maybe' })).toThrow(/MIGRATIONS_RUN must be true or false/);
  });
});
