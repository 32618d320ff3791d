/**
 * A computed read's fixed cost, two builds side by side: sequential one-year
 * daily series with `use_cache=false` (per zone in BENCH_ZONES), against the
 * build of another checkout (BENCH_BASE: its own `dist/` and
 * `node_modules/`, e.g. a `git worktree` of the commit before a change) and
 * this one, each started afresh on core 0 (BENCH_SERVICE_CPUS) in rounds that
 * alternate which goes first. Per round and build: p50, p95 and the service's
 * CPU time per request (from /proc, all its threads), after BENCH_WARMUP
 * untimed requests. Reports the median of the per-round p50 ratios
 * (base / this) with their spread.
 *
 *   npm run build && BENCH_ORG=2001 BENCH_BASE=../pulse-before taskset -c 1 node bench/computed-read.mjs
 *
 * BENCH_ORG is an organization seeded with bench/seed.mjs; BENCH_BASE_NODE_ARGS
 * and BENCH_NODE_ARGS (space-separated) give each build's node flags, so the
 * same build can be compared with itself under other flags (BENCH_BASE=.).
 */
import { loadavg } from 'node:os';
import { loadConfig } from '../dist/src/config/app-config.js';
import { signToken } from '../dist/src/auth/token.service.js';
import { processCpu, quantile, startService } from './service.mjs';

const ORG = Number(process.env.BENCH_ORG);
const BASE = process.env.BENCH_BASE;
if (!ORG || !BASE) throw new Error('BENCH_ORG (a seeded organization) and BENCH_BASE (another checkout) are required');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 600);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 200);
const ZONES = (process.env.BENCH_ZONES ?? 'UTC,Asia/Kathmandu').split(',');
const CPUS = process.env.BENCH_SERVICE_CPUS ?? '0';
const builds = {
  base: { cwd: BASE, nodeArgs: (process.env.BENCH_BASE_NODE_ARGS ?? '').split(' ').filter(Boolean) },
  this: { cwd: undefined, nodeArgs: (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean) },
};

const config = loadConfig();
const headers = {
  authorization: `Bearer ${signToken({ sub: 'bench', org_id: ORG, role: 'admin' }, config.jwtSecret, 3600)}`,
};
const end = new Date(Math.ceil(Date.now() / 86_400_000) * 86_400_000);
const start = new Date(end.getTime() - 365 * 86_400_000);
const pathOf = (zone) =>
  `/api/v1/analytics/time-series/ticket_count?start_date=${start.toISOString()}&end_date=${end.toISOString()}` +
  `&granularity=daily&timezone=${encodeURIComponent(zone)}&use_cache=false`;

async function get(url) {
  const response = await fetch(url, { headers });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
}

const results = Object.fromEntries(ZONES.map((zone) => [zone, { base: [], this: [] }]));
for (let round = 0; round < ROUNDS; round++) {
  for (const name of round % 2 === 0 ? ['base', 'this'] : ['this', 'base']) {
    const service = await startService(
      { RATE_LIMIT_REQUESTS: '1000000', RATE_LIMIT_FORCED: '1000000' },
      { cpus: CPUS, ...builds[name] },
    );
    for (const zone of ZONES) {
      const url = service.url + pathOf(zone);
      for (let i = 0; i < WARMUP; i++) await get(url);
      const cpuBefore = processCpu(service.pid).cpuMs;
      const times = [];
      for (let i = 0; i < SAMPLES; i++) {
        const started = performance.now();
        await get(url);
        times.push(performance.now() - started);
      }
      results[zone][name].push({
        p50: quantile(times, 0.5),
        p95: quantile(times, 0.95),
        cpu: (processCpu(service.pid).cpuMs - cpuBefore) / SAMPLES,
      });
    }
    await service.stop();
  }
}

const fixed = (values, digits = 2) => values.map((v) => v.toFixed(digits)).join(' ');
console.log(`organization ${ORG}, ${ROUNDS} alternating rounds × ${SAMPLES} (after ${WARMUP}); base ${BASE}`);
for (const zone of ZONES) {
  const { base, this: current } = results[zone];
  console.log(`one-year daily series, use_cache=false, ${zone}:`);
  for (const [name, runs] of [
    ['base', base],
    ['this', current],
  ]) {
    console.log(
      `  ${name.padEnd(4)} p50 ${fixed(runs.map((r) => r.p50))} | p95 ${fixed(runs.map((r) => r.p95))} | ` +
        `CPU ms/request ${fixed(runs.map((r) => r.cpu))}`,
    );
  }
  const ratios = base.map((b, i) => b.p50 / current[i].p50);
  const cpuRatios = base.map((b, i) => b.cpu / current[i].cpu);
  console.log(
    `  p50 base/this: median ${quantile(ratios, 0.5).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}); ` +
      `CPU base/this ${quantile(cpuRatios, 0.5).toFixed(3)}`,
  );
}
console.log(
  `load average at the end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(', ')}`,
);
