/**
 * Does a write's response wait for its socket fan-out? Single `POST /tickets` latency into an
 * organization with no sockets (A) against one whose 1,000 sockets (each its own token
 * subject) are subscribed to the room the write updates (B), in alternating rounds, on one
 * service (the built one, started as its own process) holding both organizations.
 *
 * Writes are paced BENCH_PACE_MS (300) apart: more than the 250 ms in which metric_updates
 * of a room are summed, so every B write is broadcast to all 1,000 sockets at once, and one
 * write's fan-out is over before the next write starts (this measures what a write waits
 * for, not a write rate). The sockets run in a process of their own.
 *
 * The service runs on BENCH_SERVICE_CPUS (0), the writer and the sockets (niced) on BENCH_CLIENT_CPUS (1),
 * or the sockets on BENCH_SOCKET_CPUS;
 * BENCH_SERVICE_NODE_ARGS go to the service's node (e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof').
 *
 *   npm run build && node bench/write-fanout.mjs     (DATABASE_URL, REDIS_URL, JWT_SECRET from the environment or .env)
 *
 * Besides the writer's p50, each round reports the service's own mean time for the writes (the
 * request-duration histogram of its /metrics): what the service spent from the parsed request to
 * the response handed to the socket, apart from the client's side and the wire.
 *
 * BENCH_SOCKETS (1000), BENCH_ROUNDS (5) and BENCH_WRITES (40 per organization and round) change the sizes.
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inBatches, subscribedSocket } from './sockets.mjs';
import { loadConfig } from '../dist/src/config/app-config.js';
import { signToken } from '../dist/src/auth/token.service.js';
import { processCpu, quantile, startService } from './service.mjs';

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WRITES = Number(process.env.BENCH_WRITES ?? 40);
const PACE_MS = Number(process.env.BENCH_PACE_MS ?? 300);
const SERVICE_CPUS = process.env.BENCH_SERVICE_CPUS ?? '0';
const CLIENT_CPUS = process.env.BENCH_CLIENT_CPUS ?? '1';
// Where the socket process runs: with the writer by default; BENCH_SOCKET_CPUS=0 puts it on the service's core.
const SOCKET_CPUS = process.env.BENCH_SOCKET_CPUS ?? CLIENT_CPUS;
const SUBSCRIPTION = { metrics: ['ticket_count'], window: '1h', interval: 3600 };

const config = loadConfig();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

if (process.argv[2] === '--sockets') await sockets(process.argv[3], Number(process.argv[4]));
else await main();

/** The socket process: connects and subscribes SOCKETS sockets, then reports the metric_updates they receive. */
async function sockets(url, organizationId) {
  let updates = 0;
  await inBatches(
    Array.from({ length: SOCKETS }, (_, i) => i),
    async (i) => {
      const token = signToken({ sub: `fanout-${i}`, org_id: organizationId, role: 'viewer' }, config.jwtSecret, 3600);
      const socket = await subscribedSocket(url, token, SUBSCRIPTION);
      socket.on('metric_update', () => (updates += 1));
    },
  );
  process.send({ ready: true });
  process.on('message', () => process.send({ updates }));
}

