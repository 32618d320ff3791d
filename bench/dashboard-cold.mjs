/**
 * Cold latency of the dashboard over 30 days for an organization with
 * 1,000,000 tickets (BENCH_TICKETS to change), computed from PostgreSQL on
 * every request (use_cache=false, so each one is a full computation): one
 * request at a time, then BENCH_CONCURRENCY at a time (the throughput when
 * several dashboards are computed at once on the analytics pool).
 *
 *   npm run bench:dashboard     (builds, then uses DATABASE_URL / REDIS_URL from .env)
 *
 * BENCH_ORGANIZATION_ID reuses an organization seeded by an earlier run
 * (its id is printed), so two builds can be compared on the same data.
 */
import { randomInt } from 'node:crypto';
import { loadConfig } from '../dist/src/config/app-config.js';
import { signToken } from '../dist/src/auth/token.service.js';
import { seedTickets } from './seed.mjs';
import { quantile, startService } from './service.mjs';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 1_000_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 5);

const config = loadConfig();
const reused = process.env.BENCH_ORGANIZATION_ID;
const organizationId = reused ? Number(reused) : randomInt(1, 2 ** 47);
if (!reused) {
  const loadStarted = performance.now();
  await seedTickets(config.databaseUrl, organizationId, TICKETS);
  console.log(
    `seeded ${TICKETS} tickets over a year in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s (COPY)`,
  );
}

// Every request is a forced recompute: lift the limit on them for the run.
const service = await startService({ RATE_LIMIT_FORCED: '1000000', RATE_LIMIT_REQUESTS: '1000000' });
const headers = {
  authorization: `Bearer ${signToken({ sub: 'bench', org_id: organizationId, role: 'admin' }, config.jwtSecret, 3600)}`,
};
let body;
async function dashboard() {
  const started = performance.now();
  const response = await fetch(`${service.url}/api/v1/analytics/dashboard?period=30d&use_cache=false`, { headers });
  body = await response.json();
  if (response.status !== 200) throw new Error(`dashboard answered ${response.status}: ${JSON.stringify(body)}`);
  return performance.now() - started;
}

const times = [];
const concurrent = [];
let burstSeconds;
try {
  for (let i = 0; i < SAMPLES; i++) times.push(await dashboard());
  const burstStarted = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = 0; i < SAMPLES; i++) concurrent.push(await dashboard());
    }),
  );
  burstSeconds = (performance.now() - burstStarted) / 1000;
} finally {
  service.stop();
}

console.log(
  `organization ${organizationId}: 30-day dashboard, ${body.total_tickets} tickets in range, backlog ${body.current_backlog}`,
);
console.log(
  `cold dashboard (use_cache=false) median ${quantile(times, 0.5).toFixed(1)} ms, p95 ${quantile(times, 0.95).toFixed(1)} ms (${SAMPLES} requests, one at a time)`,
);
console.log(
  `${CONCURRENCY} at a time: median ${quantile(concurrent, 0.5).toFixed(1)} ms, p95 ${quantile(concurrent, 0.95).toFixed(1)} ms, ` +
    `${(concurrent.length / burstSeconds).toFixed(1)} dashboards/s (${concurrent.length} requests)`,
);
