#!/usr/bin/env node
/**
 * Computed reports with prepared statements (src/analytics/prepared-statements.ts)
 * against without: two instances of this build, `ANALYTICS_PREPARED_STATEMENTS=0`
 * and the default, both pinned to the same core (BENCH_SERVICE_CPUS, default
 * 0), in alternating rounds of sequential `use_cache=false` requests: the
 * one-year daily series in UTC and in Asia/Kathmandu, and the 30-day
 * dashboard. Prints p50/p95 of each side and the median of the per-round p50
 * ratios (without / with) with their spread.
 *
 *   npm run build && BENCH_ORG=<a seeded organization> taskset -c 1 node bench/prepared-statements.mjs
 *
 * BENCH_ORG: an organization seeded with bench/seed.mjs (bench/rollups.mjs
 * seeds two and prints their ids). BENCH_ROUNDS (7), BENCH_SAMPLES (40).
 */
import { loadavg } from 'node:os';
import { signToken } from '../dist/src/auth/token.service.js';
import { loadConfig } from '../dist/src/config/app-config.js';
import { quantile, startService } from './service.mjs';

const org = Number(process.env.BENCH_ORG);
if (!Number.isSafeInteger(org) || org <= 0) {
  console.error('BENCH_ORG must name a seeded organization (see bench/seed.mjs)');
  process.exit(2);
}
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 40);
const cpus = process.env.BENCH_SERVICE_CPUS ?? '0';
const config = loadConfig();

const common = { RATE_LIMIT_REQUESTS: '1000000', RATE_LIMIT_FORCED: '1000000' };
const services = {
  without: await startService({ ...common, ANALYTICS_PREPARED_STATEMENTS: '0' }, { cpus }),
  with: await startService(common, { cpus }),
};
const headers = {
  authorization: `Bearer ${signToken({ sub: 'bench', org_id: org, role: 'admin' }, config.jwtSecret, 3600)}`,
};
const end = new Date(Math.ceil(Date.now() / 86_400_000) * 86_400_000);
const start = new Date(end.getTime() - 365 * 86_400_000);
const year = `/api/v1/analytics/time-series/ticket_count?start_date=${start.toISOString()}&end_date=${end.toISOString()}&granularity=daily&use_cache=false`;
const paths = {
  'one-year daily series, UTC': year,
  'one-year daily series, Asia/Kathmandu': `${year}&timezone=Asia%2FKathmandu`,
  '30-day dashboard': '/api/v1/analytics/dashboard?period=30d&use_cache=false',
};

async function timed(service, path, count) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(service.url + path, { headers });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${path} answered ${response.status}`);
    times.push(performance.now() - started);
  }
  return times;
}

const results = Object.fromEntries(Object.keys(paths).map((name) => [name, { without: [], with: [], ratios: [] }]));
const loads = [loadavg()[0]];
try {
  for (const path of Object.values(paths))
    for (const service of Object.values(services)) await timed(service, path, 10);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, path] of Object.entries(paths)) {
      const without = await timed(services.without, path, SAMPLES);
      const withPrepared = await timed(services.with, path, SAMPLES);
      results[name].without.push(...without);
      results[name].with.push(...withPrepared);
      results[name].ratios.push(quantile(without, 0.5) / quantile(withPrepared, 0.5));
    }
    loads.push(loadavg()[0]);
  }
} finally {
  await Promise.all(Object.values(services).map((service) => service.stop()));
}

const ms = (values) => `p50 ${quantile(values, 0.5).toFixed(1)} ms, p95 ${quantile(values, 0.95).toFixed(1)} ms`;
console.log(
  `organization ${org}, ${ROUNDS} rounds × ${SAMPLES}, load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
);
for (const [name, r] of Object.entries(results)) {
  const ratios = [...r.ratios].sort((a, b) => a - b);
  console.log(
    `${name}: without ${ms(r.without)}; with ${ms(r.with)}; ` +
      `median ratio ${quantile(ratios, 0.5).toFixed(2)}× (${ratios[0].toFixed(2)}–${ratios.at(-1).toFixed(2)}×)`,
  );
}
