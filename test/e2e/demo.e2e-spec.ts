import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BUILT_MAIN, ensureBuilt } from '../support/build.js';
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

  // No JWT_SECRET: the demo keeps one in its data folder, as on a user's machine. The simulator runs
  // 1,000 times the seeded rate, so the test sees its writes within seconds at any hour.
  const start = (command = [process.execPath, DEMO_MAIN]) =>
    ServiceProcess.start(
      {
        ...NOWHERE,
        PULSE_DATA_DIR: dataDir,
        DEMO_INTERVAL_MS: '500',
        DEMO_SPEED: '1000',
        LOG_LEVEL: 'warn',
        JWT_SECRET: '',
      },
      command,
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
    expect(demo.output).toContain('seeded organization 1 with 50000 tickets');
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
  }, 180_000);

  it('keeps its data across a restart: no second seeding, no rebuild, the same tickets and more', async () => {
    ensureBuilt();
    const started = performance.now();
    // What `npm run demo` runs (npm itself would not pass Ctrl-C on here): it builds only when a source
    // is newer than the build.
    demo = await start([process.execPath, 'scripts/demo.mjs']);
    const restartMs = performance.now() - started;
    await demo.waitFor(READY, 60_000);
    expect(demo.output).not.toContain('Building Pulse');
    console.log(`demo: wallboard served ${Math.round(restartMs)} ms after a restart (bench/demo-start.mjs times it)`);
    expect(demo.output).not.toContain('seeded organization');
    const api = new Api(demo.url, tokenIn(demo.output));
    const after = await api.get(series);
    expect(after.status).toBe(200);
    expect(after.body.total_count).toBeGreaterThan(40_000);
    demo.signal('SIGINT');
    expect(await demo.exited).toEqual({ code: 0, signal: null });
  }, 180_000);
});

describe('npm run demo: what a user may get wrong', () => {
  let dataDir: string;
  let demo: ServiceProcess | undefined;

  beforeAll(() => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'pulse-demo-'));
  });
  afterAll(async () => {
    await demo?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The demo started again with `env`, to its exit: what it said, and how long it took. */
  function demoAgain(env: Record<string, string>) {
    const started = performance.now();
    const result = spawnSync(process.execPath, [DEMO_MAIN], {
      env: { ...process.env, ...NOWHERE, JWT_SECRET: '', LOG_LEVEL: 'warn', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { ...result, ms: Math.round(performance.now() - started) };
  }
  const oneSentence = (stderr: string) => {
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(/\n\s+at /);
  };

  it('says in one sentence that the port is taken, and what to do', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const result = demoAgain({ PULSE_DATA_DIR: join(dataDir, 'elsewhere'), PORT: String(port), HOST: '127.0.0.1' });
      console.log(`demo: a taken port reported after ${result.ms} ms`);
      expect(result.status).toBe(1);
      oneSentence(result.stderr);
      expect(result.stderr).toContain(`Pulse cannot start: port ${port} is already in use`);
      expect(result.stderr).toContain('set PORT to a free port');
    } finally {
      blocker.close();
    }
  });

  it('says in one sentence that the data folder is in use, by which process; npm run token signs with the folder’s secret', async () => {
    demo = await ServiceProcess.start(
      { ...NOWHERE, PULSE_DATA_DIR: dataDir, DEMO_TICKETS: '500', LOG_LEVEL: 'warn', JWT_SECRET: '' },
      [process.execPath, DEMO_MAIN],
      60_000,
    );
    await demo.waitFor(READY, 60_000);
    // Listens on 127.0.0.1 when HOST is not set (ServiceProcess sets it; the banner says where it listens).
    expect(demo.output).toContain('npm run -s token -- --role viewer');

    const result = demoAgain({ PULSE_DATA_DIR: dataDir, PORT: '0' });
    console.log(`demo: a locked data folder reported after ${result.ms} ms`);
    expect(result.status).toBe(1);
    oneSentence(result.stderr);
    expect(result.stderr).toContain(
      `Pulse cannot start: ${join(dataDir, 'pg')} is in use by process ${demo.child.pid}`,
    );
    expect(result.stderr).toContain('set PULSE_DATA_DIR to another folder');

    const env: NodeJS.ProcessEnv = { ...process.env, PULSE_DATA_DIR: dataDir };
    delete env.JWT_SECRET;
    const token = spawnSync('npm', ['run', '--silent', 'token', '--', '--role', 'viewer'], { env, encoding: 'utf8' });
    expect(token.status, token.stderr).toBe(0);
    const viewer = new Api(demo.url, token.stdout.trim());
    expect((await viewer.get('/api/v1/analytics/dashboard?period=24h')).status).toBe(200);
    expect((await viewer.post('/api/v1/tickets', { priority: 'low' })).status).toBe(403);
    // The folder's own secret signed it: the test's JWT_SECRET did not.
    expect(readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim()).not.toBe(process.env.JWT_SECRET);
  }, 180_000);

  it('listens on 127.0.0.1 unless HOST says otherwise', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...NOWHERE,
      PULSE_DATA_DIR: join(dataDir, 'host'),
      PORT: '0',
      DEMO_TICKETS: '0',
    };
    delete env.HOST;
    const child = spawn(process.execPath, [DEMO_MAIN], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await vi.waitUntil(() => output.includes(READY) || child.exitCode !== null, { timeout: 60_000, interval: 100 });
      expect(output).toContain('Listening on 127.0.0.1 only');
      expect(output).toMatch(/Wallboard {2}http:\/\/127\.0\.0\.1:\d+\/wallboard/);
    } finally {
      child.kill('SIGINT');
      await exited;
    }
  }, 180_000);
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
