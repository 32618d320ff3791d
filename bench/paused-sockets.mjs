/**
 * One instance under sockets that stop reading (the built service, started as its own process):
 * - 40 sockets (each its own token subject) that pause reading and send `subscribe` for a 30-day
 *   hourly window of all four metrics (~160 KB per reply) every 10 ms; one that the server
 *   disconnects connects again, as an attacker would;
 * - 5 healthy sockets subscribed with interval 1 s: the longest gap between their `periodic_update`s;
 * - a steady writer, 5 POST /tickets per second: write latency p50 and p99;
 * - the service's peak RSS (VmRSS, sampled every 250 ms) and the CPU time it used.
 *
 *   npm run bench:paused-sockets     (builds; DATABASE_URL, REDIS_URL and JWT_SECRET from the environment or .env)
 *
 * Run the load generator on another core than the service, e.g. on two cores:
 *   BENCH_SERVICE_CPUS=0 taskset -c 1 node bench/paused-sockets.mjs
 */
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { io } from 'socket.io-client';
import { loadConfig } from '../dist/src/config/app-config.js';
import { signToken } from '../dist/src/auth/token.service.js';
import { processCpu, quantile, startService } from './service.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const PAUSED = Number(process.env.BENCH_PAUSED ?? 40);
const HEALTHY = 5;
const origin = performance.now();
const WRITES_PER_SECOND = 5;

const config = loadConfig();
const service = await startService(
  { RATE_LIMIT_REQUESTS: '1000000', LOG_LEVEL: 'error' },
  { cpus: process.env.BENCH_SERVICE_CPUS, nodeArgs: process.env.BENCH_SERVICE_NODE_ARGS?.split(' ') ?? [] },
);
const { port } = new URL(service.url);
const org = randomInt(1, 2 ** 47);
const token = (sub, role = 'viewer') => signToken({ sub, org_id: org, role }, config.jwtSecret, 3600);
const status = () => readFileSync(`/proc/${service.pid}/status`, 'utf8');
let serviceEnded = null;
/** Set at the end of the run: the healthy sockets' own disconnects then are not counted. */
let finished = false;
const rssMb = () => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(status())[1]) / 1024;
  } catch {
    serviceEnded ??= `${service.ended} at ${((performance.now() - origin) / 1000).toFixed(1)} s`;
    return 0;
  }
};
let lastCpu = 0;
const cpuSeconds = () => {
  try {
    lastCpu = processCpu(service.pid).cpuMs / 1000;
  } catch {
    // The process has ended: its last reading stands.
  }
  return lastCpu;
};

/** A WebSocket frame from the client (masked), as text. */
function frame(text) {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
  const length = payload.length;
  const head =
    length < 126 ? Buffer.from([0x81, 0x80 | length]) : Buffer.from([0x81, 0xfe, length >> 8, length & 0xff]);
  return Buffer.concat([head, mask, payload]);
}

/**
 * A client that opens the socket (WebSocket handshake, engine.io open, socket.io connect on
 * /analytics with its token), then never reads again and sends subscribes until the connection
 * fails; then it starts over.
 */
