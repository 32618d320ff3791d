#!/usr/bin/env node
/**
 * How the cost of an answer grows with the organization's history: the same
 * `use_cache=false` requests against organizations seeded with 100,000,
 * 1,000,000 and 10,000,000 tickets over a year (bench/seed.mjs), one
 * instance pinned to BENCH_SERVICE_CPUS (default 0), in rounds that visit
 * the organizations in turn. Prints each query's p50/p95 per organization and
 * the median of the per-round p50 ratios between neighbours (10× the data).
 *
 *   npm run build && BENCH_ORGS=<100k org>,<1M org>,<10M org> taskset -c 1 node bench/growth.mjs
 *
 * Seed them first, e.g. `node -e "import('./bench/seed.mjs').then((s) =>
 * s.seedTickets(process.env.DATABASE_URL, 3001, 100000))"`.
 * BENCH_ROUNDS (5), BENCH_SAMPLES (20).
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { signToken } from '../dist/src/auth/token.service.js';
import { loadConfig } from '../dist/src/config/app-config.js';
import { quantile, startService } from './service.mjs';

const orgs = (process.env.BENCH_ORGS ?? '').split(',').filter(Boolean).map(Number);
if (orgs.length < 2 || orgs.some((org) => !Number.isSafeInteger(org) || org <= 0)) {
  console.error('BENCH_ORGS must list seeded organizations from the smallest to the largest, e.g. 3001,2001,3010');
  process.exit(2);
}
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 20);
const config = loadConfig();

const db = new pg.Client({ connectionString: config.databaseUrl });
await db.connect();
const sizes = [];
for (const org of orgs) {
  const { rows } = await db.query('SELECT count(*)::int AS n FROM tickets WHERE organization_id = $1', [org]);
  sizes.push(rows[0].n);
}
await db.end();

const service = await startService(
  { RATE_LIMIT_REQUESTS: '1000000', RATE_LIMIT_FORCED: '1000000' },
  { cpus: process.env.BENCH_SERVICE_CPUS ?? '0' },
);
const end = new Date(Math.ceil(Date.now() / 86_400_000) * 86_400_000);
const start = new Date(end.getTime() - 365 * 86_400_000);
const year = `/api/v1/analytics/time-series/ticket_count?start_date=${start.toISOString()}&end_date=${end.toISOString()}&granularity=daily&use_cache=false`;
const queries = {
  'one-year daily series, UTC': year,
  'one-year daily series, Asia/Kathmandu': `${year}&timezone=Asia%2FKathmandu`,
  '30-day dashboard': '/api/v1/analytics/dashboard?period=30d&use_cache=false',
  '90-day performance, approximate': '/api/v1/analytics/performance?period=90d&accuracy=approximate&use_cache=false',
};

async function timed(org, path, count) {
  const headers = {
    authorization: `Bearer ${signToken({ sub: 'bench', org_id: org, role: 'admin' }, config.jwtSecret, 3600)}`,
  };
  const times = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(service.url + path, { headers });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${path} for ${org} answered ${response.status}`);
    times.push(performance.now() - started);
  }
  return times;
}

const times = Object.fromEntries(Object.keys(queries).map((q) => [q, orgs.map(() => [])]));
const ratios = Object.fromEntries(Object.keys(queries).map((q) => [q, orgs.slice(1).map(() => [])]));
const loads = [loadavg()[0]];
try {
  for (const path of Object.values(queries)) for (const org of orgs) await timed(org, path, 5);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, path] of Object.entries(queries)) {
      const p50s = [];
      for (const [i, org] of orgs.entries()) {
        const t = await timed(org, path, SAMPLES);
        times[name][i].push(...t);
        p50s.push(quantile(t, 0.5));
      }
      for (let i = 1; i < orgs.length; i++) ratios[name][i - 1].push(p50s[i] / p50s[i - 1]);
    }
    loads.push(loadavg()[0]);
  }
} finally {
  await service.stop();
}

const spread = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `${quantile(sorted, 0.5).toFixed(2)}× (${sorted[0].toFixed(2)}–${sorted.at(-1).toFixed(2)}×)`;
};
console.log(
  `organizations ${orgs.map((org, i) => `${org} (${sizes[i].toLocaleString('en-US')} tickets)`).join(', ')}; ` +
    `${ROUNDS} rounds × ${SAMPLES}; load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
);
for (const name of Object.keys(queries)) {
  const perOrg = times[name].map((t) => `p50 ${quantile(t, 0.5).toFixed(1)} / p95 ${quantile(t, 0.95).toFixed(1)} ms`);
  const steps = ratios[name].map((r, i) => `${(sizes[i + 1] / sizes[i]).toFixed(0)}× the tickets: ${spread(r)}`);
  console.log(`${name}: ${perOrg.join(' | ')}; p50 growth ${steps.join(', ')}`);
}
