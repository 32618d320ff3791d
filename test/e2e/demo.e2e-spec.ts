import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BUILT_MAIN } from '../support/build.js';
import { Api, qs } from '../support/http.js';
import { ServiceProcess } from '../support/service-process.js';
import { TestSocket } from '../support/socket.js';

/**
 * `npm run demo` (its compiled entry point) on a machine where neither
 * PostgreSQL nor Redis can be reached: the URLs point at a closed port, and
 * the demo must not need them. A fresh data folder, as on a clean checkout.
 */
const DEMO_MAIN = 'dist/src/demo/main.js';
const NOWHERE = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere', REDIS_URL: 'redis://127.0.0.1:1' };
const READY = 'Pulse demo is running';

describe('npm run demo', () => {
  let dataDir: string;
  let demo: ServiceProcess | undefined;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'pulse-demo-'));
  });
  afterEach(async () => {
    await demo?.kill();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const start = () =>
    ServiceProcess.start(
      { ...NOWHERE, PULSE_DATA_DIR: dataDir, DEMO_INTERVAL_MS: '500', LOG_LEVEL: 'warn' },
      [process.execPath, DEMO_MAIN],
      60_000,
    );
  const tokenIn = (output: string) => /wallboard\?token=(\S+)/.exec(output)?.[1];
  const series = `/api/v1/analytics/time-series/ticket_count${qs({ period: '90d', granularity: 'daily' })}`;

  it('starts with no PostgreSQL or Redis reachable, seeds, serves the API and the wallboard, and pushes the simulator’s writes', async () => {
    const started = performance.now();
    demo = await start();
    await demo.waitFor(READY, 60_000);
    const wallboard = await fetch(`${demo.url}/wallboard`);
    const firstWallboardMs = performance.now() - started;
    expect(wallboard.status).toBe(200);
    expect(await wallboard.text()).toContain('<html');

    // Says so first, and loudly.
    expect(demo.output.split('\n').find((line) => line.startsWith('{'))).toContain('EMBEDDED MODE');
    expect(demo.output).toMatch(/seeded organization 1 with \d{5} tickets/);
    expect(demo.output).toContain(`${demo.url}/docs`);
    expect(demo.output).toMatch(/curl -H "Authorization: Bearer \S+" "http:\/\/127\.0\.0\.1:\d+\/api\/v1\//);
    const token = tokenIn(demo.output);
    expect(token).toBeDefined();

    const health = await new Api(demo.url).get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', details: { database: { status: 'up' } } });

    const api = new Api(demo.url, token);
    const first = await api.get(series);
    expect(first.status, first.text).toBe(200);
    expect(first.body.data_points).toHaveLength(91);
    // Some 50,000 tickets over 90 days: every day has some.
    expect(first.body.total_count).toBeGreaterThan(40_000);
    expect(first.body.data_points.slice(1, -1).every((p: { count: number }) => p.count > 0)).toBe(true);
    expect(first.headers.get('x-cache')).toBe('MISS');
    // The simulator writes between the two reads, so the second may be a new computation: never stale.
    const second = await api.get(series);
    expect(second.body.total_count).toBeGreaterThanOrEqual(first.body.total_count);

    const socket = new TestSocket(demo.url, token);
    try {
      await socket.connected();
      expect((await socket.emit('subscribe', { metrics: ['ticket_count'], window: '24h' })).ok).toBe(true);
      const update = await socket.next('metric_update', () => true, 15_000);
      expect(update).toMatchObject({ organization_id: 1, metric_type: 'ticket_count' });
    } finally {
      socket.close();
    }

    console.log(`demo: first wallboard served ${Math.round(firstWallboardMs)} ms after start (fresh data folder)`);
    mkdirSync('test/artifacts', { recursive: true });
    writeFileSync(
      'test/artifacts/demo.json',
      `${JSON.stringify({ first_wallboard_ms: Math.round(firstWallboardMs) })}\n`,
    );

    demo.signal('SIGINT');
    expect(await demo.exited).toEqual({ code: 0, signal: null });
  });

  it('keeps its data across a restart: no second seeding, the same tickets and more', async () => {
    demo = await start();
    await demo.waitFor(READY, 60_000);
    expect(demo.output).not.toContain('seeded organization');
    const api = new Api(demo.url, tokenIn(demo.output));
    const after = await api.get(series);
    expect(after.status).toBe(200);
    expect(after.body.total_count).toBeGreaterThan(40_000);
    demo.signal('SIGINT');
    expect(await demo.exited).toEqual({ code: 0, signal: null });
  });
});

describe('outside embedded mode', () => {
  it('stops at start without DATABASE_URL, naming it and pointing at npm run demo', () => {
    // A folder without .env, and an environment without the variable.
    const cwd = mkdtempSync(join(tmpdir(), 'pulse-nodb-'));
    try {
      const env = { ...process.env };
      delete env.DATABASE_URL;
      delete env.PULSE_EMBEDDED;
      const result = spawnSync(process.execPath, [resolve(BUILT_MAIN)], {
        cwd,
        env,
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('DATABASE_URL is required');
      expect(result.stderr).toContain('npm run demo');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