const paused = { connections: 0, subscribes: 0 };
function pausedClient(subject, until) {
  if (Date.now() >= until) return;
  const socket = connect(Number(port), '127.0.0.1');
  let timer;
  let received = '';
  socket.on('error', () => undefined);
  socket.on('close', () => {
    clearInterval(timer);
    setTimeout(() => pausedClient(subject, until), 100);
  });
  socket.on('connect', () => {
    socket.write(
      `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
    );
  });
  const subscribe = frame(
    `42/analytics,${JSON.stringify([
      'subscribe',
      {
        metrics: ['ticket_count', 'response_time', 'resolution_time', 'sentiment_score'],
        window: '30d',
        interval: 3600,
      },
    ])}`,
  );
  const onData = (chunk) => {
    received += chunk.toString('latin1');
    if (received.includes('"sid"') && !received.includes('40/analytics')) {
      // engine.io is open: connect to the namespace (once).
      if (!socket.sentConnect) socket.write(frame(`40/analytics,${JSON.stringify({ token: token(subject) })}`));
      socket.sentConnect = true;
      return;
    }
    if (!received.includes('40/analytics,')) return;
    socket.off('data', onData);
    socket.pause();
    paused.connections += 1;
    timer = setInterval(() => {
      if (Date.now() >= until) {
        clearInterval(timer);
        socket.destroy();
        return;
      }
      paused.subscribes += 1;
      socket.write(subscribe);
    }, 10);
  };
  socket.on('data', onData);
}

// Healthy wallboards.
const healthy = await Promise.all(
  Array.from(
    { length: HEALTHY },
    (_, i) =>
      new Promise((resolve, reject) => {
        const socket = io(`${service.url}/analytics`, {
          auth: { token: token(`wallboard-${i}`) },
          transports: ['websocket'],
          forceNew: true,
        });
        const record = { socket, arrivals: [], disconnects: 0, reasons: [] };
        socket.on('periodic_update', () => record.arrivals.push(performance.now()));
        socket.on('disconnect', (reason) => {
          if (!finished) record.disconnects += 1;
          record.reasons.push(`${reason}@${((performance.now() - origin) / 1000).toFixed(1)}s`);
        });
        socket.once('connect_error', reject);
        socket.once('connect', () =>
          socket.emit('subscribe', { metrics: ['ticket_count'], interval: 1, window: '1h' }, () => resolve(record)),
        );
      }),
  ),
);
await new Promise((resolve) => setTimeout(resolve, 2000));

const rssBefore = rssMb();
const cpuBefore = cpuSeconds();
const started = performance.now();
const until = Date.now() + SECONDS * 1000;
for (let i = 0; i < PAUSED; i++) pausedClient(`paused-${i}`, until);

let peakRss = rssBefore;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, rssMb());
  cpuSeconds();
}, 250);

const writes = [];
const timeline = [];
let failedWrites = 0;
const writer = setInterval(() => {
  const t0 = performance.now();
  fetch(`${service.url}/api/v1/tickets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token('writer', 'agent')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ created_at: new Date().toISOString() }),
  }).then(
    async (response) => {
      await response.arrayBuffer();
      if (response.status === 201) {
        writes.push(performance.now() - t0);
        timeline.push([t0 - started, performance.now() - t0]);
      } else failedWrites += 1;
    },
    () => (failedWrites += 1),
  );
}, 1000 / WRITES_PER_SECOND);

await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
clearInterval(writer);
clearInterval(sampler);
const cpuUsed = cpuSeconds() - cpuBefore;
finished = true;
const ended = performance.now();
await new Promise((resolve) => setTimeout(resolve, 1000));

const gaps = healthy.map(({ arrivals }) => {
  const during = [started, ...arrivals.filter((t) => t >= started && t <= ended), ended];
  return Math.max(...during.slice(1).map((t, i) => t - during[i]));
});
healthy.forEach(({ socket }) => socket.disconnect());
service.stop();
await new Promise((resolve) => setTimeout(resolve, 3000));

console.log(
  `${PAUSED} paused sockets sending subscribe every 10 ms for ${SECONDS} s; ${HEALTHY} healthy sockets (interval 1 s); ${WRITES_PER_SECOND} writes/s`,
);
console.log(`  paused connections made: ${paused.connections}, subscribes sent: ${paused.subscribes}`);
console.log(
  `  service RSS: ${rssBefore.toFixed(0)} MB before, peak ${peakRss.toFixed(0)} MB; CPU used ${cpuUsed.toFixed(1)} s`,
);
console.log(
  `  healthy sockets: longest gap between periodic_updates ${(Math.max(...gaps) / 1000).toFixed(2)} s; ` +
    `disconnects ${healthy.reduce((n, h) => n + h.disconnects, 0)}`,
);
const ms = (value) => (value === undefined ? '-' : `${value.toFixed(1)} ms`);
console.log(
  `  writes: ${writes.length} ok, ${failedWrites} failed; p50 ${ms(quantile(writes, 0.5))}, ` +
    `p99 ${ms(quantile(writes, 0.99))}, max ${ms(writes.length ? Math.max(...writes) : undefined)}`,
);
if (serviceEnded) console.log(`  the service process ended during the run (${serviceEnded})`);
if (process.env.BENCH_VERBOSE) {
  console.log('  disconnect reasons:', healthy.flatMap((h) => h.reasons).join(', '));
  const slow = timeline.filter(([, ms]) => ms > 1000).map(([at, ms]) => `${(at / 1000).toFixed(1)}s:${ms.toFixed(0)}`);
  console.log('  writes over 1 s (start:ms):', slow.join(' '));
}
process.exit(0);