async function main() {
  const service = await startService(
    { LOG_LEVEL: 'error', RATE_LIMIT_REQUESTS: '1000000' },
    { cpus: SERVICE_CPUS, nodeArgs: process.env.BENCH_SERVICE_NODE_ARGS?.split(' ') ?? [] },
  );
  const quiet = randomInt(1, 2 ** 47);
  const watched = randomInt(1, 2 ** 47);
  // At a lower priority than the writer on their core: reading 1,000 updates a write is the sockets' work, not the write's.
  const child = spawn(
    'nice',
    [
      '-n',
      '10',
      'taskset',
      '-c',
      SOCKET_CPUS,
      process.execPath,
      new URL(import.meta.url).pathname,
      '--sockets',
      service.url,
      String(watched),
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  // Also when the bench fails: the service and the socket process end with it.
  process.once('exit', () => {
    if (service.ended === null) service.stop();
    child.kill();
  });
  await new Promise((resolve) => child.once('message', resolve));
  const updatesSoFar = () =>
    new Promise((resolve) => {
      child.once('message', ({ updates }) => resolve(updates));
      child.send('count');
    });

  /**
   * The service's own time for the writes so far (sum and count of its request-duration histogram
   * for POST /tickets answered 201): from the request parsed to the response handed to the socket,
   * without the client's side or the wire.
   */
  async function serviceTime() {
    const lines = (await (await fetch(`${service.url}/metrics`)).text()).split('\n');
    const series = (suffix) =>
      Number(
        lines
          .find(
            (l) =>
              l.startsWith(`pulse_http_request_duration_seconds_${suffix}{`) &&
              l.includes('method="POST"') &&
              l.includes('route="/api/v1/tickets"') &&
              l.includes('status_code="201"'),
          )
          ?.split(' ')
          .at(-1) ?? 0,
      );
    return { seconds: series('sum'), count: series('count') };
  }

  async function writes(organizationId, count) {
    const token = signToken({ sub: 'writer', org_id: organizationId, role: 'agent' }, config.jwtSecret, 3600);
    const latencies = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const response = await fetch(`${service.url}/api/v1/tickets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ created_at: new Date().toISOString() }),
      });
      await response.arrayBuffer();
      if (response.status !== 201) throw new Error(`POST /tickets: ${response.status}`);
      latencies.push(performance.now() - started);
      await sleep(Math.max(0, PACE_MS - (performance.now() - started)));
    }
    return latencies;
  }

  // Warm-up of both organizations' paths (first writes create their cache generations, pools warm up).
  await writes(quiet, 10);
  await writes(watched, 10);

  // The service's CPU time (user + system, from /proc), to show what a write's fan-out costs it.
  const cpuMs = () => processCpu(service.pid).cpuMs;
  const cpu = { none: 0, subscribed: 0 };
  const all = { none: [], subscribed: [] };
  const served = { none: { seconds: 0, count: 0 }, subscribed: { seconds: 0, count: 0 } };
  const ratios = [];
  const servedRatios = [];
  const updatesBefore = await updatesSoFar();
  for (let round = 0; round < ROUNDS; round++) {
    const results = {};
    const roundServed = {};
    // Alternate which organization goes first, so a drift over the run weighs on both.
    for (const side of round % 2 === 0 ? ['none', 'subscribed'] : ['subscribed', 'none']) {
      const cpuBefore = cpuMs();
      const timeBefore = await serviceTime();
      results[side] = await writes(side === 'none' ? quiet : watched, WRITES);
      const timeAfter = await serviceTime();
      cpu[side] += cpuMs() - cpuBefore;
      all[side].push(...results[side]);
      const [seconds, count] = [timeAfter.seconds - timeBefore.seconds, timeAfter.count - timeBefore.count];
      roundServed[side] = seconds / count;
      served[side].seconds += seconds;
      served[side].count += count;
    }
    const p50 = (side) => quantile(results[side], 0.5);
    ratios.push(p50('subscribed') / p50('none'));
    servedRatios.push(roundServed.subscribed / roundServed.none);
    console.log(
      `round ${round + 1}: p50 ${p50('none').toFixed(2)} ms without sockets, ${p50('subscribed').toFixed(2)} ms with ${SOCKETS}: ` +
        `${ratios.at(-1).toFixed(3)}×; the service's own mean ${(roundServed.none * 1000).toFixed(2)} against ` +
        `${(roundServed.subscribed * 1000).toFixed(2)} ms: ${servedRatios.at(-1).toFixed(3)}×`,
    );
  }
  await sleep(1000);
  const updates = (await updatesSoFar()) - updatesBefore;
  child.kill();
  await service.stop();

  const sorted = [...ratios].sort((a, b) => a - b);
  const servedSorted = [...servedRatios].sort((a, b) => a - b);
  const servedMs = (side) => `${((served[side].seconds / served[side].count) * 1000).toFixed(2)} ms`;
  const ms = (values, q) => `${quantile(values, q).toFixed(2)} ms`;
  console.log(
    `${ROUNDS} rounds × ${WRITES} writes ${PACE_MS} ms apart per organization; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
  const perWrite = (side) => `${(cpu[side] / all[side].length).toFixed(1)} ms`;
  console.log(
    `  no sockets:            p50 ${ms(all.none, 0.5)}, p99 ${ms(all.none, 0.99)}; service CPU ${perWrite('none')} a write`,
  );
  console.log(
    `  ${SOCKETS} subscribed sockets: p50 ${ms(all.subscribed, 0.5)}, p99 ${ms(all.subscribed, 0.99)}; service CPU ${perWrite('subscribed')} a write`,
  );
  console.log(
    `  median of per-round p50 ratios ${quantile(sorted, 0.5).toFixed(3)}× (${sorted[0].toFixed(3)}–${sorted.at(-1).toFixed(3)}×)`,
  );
  console.log(
    `  the service's own time a write (its request histogram): ${servedMs('none')} without sockets, ` +
      `${servedMs('subscribed')} with; median of per-round ratios ${quantile(servedSorted, 0.5).toFixed(3)}× ` +
      `(${servedSorted[0].toFixed(3)}–${servedSorted.at(-1).toFixed(3)}×)`,
  );
  console.log(
    `  metric_updates received by the sockets: ${updates} of ${ROUNDS * WRITES * SOCKETS} ` +
      '(fewer when a slow write brought two within 250 ms, which are then summed into one message)',
  );
  process.exit(0);
}
