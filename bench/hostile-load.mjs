/**
 * Hostile load on two instances of the built service sharing one Redis (a
 * redis-server of the bench's own, so it can be frozen), with the figures of
 * "Hold under hostile load":
 *
 *   npm run build && taskset -c 1 node bench/hostile-load.mjs
 *
 * 1. Bursts: 10 × 500 identical cold requests (a one-year daily series over
 *    BENCH_TICKETS tickets), split over the two instances: computations (from
 *    /metrics) and 5xx per burst.
 * 2. Rate limit: 300 concurrent requests at RATE_LIMIT_REQUESTS=50 over the
 *    two instances: how many got through.
 * 3. Redis frozen (SIGSTOP) for 10 s under 100 identical dashboard
 *    requests/s: computations, most computations in flight at once (sampled
 *    from /metrics every 10 ms), 5xx.
 * The services run on core 0 (BENCH_SERVER_CPUS); run this script on another.
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import { loadConfig } from '../dist/src/config/app-config.js';
import { signToken } from '../dist/src/auth/token.service.js';
import { quantile, startService } from './service.mjs';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 50_000);
const SERVER_CPUS = process.env.BENCH_SERVER_CPUS ?? '0';
const YEAR_MS = 365 * 86_400_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const config = loadConfig();

const freePort = () =>
  new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });

const redisPort = await freePort();
const redis = spawn(
  'redis-server',
  ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  {
    stdio: 'ignore',
  },
);
await sleep(300);
const env = {
  REDIS_URL: `redis://127.0.0.1:${redisPort}`,
  RATE_LIMIT_REQUESTS: '50',
  RATE_LIMIT_WINDOW_SECONDS: '3600',
  RATE_LIMIT_FORCED: '1000000',
};
const services = await Promise.all([
  startService(env, { cpus: SERVER_CPUS }),
  startService(env, { cpus: SERVER_CPUS }),
]);

const tokenFor = (organizationId, sub = 'bench') =>
  signToken({ sub, org_id: organizationId, role: 'admin' }, config.jwtSecret, 3600);
const headersFor = (token) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

async function metric(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.split(' ').at(-1));
  return total;
}
const computations = async () =>
  (await Promise.all(services.map((s) => metric(s.url, 'pulse_analytics_computations_total')))).reduce(
    (a, b) => a + b,
    0,
  );

// Load tickets for one organization (each caller below gets its own token subject, so the
// per-caller limit of 50 applies only to the rate-limit part).
const organizationId = randomInt(1, 2 ** 47);
const end = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000);
const start = new Date(end.getTime() - YEAR_MS);
let seed = 7;
const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
for (let offset = 0; offset < TICKETS; offset += 10_000) {
  const tickets = Array.from({ length: Math.min(10_000, TICKETS - offset) }, () => ({
    created_at: new Date(start.getTime() + random() * YEAR_MS).toISOString(),
    priority: ['low', 'medium', 'high', 'urgent'][Math.floor(random() * 4)],
  }));
  const r = await fetch(`${services[0].url}/api/v1/tickets/bulk`, {
    method: 'POST',
    headers: headersFor(tokenFor(organizationId, 'loader')),
    body: JSON.stringify({ tickets }),
  });
  if (r.status !== 200) throw new Error(`bulk load: ${r.status} ${await r.text()}`);
}

// 1. Bursts of identical cold requests; every request its own caller, so no limit applies.
const ONLY = process.env.BENCH_ONLY; // bursts, limit or outage: one part alone
const bursts = [];
for (let burst = 0; burst < (ONLY && ONLY !== 'bursts' ? 0 : 10); burst += 1) {
  // A range of its own per burst: cold.
  const from = new Date(start.getTime() + burst * 86_400_000).toISOString();
  const path = `/api/v1/analytics/time-series/ticket_count?start_date=${from}&end_date=${end.toISOString()}&granularity=daily`;
  const before = await computations();
  const started = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: 500 }, (_, i) =>
      fetch(`${services[i % 2].url}${path}`, {
        headers: headersFor(tokenFor(organizationId, `burst-${burst}-${i}`)),
      }).then(
        async (r) => {
          await r.arrayBuffer();
          return r.status;
        },
        () => 0,
      ),
    ),
  );
  bursts.push({
    computations: (await computations()) - before,
    server_errors: statuses.filter((s) => s >= 500 || s === 0).length,
    ms: Math.round(performance.now() - started),
  });
}

// 2. 300 concurrent requests of one caller at a limit of 50 over two instances.
const limited = [];
for (let round = 0; round < (ONLY && ONLY !== 'limit' ? 0 : 3); round += 1) {
  const token = tokenFor(organizationId, `limited-${round}`);
  const statuses = await Promise.all(
    Array.from({ length: 300 }, (_, i) =>
      fetch(`${services[i % 2].url}/api/v1/analytics/time-series/ticket_count?period=7d`, {
        headers: headersFor(token),
      }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      }),
    ),
  );
  limited.push(statuses.filter((s) => s === 200).length);
}

// 3. Redis frozen for 10 s under 100 identical dashboard requests/s (one caller per request).
const dashboard = '/api/v1/analytics/dashboard?period=30d';
await fetch(`${services[0].url}${dashboard}`, { headers: headersFor(tokenFor(organizationId, 'warm')) });
const outage = { requests: 0, server_errors: 0, latencies: [], most_in_flight: 0, bySecond: [] };
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    const inFlight = await Promise.all(services.map((s) => metric(s.url, 'pulse_analytics_computations_in_flight')));
    outage.most_in_flight = Math.max(outage.most_in_flight, ...inFlight);
    await sleep(10);
  }
})();
const beforeOutage = await computations();
redis.kill('SIGSTOP');
const load = [];
const loadStarted = performance.now();
for (let i = 0; performance.now() - loadStarted < (ONLY && ONLY !== 'outage' ? 0 : 10_000); i += 1) {
  const due = loadStarted + i * (1000 / Number(process.env.BENCH_OUTAGE_RATE ?? 100));
  if (due > performance.now()) await sleep(due - performance.now());
  const sent = performance.now();
  load.push(
    fetch(`${services[i % 2].url}${dashboard}`, { headers: headersFor(tokenFor(organizationId, `outage-${i}`)) }).then(
      async (r) => {
        await r.arrayBuffer();
        outage.latencies.push(performance.now() - sent);
        (outage.bySecond[Math.floor((sent - loadStarted) / 1000)] ??= []).push(performance.now() - sent);
        if (r.status >= 500) outage.server_errors += 1;
      },
      () => (outage.server_errors += 1),
    ),
  );
}
await Promise.all(load);
redis.kill('SIGCONT');
sampling = false;
await sampler;
outage.requests = load.length;
outage.computations = (await computations()) - beforeOutage;

console.log(`bursts: 10 x 500 identical cold requests over two instances (${TICKETS} tickets, one-year daily series)`);
for (const [i, b] of bursts.entries())
  console.log(`  burst ${i + 1}: ${b.computations} computation(s), ${b.server_errors} x 5xx, ${b.ms} ms`);
console.log(`rate limit 50 over two instances, 300 concurrent: ${limited.join(', ')} allowed`);
console.log(
  `Redis frozen 10 s, 100 dashboard requests/s: ${outage.requests} requests, ${outage.computations} computations, ` +
    `most in flight at once ${outage.most_in_flight}, ${outage.server_errors} x 5xx, ` +
    `p50 ${quantile(outage.latencies, 0.5).toFixed(1)} ms, p99 ${quantile(outage.latencies, 0.99).toFixed(1)} ms`,
);
console.log(
  `  p50 by second of the outage: ${outage.bySecond.map((values) => quantile(values, 0.5).toFixed(0)).join(', ')} ms`,
);
await Promise.all(services.map((s) => s.stop()));
redis.kill('SIGKILL');
