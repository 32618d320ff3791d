/**
 * What sockets cost the service's memory (the built service, started as its own process
 * with the inspector on loopback, so the bench can force a full GC before every reading):
 * - heap and RSS idle, after 5,000 sockets connect (each its own token subject), after they
 *   subscribe over 50 distinct subscriptions, and after they all leave;
 * - heap per socket, connected and subscribed;
 * - the same again (BENCH_CYCLES): what a leak would hold grows from one cycle to the next.
 * Every reading follows a forced GC, so what remains is held, not garbage. The RSS is also
 * split (from /proc/<pid>/smaps) into the C allocator's main heap and the anonymous mappings:
 * freed memory that malloc keeps shows in the first.
 *
 * The clients run in BENCH_CLIENT_PROCESSES (2) processes of their own, pinned with taskset to
 * BENCH_CLIENT_CPUS (1); the service to BENCH_SERVICE_CPUS (0).
 *
 *   npm run build && node bench/socket-memory.mjs     (DATABASE_URL, REDIS_URL, JWT_SECRET from the environment or .env)
 *
 * BENCH_SOCKETS (5000), BENCH_SUBSCRIPTIONS (50) and BENCH_CYCLES (2: connect, subscribe and leave twice) change the sizes; BENCH_HEAP_SNAPSHOTS=<dir>
 * also writes a heap snapshot at each reading (see heap-summary.mjs).
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { inBatches, openSocket } from './sockets.mjs';
import { loadConfig } from '../dist/src/config/app-config.js';
import { signToken } from '../dist/src/auth/token.service.js';
import { Inspector } from './inspector.mjs';
import { startService } from './service.mjs';
import { seedTickets } from './seed.mjs';

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 5000);
const SUBSCRIPTIONS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 50);
const CLIENT_PROCESSES = Number(process.env.BENCH_CLIENT_PROCESSES ?? 2);
const SERVICE_CPUS = process.env.BENCH_SERVICE_CPUS ?? '0';
const CLIENT_CPUS = process.env.BENCH_CLIENT_CPUS ?? '1';
const SNAPSHOTS = process.env.BENCH_HEAP_SNAPSHOTS;
const CYCLES = Number(process.env.BENCH_CYCLES ?? 2);
const METRICS = ['ticket_count', 'response_time', 'resolution_time', 'sentiment_score'];
const WINDOWS = ['1h', '24h', '7d', '30d'];

/** The k-th of the distinct subscriptions: one metric and window of 16, and its own interval. */
function subscription(k) {
  return { metrics: [METRICS[k % 4]], window: WINDOWS[Math.floor(k / 4) % 4], interval: 30 + k };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

if (process.argv[2] === '--clients') await clients();
else await main();

/**
 * A client process: holds the sockets it is told to open, and answers each command
 * (`connect`, `subscribe`, `leave`) once all its sockets have done it.
 */
async function clients() {
  const config = loadConfig();
  let sockets = [];
  process.on('message', async ({ command, url, organizationId, from, count }) => {
    if (command === 'connect') {
      const indexes = Array.from({ length: count }, (_, i) => from + i);
      await inBatches(indexes, async (index) => {
        const token = signToken(
          { sub: `memory-${index}`, org_id: organizationId, role: 'viewer' },
          config.jwtSecret,
          3600,
        );
        const socket = await openSocket(url, token, { until: 'connected' });
        socket.index = index;
        sockets.push(socket);
      });
    } else if (command === 'subscribe') {
      await inBatches(sockets, async (socket) => {
        const data = new Promise((resolve) => socket.once('subscription_data', resolve));
        const reply = await socket.timeout(60_000).emitWithAck('subscribe', subscription(socket.index % SUBSCRIPTIONS));
        if (!reply.ok) throw new Error(`subscribe refused: ${reply.error}`);
        await data;
      });
    } else if (command === 'leave') {
      for (const socket of sockets) socket.disconnect();
      sockets = [];
    }
    process.send({ done: command });
  });
}

async function main() {
  const config = loadConfig();
  let workers;
  const inspectPort = await freePort();
  const service = await startService(
    { LOG_LEVEL: 'error', RATE_LIMIT_REQUESTS: '1000000' },
    { cpus: SERVICE_CPUS, nodeArgs: [`--inspect=127.0.0.1:${inspectPort}`] },
  );
  // Also when the bench fails: the service and the client processes end with it.
  process.once('exit', () => {
    if (service.ended === null) service.stop();
    for (const worker of workers ?? []) worker.kill();
  });
  const inspector = await Inspector.connect(inspectPort);
  const organizationId = randomInt(1, 2 ** 47);
  // A month of tickets, so the subscriptions' data are real series.
  await seedTickets(config.databaseUrl, organizationId, 20_000, { days: 30 });
  if (SNAPSHOTS) mkdirSync(SNAPSHOTS, { recursive: true });

  workers = Array.from({ length: CLIENT_PROCESSES }, () => {
    const child = spawn(
      'taskset',
      ['-c', CLIENT_CPUS, process.execPath, new URL(import.meta.url).pathname, '--clients'],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    return child;
  });
  const share = Math.ceil(SOCKETS / CLIENT_PROCESSES);
  const all = (command, fromOffset = 0) =>
    Promise.all(
      workers.map(
        (worker, w) =>
          new Promise((resolve) => {
            worker.once('message', resolve);
            worker.send({
              command,
              url: service.url,
              organizationId,
              from: fromOffset + w * share,
              count: Math.max(0, Math.min(share, SOCKETS - w * share)),
            });
          }),
      ),
    );

  const readings = [];
  const rssOf = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${service.pid}/status`, 'utf8'))[1]) * 1024;
  /**
   * Where the RSS is, from /proc/<pid>/smaps: the C allocator's main heap (`[heap]`, grown by brk:
   * what malloc keeps after a free when the top of that heap is still in use) and the anonymous
   * mappings (V8's heap pages among them, which it unmaps when it shrinks).
   */
  const rssByKind = () => {
    const sums = { malloc: 0, anonymous: 0 };
    let kind = null;
    for (const line of readFileSync(`/proc/${service.pid}/smaps`, 'utf8').split('\n')) {
      const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (mapping) kind = mapping[1] === '[heap]' ? 'malloc' : mapping[1] === '' ? 'anonymous' : null;
      else if (kind && line.startsWith('Rss:')) sums[kind] += Number(/(\d+) kB/.exec(line)[1]) * 1024;
    }
    return sums;
  };
  async function reading(name) {
    const before = await inspector.memoryUsage();
    await inspector.collectGarbage();
    const after = await inspector.memoryUsage();
    readings.push({
      name,
      heapBeforeGc: before.heapUsed,
      heap: after.heapUsed,
      heapTotal: after.heapTotal,
      external: after.external,
      rss: rssOf(),
      ...rssByKind(),
    });
    if (SNAPSHOTS)
      await inspector.heapSnapshot(`${SNAPSHOTS}/${readings.length}-${name.replaceAll(' ', '-')}.heapsnapshot`);
  }

  // Warm-up: one socket per subscription connects, subscribes and leaves, so code paths,
  // caches and pools that every first use creates are in the idle figure, not in the sockets'.
  const warmup = (command) =>
    new Promise((resolve) => {
      workers[0].once('message', resolve);
      workers[0].send({ command, url: service.url, organizationId, from: SOCKETS, count: SUBSCRIPTIONS });
    });
  await warmup('connect');
  await warmup('subscribe');
  await warmup('leave');
  await sleep(3000);
  await reading('idle');

  // The same sockets come and go CYCLES times: a leak grows from one cycle to the next.
  const cycles = [];
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    const suffix = CYCLES > 1 ? ` ${cycle}` : '';
    let started = performance.now();
    await all('connect');
    const connectSeconds = (performance.now() - started) / 1000;
    await sleep(2000);
    await reading(`connected${suffix}`);

    started = performance.now();
    await all('subscribe');
    const subscribeSeconds = (performance.now() - started) / 1000;
    await sleep(2000);
    await reading(`subscribed${suffix}`);

    await all('leave');
    // engine.io closes a connection when its client's close frame arrives; give the last ones time.
    await sleep(5000);
    await reading(`left${suffix}`);
    cycles.push({ connectSeconds, subscribeSeconds, readings: readings.slice(-3) });
  }

  for (const worker of workers) worker.kill();
  inspector.close();
  await service.stop();

  const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
  const idle = readings[0];
  console.log(
    `${SOCKETS} sockets (own token subjects) over ${SUBSCRIPTIONS} subscriptions, ${CYCLES} time(s); ` +
      `load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
  console.log(
    'reading         heap (after GC)  heap before GC  heap reserved  external       RSS  of it: malloc heap  anonymous',
  );
  for (const r of readings) {
    console.log(
      `${r.name.padEnd(15)} ${mb(r.heap).padStart(15)} ${mb(r.heapBeforeGc).padStart(15)} ${mb(r.heapTotal).padStart(14)} ` +
        `${mb(r.external).padStart(9)} ${mb(r.rss).padStart(9)} ${mb(r.malloc).padStart(19)} ${mb(r.anonymous).padStart(10)}`,
    );
  }
  for (const [
    i,
    {
      connectSeconds,
      subscribeSeconds,
      readings: [connected, subscribed, left],
    },
  ] of cycles.entries()) {
    console.log(
      `cycle ${i + 1}: connected in ${connectSeconds.toFixed(1)} s, subscribed in ${subscribeSeconds.toFixed(1)} s; ` +
        `heap per socket connected ${kb((connected.heap - idle.heap) / SOCKETS)}, subscribed ${kb((subscribed.heap - idle.heap) / SOCKETS)}; ` +
        `RSS per socket connected ${kb((connected.rss - idle.rss) / SOCKETS)}, subscribed ${kb((subscribed.rss - idle.rss) / SOCKETS)}; ` +
        `after all left: heap ${((left.heap / idle.heap - 1) * 100).toFixed(1)}% over idle, RSS ${((left.rss / idle.rss - 1) * 100).toFixed(1)}%`,
    );
  }
  process.exit(0);
}

function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
