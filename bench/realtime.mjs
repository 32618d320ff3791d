/**
 * Realtime figures of the built service, started as its own process:
 * - write → metric_update latency (p50, p99) over 500 writes on loopback,
 *   timed from sending POST /tickets to receiving the ticket's metric_update;
 * - the service's RSS with 2,000 connected, subscribed sockets.
 *
 *   npm run bench:realtime     (builds, then uses DATABASE_URL / REDIS_URL from .env)
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { io } from 'socket.io-client';
import { loadConfig } from '../dist/src/config/app-config.js';
import { signToken } from '../dist/src/auth/token.service.js';
import { quantile, startService } from './service.mjs';

const WRITES = Number(process.env.BENCH_WRITES ?? 500);
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 2000);
// Writes rotate over organizations so one organization's writes stay more than
// 250 ms apart: each metric_update then goes out at once instead of being summed.
const ORGANIZATIONS = 50;

const config = loadConfig();
const service = await startService();
const token = (org, role, sub = 'bench') => signToken({ sub, org_id: org, role }, config.jwtSecret, 3600);
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${service.pid}/status`, 'utf8'))[1]) / 1024;

// Each socket its own token subject: socket messages are limited per organization and subject (RATE_LIMIT_SOCKET_EVENTS).
let connections = 0;
function connect(org, subscription) {
  return new Promise((resolve, reject) => {
    const sub = `bench-${(connections += 1)}`;
    const socket = io(`${service.url}/analytics`, {
      auth: { token: token(org, 'viewer', sub) },
      transports: ['websocket'],
      forceNew: true,
    });
    socket.once('connect_error', reject);
    socket.once('connect', () => socket.emit('subscribe', subscription, () => resolve(socket)));
  });
}

// Latency
const orgs = Array.from({ length: ORGANIZATIONS }, () => randomInt(1, 2 ** 47));
const arrivals = new Map();
const waiters = new Map();
const listeners = await Promise.all(orgs.map((org) => connect(org, { metrics: ['ticket_count'], window: '1h' })));
for (const socket of listeners) {
  socket.on('metric_update', (update) => {
    const at = performance.now();
    arrivals.set(update.ticket_id, at);
    waiters.get(update.ticket_id)?.(at);
  });
}
const latencies = [];
for (let i = 0; i < WRITES; i++) {
  const org = orgs[i % ORGANIZATIONS];
  const started = performance.now();
  const response = await fetch(`${service.url}/api/v1/tickets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token(org, 'agent')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ created_at: new Date().toISOString() }),
  });
  const { id } = await response.json();
  // The update can arrive before the write's own response does.
  const at =
    arrivals.get(id) ??
    (await new Promise((resolve) => {
      waiters.set(id, resolve);
      setTimeout(() => resolve(Number.NaN), 5000);
    }));
  latencies.push(at - started);
}
listeners.forEach((s) => s.disconnect());
const lost = latencies.filter((l) => Number.isNaN(l) || l < 0).length;

// Memory with many sockets
const rssBefore = rssMb();
const org = randomInt(1, 2 ** 47);
const sockets = [];
for (let i = 0; i < SOCKETS; i += 100) {
  sockets.push(
    ...(await Promise.all(
      Array.from({ length: Math.min(100, SOCKETS - i) }, (_, j) =>
        connect(org, {
          metrics: ['ticket_count', 'response_time'],
          interval: 30,
          window: ['1h', '24h', '7d', '30d'][(i + j) % 4],
        }),
      ),
    )),
  );
}
await new Promise((resolve) => setTimeout(resolve, 5000));
const rssWith = rssMb();
sockets.forEach((s) => s.disconnect());
service.stop();

const valid = latencies.filter((l) => !Number.isNaN(l) && l >= 0);
console.log(`write → metric_update over ${valid.length} writes (${lost} without an update within 5 s):`);
console.log(
  `  p50 ${quantile(valid, 0.5).toFixed(1)} ms, p99 ${quantile(valid, 0.99).toFixed(1)} ms, max ${Math.max(...valid).toFixed(1)} ms`,
);
console.log(
  `service RSS: ${rssBefore.toFixed(0)} MB, with ${sockets.length} subscribed sockets ${rssWith.toFixed(0)} MB`,
);
